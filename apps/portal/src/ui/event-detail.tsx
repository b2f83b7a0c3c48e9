import { useEffect, useState } from 'preact/hooks';
import type { Endpoint, StoredEventView } from '../lib/api-types';
import { dateTime, prettyJson, relativeTime } from '../lib/format';
import { href } from '../lib/route';
import type { Api } from './api-client';
import { BreakableUrl, ErrorBanner, Notice, PageHeading, StateBadge } from './common';
import { useNow, usePageTitle, usePolling } from './hooks';
import { useReadOnly } from './portal-context';

/** One event: its payload, every delivery it fanned out to (replays included), and Replay. */
export function EventDetail({ api, id }: { api: Api; id: string }) {
  usePageTitle('Event');
  const readOnly = useReadOnly();
  const [event, setEvent] = useState<StoredEventView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [endpoints, setEndpoints] = useState<Endpoint[]>([]);
  const now = useNow();
  useEffect(() => {
    api.listEndpoints().then(
      (p) => setEndpoints(p.data),
      () => undefined,
    );
  }, [api]);
  const urlOf = new Map(endpoints.map((e) => [e.id, e.url]));

  const load = async () => {
    try {
      setEvent(await api.getEvent(id));
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  usePolling(load, 2000, [api, id]);

  async function replay() {
    setBusy(true);
    setNotice(null);
    try {
      const r = await api.replayEvent(id);
      const total = r.created.length + r.requeued.length;
      setNotice(`Replayed: ${total} ${total === 1 ? 'delivery' : 'deliveries'} queued.`);
      await load();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main">
      <p class="breadcrumb">
        <a href={href({ name: 'events' })}>Events</a> /
      </p>
      <div class="page-head">
        <PageHeading>Event {event && <code>{event.type}</code>}</PageHeading>
        {event && !readOnly && (
          <button type="button" class="primary" onClick={replay} disabled={busy}>
            {busy ? 'Replaying…' : 'Replay'}
          </button>
        )}
      </div>
      {notice && <Notice>{notice}</Notice>}
      <ErrorBanner error={error} />
      {!event && !error && <p role="status">Loading…</p>}
      {event && (
        <>
          <section class="card">
            <dl class="config">
              <dt>Event ID</dt>
              <dd>
                <code>{event.id}</code>
              </dd>
              <dt>Published</dt>
              <dd>
                {dateTime(event.createdAt)} <span class="muted">({relativeTime(event.createdAt, now)})</span>
              </dd>
            </dl>
          </section>
          <section aria-labelledby="event-deliveries-h">
            <h2 id="event-deliveries-h">Deliveries</h2>
            {(event.deliveries ?? []).length === 0 && <p class="card empty">No endpoint matched this event.</p>}
            <ul class="plain-list event-deliveries">
              {(event.deliveries ?? []).map((d) => (
                <li key={d.id} class="card" data-delivery-id={d.id} data-state={d.state}>
                  <a href={href({ name: 'delivery', id: d.id })}>
                    <BreakableUrl url={urlOf.get(d.endpointId) ?? d.endpointId} />
                  </a>{' '}
                  <StateBadge state={d.state} />{' '}
                  <span class="muted">
                    {d.attempts} {d.attempts === 1 ? 'attempt' : 'attempts'}
                    {d.lastStatusCode !== undefined && ` · HTTP ${d.lastStatusCode}`}
                  </span>
                </li>
              ))}
            </ul>
          </section>
          <section class="card" aria-labelledby="event-payload-h">
            <h2 id="event-payload-h">Payload</h2>
            <pre class="code payload" tabIndex={0} aria-label="Event payload">
              {prettyJson(event.payload)}
            </pre>
          </section>
        </>
      )}
    </main>
  );
}
