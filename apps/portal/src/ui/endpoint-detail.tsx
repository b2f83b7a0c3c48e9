import { useState } from 'preact/hooks';
import type { Endpoint, EventTypeInfo } from '../lib/api-types';
import { dateTime, millisHint, percent, relativeTime } from '../lib/format';
import { href } from '../lib/route';
import type { Api } from './api-client';
import { BreakableUrl, ErrorBanner, Notice, PageHeading, StateBadge } from './common';
import { EndpointActions } from './endpoint-actions';
import { takeFlash, takeSecretOnce } from './flash';
import { HourlyChart, useHourlyStats } from './hourly-chart';
import { useNow, usePageTitle, usePolling } from './hooks';
import { SecretOnce } from './secret-once';

/** One endpoint: its health, 24 h chart, configuration and every action on it. */
export function EndpointDetail({ api, id, catalog }: { api: Api; id: string; catalog: EventTypeInfo[] }) {
  usePageTitle('Endpoint');
  const [endpoint, setEndpoint] = useState<Endpoint | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [flash] = useState(takeFlash);
  // Just created (or its scheme changed): its secret, shown this once.
  const [newSecret] = useState(() => takeSecretOnce(id));
  const now = useNow();
  const chart = useHourlyStats(api, id, 10_000);

  const reload = async () => {
    try {
      setEndpoint(await api.getEndpoint(id));
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  usePolling(reload, 3000, [api, id]);
  /** After a test send or a recovery: health and chart now, not on their next poll. */
  const refresh = async () => {
    chart.refresh();
    await reload();
  };

  if (!endpoint) {
    return (
      <main id="main">
        <PageHeading>Endpoint</PageHeading>
        {flash && <Notice>{flash}</Notice>}
        <ErrorBanner error={error} />
        {!error && <p role="status">Loading…</p>}
        <a href={href({ name: 'endpoints' })}>Back to endpoints</a>
      </main>
    );
  }
  const e = endpoint;
  const h = e.health;
  return (
    <main id="main">
      <p class="breadcrumb">
        <a href={href({ name: 'endpoints' })}>Endpoints</a> /
      </p>
      <div class="page-head">
        <PageHeading>
          <BreakableUrl url={e.url} class="endpoint-url" />
        </PageHeading>
        <StateBadge state={e.status} />
      </div>
      {flash && <Notice>{flash}</Notice>}
      {newSecret && (
        <div class="card">
          <SecretOnce secret={newSecret} title="Your signing secret" />
        </div>
      )}
      <ErrorBanner error={error} />
      {e.description && <p>{e.description}</p>}
      {e.status === 'disabled' && (
        <p class="warn">
          Disabled {e.disabledAt ? relativeTime(e.disabledAt, now) : ''}
          {e.disabledReason ? `: ${e.disabledReason}` : ''}
        </p>
      )}

      <section class="card" aria-labelledby="health-h">
        <h2 id="health-h">Health</h2>
        <dl class="health">
          <div>
            <dt>Last success</dt>
            <dd title={dateTime(h?.lastSuccessAt)}>{relativeTime(h?.lastSuccessAt ?? null, now)}</dd>
          </div>
          <div>
            <dt>Last failure</dt>
            <dd title={dateTime(h?.lastFailureAt)}>{relativeTime(h?.lastFailureAt ?? null, now)}</dd>
          </div>
          <div class={(h?.consecutiveFailures ?? 0) > 0 ? 'is-failing' : ''}>
            <dt>Consecutive failures</dt>
            <dd>{h?.consecutiveFailures ?? 0}</dd>
          </div>
          <div>
            <dt>Success rate</dt>
            <dd>
              {percent(h?.successRate)}
              {h && h.sampleSize > 0 && <span class="muted"> of last {h.sampleSize} attempts</span>}
            </dd>
          </div>
        </dl>
        <HourlyChart stats={chart.stats} />
        <ErrorBanner error={chart.error} title="Chart" />
      </section>

      <EndpointActions api={api} endpoint={e} catalog={catalog} onChanged={refresh} />

      <section class="card" aria-labelledby="config-h">
        <h2 id="config-h">Configuration</h2>
        <dl class="config">
          <dt>ID</dt>
          <dd>
            <code>{e.id}</code>
          </dd>
          <dt>Event types</dt>
          <dd class="chips">
            {e.eventTypes.map((t) => (
              <code key={t} class="chip">
                {t}
              </code>
            ))}
          </dd>
          <dt>Signature</dt>
          <dd>
            {e.signature.scheme}
            {e.signature.scheme === 'x-hub-signature' && ` (${e.signature.algorithm}${e.signature.prefix ? ', with prefix' : ''})`}
            {e.secretRotation && <span class="muted"> · previous secret signs until {dateTime(e.secretRotation.retiringUntil)}</span>}
          </dd>
          <dt>Custom headers</dt>
          <dd>
            {Object.keys(e.headers).length === 0
              ? 'none'
              : Object.entries(e.headers).map(([k, v]) => (
                  <div key={k}>
                    <code>
                      {k}: {v}
                    </code>
                  </div>
                ))}
          </dd>
          <dt>Authentication</dt>
          <dd>
            {e.auth.type}
            {e.auth.username && ` · user ${e.auth.username}`}
            {e.auth.header && ` · header ${e.auth.header}`}
            {e.auth.clientId && ` · client ${e.auth.clientId}`}
            {e.auth.region && ` · ${e.auth.service} in ${e.auth.region}`}
            {e.auth.configured && <span class="muted"> (secret set, write-only)</span>}
          </dd>
          <dt>Retry policy</dt>
          <dd>
            {e.retry.maxRetries} retries, {e.retry.backoff} {millisHint(String(e.retry.intervalMs))} apart
          </dd>
          <dt>Timeout</dt>
          <dd>{millisHint(String(e.timeoutMs))}</dd>
          <dt>Verification</dt>
          <dd>{e.verify}</dd>
          <dt>Created</dt>
          <dd>{dateTime(e.createdAt)}</dd>
        </dl>
      </section>
    </main>
  );
}
