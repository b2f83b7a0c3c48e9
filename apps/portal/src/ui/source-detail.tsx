import { useEffect, useState } from 'preact/hooks';
import type { Source, SourceRequest } from '../lib/api-types';
import { dateTime, relativeTime } from '../lib/format';
import { href } from '../lib/route';
import { providerLabel } from '../lib/source-form';
import type { Api } from './api-client';
import { BreakableUrl, Dialog, ErrorBanner, Notice, PageHeading } from './common';
import { setFlash, takeFlash } from './flash';
import { useNow, usePageTitle, usePolling } from './hooks';
import { useReadOnly } from './portal-context';

const OUTCOMES = ['published', 'ignored', 'rejected', 'duplicate'] as const;

/**
 * One source: the URL to give its sender, what it checks and publishes, and every request it got,
 * newest first, with why it was refused or ignored (the sender itself is told nothing). Refreshed
 * every 2 s, so a first request from the sender shows up while the person watches.
 */
export function SourceDetail({ api, id, outcome }: { api: Api; id: string; outcome?: string }) {
  usePageTitle('Source');
  const readOnly = useReadOnly();
  const [source, setSource] = useState<Source | null>(null);
  const [requests, setRequests] = useState<SourceRequest[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [older, setOlder] = useState<SourceRequest[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [flash] = useState(takeFlash);
  const [confirming, setConfirming] = useState(false);
  const now = useNow();

  useEffect(() => {
    setOlder([]);
  }, [outcome]);

  usePolling(
    async () => {
      try {
        const [s, page] = await Promise.all([api.getSource(id), api.listSourceRequests(id, { outcome })]);
        setSource(s);
        setRequests(page.data);
        if (older.length === 0) setCursor(page.nextCursor);
        setError(null);
      } catch (err) {
        setError(err);
      }
    },
    2000,
    [api, id, outcome],
  );

  async function loadOlder() {
    if (!cursor) return;
    try {
      const page = await api.listSourceRequests(id, { outcome, cursor });
      setOlder((o) => [...o, ...page.data]);
      setCursor(page.nextCursor);
    } catch (err) {
      setError(err);
    }
  }

  async function remove() {
    try {
      await api.deleteSource(id);
      setFlash('Source deleted: its URL answers 404 from now on.');
      location.hash = href({ name: 'sources' });
    } catch (err) {
      setError(err);
      setConfirming(false);
    }
  }

  if (!source) {
    return (
      <main id="main">
        <PageHeading>Source</PageHeading>
        <ErrorBanner error={error} />
        {!error && <p role="status">Loading…</p>}
      </main>
    );
  }

  // A single source is only shown when its secrets open (else the API answers secret_unreadable).
  const url = `${location.origin}${source.ingestUrl ?? ''}`;
  const seen = new Set((requests ?? []).map((r) => r.id));
  const shown = [...(requests ?? []), ...older.filter((r) => !seen.has(r.id))];
  const v = source.verification;
  return (
    <main id="main">
      <p class="breadcrumb">
        <a href={href({ name: 'sources' })}>Sources</a> /
      </p>
      <div class="page-head">
        <PageHeading>{source.name}</PageHeading>
        <span class={`badge badge-${source.status}`} data-testid="source-status">
          {source.status}
        </span>
      </div>
      {flash && <Notice>{flash}</Notice>}
      <ErrorBanner error={error} />
      <section class="card" aria-labelledby="ingest-h">
        <h2 id="ingest-h">URL for {providerLabel(v.type)}</h2>
        {source.ingestUrlHidden ? (
          <p class="hint" data-testid="ingest-url-hidden">
            Not shown in a read-only session: anyone holding the URL can reach the source, like a password.
          </p>
        ) : (
          <>
            <p class="ingest-url">
              <BreakableUrl url={url} />
            </p>
            <p class="hint">
              Anyone holding it can reach the source, so keep it like a password; requests must still pass the {providerLabel(v.type)}{' '}
              check.{' '}
              {v.type === 'twilio'
                ? 'Twilio signs the URL it calls: give it the server’s public URL (HOOKRELAY_PUBLIC_URL) followed by the same path.'
                : ''}
            </p>
          </>
        )}
        <dl class="config">
          <dt>Verification</dt>
          <dd>
            {providerLabel(v.type)}
            {v.configured ? <span class="muted"> (secret set, not shown)</span> : null}
            {v.toleranceSeconds !== undefined && <span class="muted"> · tolerance {v.toleranceSeconds} s</span>}
            {v.splitEvents !== undefined && (
              <span class="muted"> · {v.splitEvents ? 'one event per batch element' : 'a batch is one event'}</span>
            )}
          </dd>
          <dt>Verified</dt>
          <dd>{source.verifiedAt ? `${relativeTime(source.verifiedAt, now)} (${dateTime(source.verifiedAt)})` : 'not yet'}</dd>
          <dt>Publishes</dt>
          <dd>
            <code>{source.eventType}</code>
          </dd>
          <dt>Duplicates</dt>
          <dd>
            {source.dedupe
              ? `the same ${source.dedupe.header} within ${Math.round(source.dedupe.windowSeconds / 3600)} h is published once`
              : 'no header-based deduplication'}
          </dd>
          <dt>Body read as</dt>
          <dd>{source.format}</dd>
        </dl>
        {!readOnly && (
          <div class="button-row">
            <button type="button" class="danger" onClick={() => setConfirming(true)}>
              Delete source
            </button>
          </div>
        )}
      </section>

      <section aria-labelledby="requests-h">
        <div class="page-head">
          <h2 id="requests-h">Requests</h2>
          <label class="checkbox" for="request-outcome">
            Show
            <select
              id="request-outcome"
              value={outcome ?? ''}
              onChange={(e) => {
                const chosen = e.currentTarget.value;
                location.hash = href({ name: 'source', id, ...(chosen ? { outcome: chosen } : {}) });
              }}
            >
              <option value="">all</option>
              {OUTCOMES.map((o) => (
                <option key={o} value={o}>
                  {o}
                </option>
              ))}
            </select>
          </label>
        </div>
        {requests !== null && shown.length === 0 && <div class="card empty">No requests{outcome ? ` ${outcome}` : ' yet'}.</div>}
        {shown.length > 0 && (
          <table class="event-table request-table">
            <caption class="visually-hidden">Requests to this source, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Answer</th>
                <th scope="col">Outcome</th>
                <th scope="col">Reason or event</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => (
                <tr key={r.id} data-request-id={r.id} data-outcome={r.outcome}>
                  <td data-label="Received" class="nowrap">
                    <time dateTime={new Date(r.at).toISOString()} title={dateTime(r.at)}>
                      {relativeTime(r.at, now)}
                    </time>
                  </td>
                  <td data-label="Answer" class="nowrap">
                    {r.method} → {r.status}
                  </td>
                  <td data-label="Outcome">
                    <span class={`outcome outcome-${r.outcome}`}>{r.outcome}</span>
                  </td>
                  <td data-label="Detail">
                    <span class="request-detail">
                      {r.reason && <code class="request-reason">{r.reason}</code>}
                      {(r.eventIds ?? (r.eventId ? [r.eventId] : [])).map((eventId) => (
                        <a key={eventId} class="request-event" href={href({ name: 'event', id: eventId })}>
                          {eventId}
                        </a>
                      ))}
                      {r.eventIds && r.eventCount !== undefined && r.eventCount > r.eventIds.length && (
                        <span class="request-more">
                          and {r.eventCount - r.eventIds.length} more {r.eventCount - r.eventIds.length === 1 ? 'event' : 'events'}
                        </span>
                      )}
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {cursor && (
          <button type="button" onClick={loadOlder}>
            Load older requests
          </button>
        )}
      </section>

      <Dialog open={confirming} title="Delete this source?" onClose={() => setConfirming(false)}>
        <p>Its URL stops working at once (404) and its request history is deleted. Events it published stay.</p>
        <div class="button-row">
          <button type="button" class="danger" onClick={remove}>
            Delete source
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </main>
  );
}
