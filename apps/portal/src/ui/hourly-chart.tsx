import { useState } from 'preact/hooks';
import { hourlyStats, type HourlyStats } from '../lib/hourly-buckets';
import type { Api } from './api-client';
import { usePolling } from './hooks';

/** The last 24 h of one endpoint's attempts, read from GET .../endpoints/:eid/stats: one request per refresh. */
export function useHourlyStats(
  api: Api,
  endpointId: string,
  refreshMs: number,
): { stats: HourlyStats | null; error: unknown; refresh: () => void } {
  const [state, setState] = useState<{ stats: HourlyStats | null; error: unknown }>({ stats: null, error: null });
  // Bumped to read again at once (after a test send, a retry or a recovery), not on the next poll.
  const [round, setRound] = useState(0);
  usePolling(
    async () => {
      try {
        setState({ stats: hourlyStats(await api.endpointStats(endpointId)), error: null });
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

/** Delivered attempts (green, from the bottom) and failed ones (red, above) per hour, as a small inline SVG. */
export function HourlyChart({ stats, compact = false }: { stats: HourlyStats | null; compact?: boolean }) {
  if (!stats) return <div class={`chart chart-loading${compact ? ' chart-compact' : ''}`} aria-hidden="true" />;
  const { buckets } = stats;
  const width = 240;
  const height = compact ? 36 : 72;
  const slot = width / Math.max(1, buckets.length);
  const barWidth = Math.max(1, slot - 2);
  const peak = Math.max(1, ...buckets.map((b) => b.delivered + b.failed));
  const scale = (n: number) => (n / peak) * (height - 2);
  const summary =
    `Last 24 hours: ${stats.delivered} attempts delivered, ${stats.failed} failed` +
    (stats.worst ? `; most failures at ${hourLabel(stats.worst.start)} (${stats.worst.failed})` : '');
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
        {!compact && <span class="hint"> · attempts per hour, last 24 h</span>}
      </figcaption>
    </figure>
  );
}
