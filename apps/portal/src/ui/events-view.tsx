import { useState } from 'preact/hooks';
import type { DeliveryState, EventSummary, EventTypeInfo } from '../lib/api-types';
import { dateTime, relativeTime } from '../lib/format';
import { href } from '../lib/route';
import type { Api } from './api-client';
import { ErrorBanner, Notice, PageHeading } from './common';
import { useNow, usePageTitle, usePolling } from './hooks';
import { useReadOnly } from './portal-context';

const STATES: DeliveryState[] = ['delivered', 'failed', 'retrying', 'pending'];

/**
 * Recent events, newest first, with how their deliveries stand and a Replay button: delivering an
 * event again to every endpoint that matches it now (endpoints made since included), after a
 * receiver was fixed. Refreshed every 3 s.
 */
export function EventsView({ api, type, catalog }: { api: Api; type?: string; catalog: EventTypeInfo[] }) {
  usePageTitle('Events');
  const readOnly = useReadOnly();
  const [events, setEvents] = useState<EventSummary[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [older, setOlder] = useState<EventSummary[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [draft, setDraft] = useState(type ?? '');
  const now = useNow();

  const load = async () => {
    try {
      const page = await api.listEvents({ type });
      setEvents(page.data);
      if (older.length === 0) setCursor(page.nextCursor);
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  usePolling(load, 3000, [api, type]);

  async function loadOlder() {
    if (!cursor) return;
    try {
      const page = await api.listEvents({ type, cursor });
      setOlder((o) => [...o, ...page.data]);
      setCursor(page.nextCursor);
    } catch (err) {
      setError(err);
    }
  }

  async function replay(e: EventSummary) {
    setBusy(e.id);
    setNotice(null);
    setError(null);
    try {
      const r = await api.replayEvent(e.id);
      const total = r.created.length + r.requeued.length;
      setNotice(
        `${e.type} replayed: ${total} ${total === 1 ? 'delivery' : 'deliveries'} queued${r.created.length ? ` (${r.created.length} to endpoints it had not reached)` : ''}.`,
      );
      await load();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  }

  const seen = new Set((events ?? []).map((e) => e.id));
  const shown = [...(events ?? []), ...older.filter((e) => !seen.has(e.id))];
  return (
    <main id="main">
      <div class="page-head">
        <PageHeading>Events</PageHeading>
      </div>
      <form
        class="card filters"
        aria-label="Filter events"
        onSubmit={(e) => {
          e.preventDefault();
          location.hash = href({ name: 'events', ...(draft.trim() ? { type: draft.trim() } : {}) });
        }}
      >
        <div class="field">
          <label for="events-type">Event type</label>
          <input
            id="events-type"
            list="events-type-options"
            placeholder="e.g. incident.*"
            value={draft}
            onInput={(e) => setDraft(e.currentTarget.value)}
          />
          <datalist id="events-type-options">
            {catalog.map((t) => (
              <option key={t.type} value={t.type} />
            ))}
          </datalist>
        </div>
        <div class="button-row">
          <button type="submit" class="primary">
            Apply filter
          </button>
          <a class="button" href={href({ name: 'events' })}>
            Clear
          </a>
        </div>
      </form>
      {notice && <Notice>{notice}</Notice>}
      <ErrorBanner error={error} />
      {events === null && !error && <p role="status">Loading events…</p>}
      {events !== null && shown.length === 0 && <div class="card empty">No events{type ? ' of this type' : ' yet'}.</div>}
      {shown.length > 0 && (
        <table class="event-table">
          <caption class="visually-hidden">Events, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Event type</th>
              <th scope="col">Published</th>
              <th scope="col">Deliveries</th>
              {!readOnly && (
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {shown.map((e) => (
              <tr key={e.id} data-event-id={e.id}>
                <td data-label="Event type">
                  <a href={href({ name: 'event', id: e.id })}>
                    <code>{e.type}</code>
                  </a>
                </td>
                <td data-label="Published" class="nowrap">
                  <time dateTime={new Date(e.createdAt).toISOString()} title={dateTime(e.createdAt)}>
                    {relativeTime(e.createdAt, now)}
                  </time>
                </td>
                <td data-label="Deliveries" class="outcomes">
                  <Outcomes outcomes={e.outcomes} />
                </td>
                {!readOnly && (
                  <td class="row-actions">
                    <button type="button" onClick={() => replay(e)} disabled={busy !== null} aria-label={`Replay ${e.type} ${e.id}`}>
                      {busy === e.id ? 'Replaying…' : 'Replay'}
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" onClick={loadOlder}>
          Load older events
        </button>
      )}
    </main>
  );
}

/** "2 delivered · 1 failed", or that no endpoint took the event. */
export function Outcomes({ outcomes }: { outcomes?: Record<DeliveryState, number> }) {
  if (!outcomes) return <span class="muted">—</span>;
  const parts = STATES.filter((s) => outcomes[s] > 0);
  if (parts.length === 0) return <span class="muted">no matching endpoint</span>;
  return (
    <span class="outcome-list">
      {parts.map((s) => (
        <span key={s} class={`outcome outcome-${s}`} data-state={s}>
          {outcomes[s]} {s}
        </span>
      ))}
    </span>
  );
}
