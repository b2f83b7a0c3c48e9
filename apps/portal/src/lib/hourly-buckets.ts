import type { EndpointStats } from './api-types';

export interface HourBucket {
  /** Epoch ms of the hour's start. */
  start: number;
  /** Attempts that ended in this hour with a 2xx. */
  delivered: number;
  /** Attempts that ended in this hour otherwise, whether or not their delivery will be retried. */
  failed: number;
}

export interface HourlyStats {
  buckets: HourBucket[];
  delivered: number;
  failed: number;
  /** The hour with the most failed attempts, when there were any. */
  worst: HourBucket | null;
}

/**
 * The chart's numbers from GET .../endpoints/:eid/stats: the API counts attempts per hour as they
 * are recorded, so the chart no longer reads the endpoint's deliveries to count them here (which
 * read up to 1,000 of them a minute per endpoint shown and stopped there). A failed attempt counts
 * in its hour whether it will be retried or not: a receiver that is down all night shows up as red
 * columns while its deliveries are still retrying.
 */
export function hourlyStats(stats: Pick<EndpointStats, 'hours'>): HourlyStats {
  const buckets = stats.hours.map((h) => ({ start: h.start, delivered: h.delivered, failed: h.failed }));
  let worst: HourBucket | null = null;
  for (const b of buckets) if (b.failed > 0 && (!worst || b.failed > worst.failed)) worst = b;
  return {
    buckets,
    delivered: buckets.reduce((n, b) => n + b.delivered, 0),
    failed: buckets.reduce((n, b) => n + b.failed, 0),
    worst,
  };
}
