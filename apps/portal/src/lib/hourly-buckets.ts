import type { DeliveryState } from './api-types';

export const HOUR_MS = 3_600_000;

export interface HourBucket {
  /** Epoch ms of the hour's start. */
  start: number;
  delivered: number;
  /** Deliveries that failed for good or are still retrying after a failed attempt. */
  failed: number;
  /** Not attempted yet. */
  pending: number;
}

export interface HourlyStats {
  buckets: HourBucket[];
  delivered: number;
  failed: number;
  pending: number;
  /** The hour with the most failures, when there were any. */
  worst: HourBucket | null;
}

/** The window the chart covers: `hours` whole hours ending with the current one. */
export function chartWindow(nowMs: number, hours = 24): { since: number; until: number } {
  const currentHour = Math.floor(nowMs / HOUR_MS) * HOUR_MS;
  return { since: currentHour - (hours - 1) * HOUR_MS, until: currentHour + HOUR_MS - 1 };
}

/**
 * Counts deliveries per hour of creation over the last `hours` hours (the current hour last). A
 * retrying delivery counts as a failure: it has already failed at least once, and a receiver that is
 * down all night shows up as a red column before its deliveries run out of retries.
 */
export function hourlyBuckets(
  deliveries: ReadonlyArray<{ createdAt: number; state: DeliveryState }>,
  nowMs: number,
  hours = 24,
): HourlyStats {
  const { since } = chartWindow(nowMs, hours);
  const buckets: HourBucket[] = Array.from({ length: hours }, (_, i) => ({
    start: since + i * HOUR_MS,
    delivered: 0,
    failed: 0,
    pending: 0,
  }));
  for (const d of deliveries) {
    const index = Math.floor((d.createdAt - since) / HOUR_MS);
    const bucket = buckets[index];
    if (!bucket) continue;
    if (d.state === 'delivered') bucket.delivered++;
    else if (d.state === 'failed' || d.state === 'retrying') bucket.failed++;
    else bucket.pending++;
  }
  let worst: HourBucket | null = null;
  for (const b of buckets) if (b.failed > 0 && (!worst || b.failed > worst.failed)) worst = b;
  return {
    buckets,
    delivered: sum(buckets, 'delivered'),
    failed: sum(buckets, 'failed'),
    pending: sum(buckets, 'pending'),
    worst,
  };
}

function sum(buckets: HourBucket[], field: 'delivered' | 'failed' | 'pending'): number {
  return buckets.reduce((n, b) => n + b[field], 0);
}
