import { useState } from 'preact/hooks';
import type { Delivery } from '../lib/api-types';
import { chartWindow, hourlyBuckets, type HourlyStats } from '../lib/hourly-buckets';
import type { Api } from './api-client';
import { usePolling } from './hooks';

/** At most this many deliveries are read per chart (10 pages of 100); the chart says so when it stops there. */
const MAX_PAGES = 10;

/** The last 24 h of one endpoint's deliveries, read from GET .../deliveries?endpointId&since, counted here. */
export function useHourlyStats(
  api: Api,
  endpointId: string,
  refreshMs: number,
): { stats: HourlyStats | null; truncated: boolean; error: unknown; refresh: () => void } {
  const [state, setState] = useState<{ stats: HourlyStats | null; truncated: boolean; error: unknown }>({
    stats: null,
    truncated: false,
    error: null,
  });
  // Bumped to count again at once (after a test send, a retry or a recovery), not on the next poll.
  const [round, setRound] = useState(0);
  usePolling(
    async () => {
      const now = Date.now();
      const { since } = chartWindow(now);
      const all: Delivery[] = [];
      let cursor: string | undefined;
      let truncated = false;
      try {
        for (let page = 0; ; page++) {
          const res = await api.listDeliveries({ endpointId, since, cursor, limit: 100 });
          all.push(...res.data);
          if (!res.nextCursor) break;
          if (page + 1 >= MAX_PAGES) {
            truncated = true;
            break;
          }
          cursor = res.nextCursor;
        }
        setState({ stats: hourlyBuckets(all, now), truncated, error: null });
      } catch (error) {
        setState((s) => ({ ...s, error }));
      }
    },
    refreshMs,
    [api, endpointId, round],
  );
  return { ...state, refresh: () => setRound((r) => r + 1) };
}

const hourLabel = (ms: number) => new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });

/** Successes (green, from the bottom) and failures (red, above) per hour, as a small inline SVG. */
export function HourlyChart({ stats, truncated, compact = false }: { stats: HourlyStats | null; truncated?: boolean; compact?: boolean }) {
  if (!stats) return <div class={`chart chart-loading${compact ? ' chart-compact' : ''}`} aria-hidden="true" />;
  const { buckets } = stats;
  const width = 240;
  const height = compact ? 36 : 72;
  const slot = width / buckets.length;
  const barWidth = Math.max(1, slot - 2);
  const peak = Math.max(1, ...buckets.map((b) => b.delivered + b.failed));
  const scale = (n: number) => (n / peak) * (height - 2);
  const summary =
    `Last 24 hours: ${stats.delivered} delivered, ${stats.failed} failed or retrying` +
    (stats.pending ? `, ${stats.pending} pending` : '') +
    (stats.worst ? `; most failures at ${hourLabel(stats.worst.start)} (${stats.worst.failed})` : '') +
    (truncated ? '; counted over the latest 1000 deliveries only' : '');
  return (
    <figure class={`chart${compact ? ' chart-compact' : ''}`}>
      <svg viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label={summary} focusable="false">
        <line x1="0" y1={height - 0.5} x2={width} y2={height - 0.5} class="chart-axis" />
        {buckets.map((b, i) => {
          const ok = scale(b.delivered);
          const bad = scale(b.failed);
          const x = i * slot + 1;
          return (
            <g key={b.start}>
              <title>{`${hourLabel(b.start)}: ${b.delivered} delivered, ${b.failed} failed`}</title>
              {ok > 0 && <rect x={x} y={height - 1 - ok} width={barWidth} height={ok} class="chart-ok" />}
              {bad > 0 && <rect x={x} y={height - 1 - ok - bad} width={barWidth} height={bad} class="chart-bad" />}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <span class="legend legend-ok">{stats.delivered} delivered</span> <span class="legend legend-bad">{stats.failed} failed</span>
        {!compact && <span class="hint"> · per hour, last 24 h{truncated ? ' (latest 1000)' : ''}</span>}
      </figcaption>
    </figure>
  );
}
