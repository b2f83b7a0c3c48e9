import { useEffect, useState } from 'preact/hooks';
import type { Attempt, DeliveryWithAttempts, StoredEventView } from '../lib/api-types';
import { dateTime, duration, prettyJson, relativeTime } from '../lib/format';
import { href } from '../lib/route';
import type { Api } from './api-client';
import { BreakableUrl, ErrorBanner, Notice, PageHeading, StateBadge } from './common';
import { LIVE_INTERVAL_MS } from './deliveries-view';
import { useNow, usePageTitle, usePolling } from './hooks';
import { useReadOnly } from './portal-context';

/** One delivery: its state, every attempt, the payload, and a retry button. Refreshed live. */
export function DeliveryDetail({ api, id }: { api: Api; id: string }) {
  usePageTitle('Delivery');
  const readOnly = useReadOnly();
  const [delivery, setDelivery] = useState<DeliveryWithAttempts | null>(null);
  const [event, setEvent] = useState<StoredEventView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [eventError, setEventError] = useState<unknown>(null);
  const [retryError, setRetryError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const now = useNow(2000);

  usePolling(
    async () => {
      try {
        setDelivery(await api.getDelivery(id));
        setError(null);
      } catch (err) {
        setError(err);
      }
    },
    LIVE_INTERVAL_MS,
    [api, id],
  );
  const eventId = delivery?.eventId;
  useEffect(() => {
    if (!eventId) return;
    api.getEvent(eventId).then(setEvent, setEventError);
  }, [api, eventId]);

  async function retry() {
    setBusy(true);
    setRetryError(null);
    setNotice(null);
    try {
      await api.retryDelivery(id);
      setNotice('Retry queued: the new attempt appears below in a moment.');
      setDelivery(await api.getDelivery(id));
    } catch (err) {
      setRetryError(err);
    } finally {
      setBusy(false);
    }
  }

  const d = delivery;
  return (
    <main id="main">
      <p class="breadcrumb">
        <a href={href({ name: 'deliveries', filter: {} })}>Deliveries</a> /
      </p>
      <div class="page-head">
        <PageHeading>Delivery {d && <code class="delivery-event-type">{d.eventType}</code>}</PageHeading>
        {d && <StateBadge state={d.state} />}
      </div>
      <ErrorBanner error={error} />
      {!d && !error && <p role="status">Loading…</p>}
      {d && (
        <>
          <section class="card" aria-labelledby="summary-h">
            <h2 id="summary-h" class="visually-hidden">
              Summary
            </h2>
            <dl class="config">
              <dt>State</dt>
              <dd class="delivery-state" data-state={d.state}>
                {d.state}
                {d.failureReason && <span class="muted"> · {d.failureReason}</span>}
              </dd>
              <dt>Endpoint</dt>
              <dd>
                {d.endpoint ? (
                  <a href={href({ name: 'endpoint', id: d.endpoint.id })}>
                    <BreakableUrl url={d.endpoint.url} />
                  </a>
                ) : (
                  <span class="muted">{d.endpointId} (deleted)</span>
                )}
              </dd>
              <dt>Event</dt>
              <dd>
                <a href={href({ name: 'event', id: d.eventId })}>
                  <code>{d.eventId}</code>
                </a>
              </dd>
              <dt>Delivery ID</dt>
              <dd>
                <code>{d.id}</code>
              </dd>
              <dt>Created</dt>
              <dd>
                {dateTime(d.createdAt)} <span class="muted">({relativeTime(d.createdAt, now)})</span>
              </dd>
              {d.nextAttemptAt ? (
                <>
                  <dt>Next attempt</dt>
                  <dd>
                    {dateTime(d.nextAttemptAt)} <span class="muted">({relativeTime(d.nextAttemptAt, now)})</span>
                  </dd>
                </>
              ) : null}
            </dl>
            {!readOnly && (
              <div class="button-row">
                <button type="button" class="primary" onClick={retry} disabled={busy}>
                  {busy ? 'Retrying…' : 'Retry now'}
                </button>
              </div>
            )}
            <ErrorBanner error={retryError} title="Retry" />
            {notice && <Notice>{notice}</Notice>}
          </section>

          <section aria-labelledby="attempts-h">
            <h2 id="attempts-h">
              Attempts <span class="muted">({d.attemptCount})</span>
            </h2>
            {d.attempts.length === 0 && <p class="card empty">No attempt yet.</p>}
            <ol class="plain-list attempt-list">
              {d.attempts.map((a) => (
                <AttemptCard key={`${a.attempt}-${a.startedAt}`} attempt={a} />
              ))}
            </ol>
          </section>

          <section class="card" aria-labelledby="payload-h">
            <h2 id="payload-h">Payload</h2>
            <ErrorBanner error={eventError} />
            {event ? (
              <pre class="code payload" tabIndex={0} aria-label="Event payload">
                {prettyJson(event.payload)}
              </pre>
            ) : (
              !eventError && <p role="status">Loading payload…</p>
            )}
          </section>
        </>
      )}
    </main>
  );
}

function AttemptCard({ attempt: a }: { attempt: Attempt }) {
  const headers = Object.entries(a.requestHeaders ?? {});
  return (
    <li class={`card attempt attempt-${a.outcome}`} data-outcome={a.outcome}>
      <h3>
        Attempt {a.attempt}{' '}
        <span class={`badge badge-${a.outcome === 'delivered' ? 'delivered' : a.outcome === 'retry' ? 'retrying' : 'failed'}`}>
          {a.outcome}
        </span>
      </h3>
      <dl class="attempt-facts">
        <div>
          <dt>Status</dt>
          <dd class="attempt-status">{a.statusCode !== undefined ? `HTTP ${a.statusCode}` : '—'}</dd>
        </div>
        <div>
          <dt>Error</dt>
          <dd>
            {a.errorKind ?? '—'}
            {a.errorMessage && <span class="muted"> · {a.errorMessage}</span>}
          </dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{duration(a.durationMs)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{dateTime(a.startedAt)}</dd>
        </div>
      </dl>
      <details>
        <summary>Request headers ({headers.length})</summary>
        <p class="hint">As sent, with secrets and authorization redacted by the server.</p>
        <pre class="code" tabIndex={0}>
          {headers.map(([k, v]) => `${k}: ${v}`).join('\n')}
        </pre>
      </details>
      <details open={a.outcome !== 'delivered'}>
        <summary>Response body{a.responseBody ? ` (${a.responseBody.length} characters)` : ' (empty)'}</summary>
        <pre class="code" tabIndex={0}>
          {a.responseBody ? prettyJson(a.responseBody) : '(empty)'}
        </pre>
      </details>
    </li>
  );
}
