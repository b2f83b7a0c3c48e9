import { useState } from 'preact/hooks';
import type { Endpoint } from '../lib/api-types';
import { percent, relativeTime } from '../lib/format';
import { href } from '../lib/route';
import type { Api } from './api-client';
import { BreakableUrl, ErrorBanner, Notice, PageHeading, StateBadge } from './common';
import { takeFlash } from './flash';
import { HourlyChart, useHourlyStats } from './hourly-chart';
import { useNow, usePageTitle } from './hooks';
import { usePagedListing } from './paged-listing';
import { useReadOnly } from './portal-context';

/** The subscriber's endpoints with their health, refreshed every few seconds. */
export function EndpointsView({ api }: { api: Api }) {
  usePageTitle('Endpoints');
  const readOnly = useReadOnly();
  const { items: endpoints, error, hasMore, loadMore } = usePagedListing((cursor) => api.listEndpoints(cursor), [api]);
  const [flash] = useState(takeFlash);
  const now = useNow();

  return (
    <main id="main">
      <div class="page-head">
        <PageHeading>Endpoints</PageHeading>
        {!readOnly && (
          <a class="button primary" href={href({ name: 'endpoint-new' })}>
            New endpoint
          </a>
        )}
      </div>
      {flash && <Notice>{flash}</Notice>}
      <ErrorBanner error={error} />
      {endpoints === null && !error && <p role="status">Loading endpoints…</p>}
      {endpoints !== null && endpoints.length === 0 && (
        <div class="card empty">
          <p>No endpoints yet. Create one to start receiving webhooks.</p>
        </div>
      )}
      <ul class="plain-list endpoint-list" aria-label="Endpoints">
        {(endpoints ?? []).map((e) => (
          <EndpointCard key={e.id} api={api} endpoint={e} now={now} />
        ))}
      </ul>
      {hasMore && (
        <button type="button" onClick={loadMore}>
          Load more endpoints
        </button>
      )}
    </main>
  );
}

function EndpointCard({ api, endpoint: e, now }: { api: Api; endpoint: Endpoint; now: number }) {
  // A minute is fresh enough for a glance, and keeps a long list from paging deliveries all the time.
  const chart = useHourlyStats(api, e.id, 60_000);
  const h = e.health;
  const failing = (h?.consecutiveFailures ?? 0) > 0;
  return (
    <li class={`card endpoint-card${e.status === 'disabled' ? ' is-disabled' : ''}`} data-endpoint-id={e.id}>
      <div class="endpoint-title">
        <a href={href({ name: 'endpoint', id: e.id })} class="endpoint-url">
          <BreakableUrl url={e.url} />
        </a>
        <StateBadge state={e.status} />
      </div>
      {e.description && <p class="muted">{e.description}</p>}
      {e.status === 'disabled' && e.disabledReason && <p class="warn">Disabled: {e.disabledReason}</p>}
      <p class="chips" aria-label="Event types">
        {e.eventTypes.map((t) => (
          <code key={t} class="chip">
            {t}
          </code>
        ))}
      </p>
      <dl class="health">
        <div>
          <dt>Last success</dt>
          <dd>{relativeTime(h?.lastSuccessAt ?? null, now)}</dd>
        </div>
        <div class={failing ? 'is-failing' : ''}>
          <dt>Consecutive failures</dt>
          <dd>{h?.consecutiveFailures ?? 0}</dd>
        </div>
        <div>
          <dt>Success rate</dt>
          <dd>
            {percent(h?.successRate)}
            {h && h.sampleSize > 0 && <span class="muted"> of last {h.sampleSize}</span>}
          </dd>
        </div>
      </dl>
      <HourlyChart stats={chart.stats} compact />
      <p class="card-links">
        <a href={href({ name: 'endpoint', id: e.id })}>Details and actions</a>
        <a href={href({ name: 'deliveries', filter: { endpointId: e.id } })}>Deliveries</a>
      </p>
    </li>
  );
}
