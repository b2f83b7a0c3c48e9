import { useState } from 'preact/hooks';
import { relativeTime } from '../lib/format';
import { href } from '../lib/route';
import { providerLabel } from '../lib/source-form';
import type { Api } from './api-client';
import { ErrorBanner, Notice, PageHeading } from './common';
import { takeFlash } from './flash';
import { useNow, usePageTitle } from './hooks';
import { usePagedListing } from './paged-listing';
import { useReadOnly } from './portal-context';

/** The subscriber's inbound sources: who sends, whether a request has passed verification yet, what they publish. */
export function SourcesView({ api }: { api: Api }) {
  usePageTitle('Sources');
  const readOnly = useReadOnly();
  const { items: sources, error, hasMore, loadMore } = usePagedListing((cursor) => api.listSources(cursor), [api]);
  const [flash] = useState(takeFlash);
  const now = useNow();

  return (
    <main id="main">
      <div class="page-head">
        <PageHeading>Sources</PageHeading>
        {!readOnly && (
          <a class="button primary" href={href({ name: 'source-new' })}>
            New source
          </a>
        )}
      </div>
      <p class="muted">
        Webhooks other systems send you (GitHub, Stripe, Twilio, …), verified as each signs them and published as events to your endpoints.
      </p>
      {flash && <Notice>{flash}</Notice>}
      <ErrorBanner error={error} />
      {sources === null && !error && <p role="status">Loading sources…</p>}
      {sources !== null && sources.length === 0 && (
        <div class="card empty">
          <p>No sources yet. Create one, then give its URL to the sender.</p>
        </div>
      )}
      <ul class="plain-list endpoint-list" aria-label="Sources">
        {(sources ?? []).map((s) => (
          <li key={s.id} class="card source-card" data-source-id={s.id}>
            <div class="endpoint-title">
              <a href={href({ name: 'source', id: s.id })} class="endpoint-url">
                {s.name}
              </a>
              <span class={`badge badge-${s.status}`}>{s.status}</span>
              {s.secretUnreadable && <span class="badge badge-failed">secret unreadable: ask the operator</span>}
            </div>
            <dl class="config">
              <dt>Sender</dt>
              <dd>{providerLabel(s.verification.type)}</dd>
              <dt>Publishes</dt>
              <dd>
                <code>{s.eventType}</code>
              </dd>
              <dt>Verified</dt>
              <dd>{s.verifiedAt ? relativeTime(s.verifiedAt, now) : 'not yet: no request has passed its check'}</dd>
            </dl>
            <p class="card-links">
              <a href={href({ name: 'source', id: s.id })}>URL and request history</a>
            </p>
          </li>
        ))}
      </ul>
      {hasMore && (
        <button type="button" onClick={loadMore}>
          Load more sources
        </button>
      )}
    </main>
  );
}
