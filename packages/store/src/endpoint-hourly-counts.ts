import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';
import type { ChainableCommander } from 'ioredis';
import type { Keys } from './keys';

/**
 * This store's write (endpoint-hourly-counts.lua: `EndpointHourlyCounts.count`). It runs inside
 * DeliveryStore's attempt script, record-attempts.lua, called by EndpointHealth.record, so an
 * attempt is counted in the round trip that records it and never for a deleted endpoint.
 */
export const ENDPOINT_HOURLY_COUNTS_LUA = readFileSync(join(__dirname, 'endpoint-hourly-counts.lua'), 'utf8');

export const HOUR_MS = 3_600_000;

/**
 * Hours of attempt counts an endpoint keeps: the portal's chart shows the last 24 whole hours, and
 * 48 lets a client read the day before as well. 2 fields an hour, 96 in all, stay under Redis's
 * hash-max-listpack-entries (128), so the hash stays compact (a few hundred bytes an endpoint).
 */
export const HOURS_KEPT = 48;

/** One hour of an endpoint's attempts. */
export interface HourCount {
  /** Epoch ms of the hour's start. */
  start: number;
  /** Attempts that ended in this hour with a 2xx. */
  delivered: number;
  /** Attempts that ended in this hour otherwise (an error status, a timeout, a refused connection), retried or not. */
  failed: number;
}

/**
 * Per endpoint, its attempts per hour in which they ended, delivered and failed: what the portal's
 * chart shows, counted as attempts are recorded rather than by reading deliveries (the chart used to
 * page up to 1,000 of them per endpoint a minute, ~17 ms of the API's CPU a page). Attempts of test
 * sends count (they reach the receiver and count in its health); attempts never sent (endpoint
 * deleted or disabled, event expired) do not. The key is `keys.endpointHourlyCounts` (a hash:
 * `<hour>d` and `<hour>f` per hour since the epoch), forgotten in EndpointStore.delete's transaction.
 */
export class EndpointHourlyCounts {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** The hours from the one holding `since` to the one before `until` (epoch ms), oldest first, in one read. */
  async read(endpointId: string, since: number, until: number): Promise<HourCount[]> {
    const first = Math.floor(since / HOUR_MS);
    const last = Math.ceil(until / HOUR_MS) - 1;
    if (last < first) return [];
    const fields: string[] = [];
    for (let hour = first; hour <= last; hour++) fields.push(`${hour}d`, `${hour}f`);
    const values = await this.redis.hmget(this.keys.endpointHourlyCounts(endpointId), ...fields);
    return Array.from({ length: last - first + 1 }, (_, i) => ({
      start: (first + i) * HOUR_MS,
      delivered: Number(values[i * 2] ?? 0),
      failed: Number(values[i * 2 + 1] ?? 0),
    }));
  }

  /** Forgets a deleted endpoint's counts in the caller's transaction; the health tombstone keeps them from coming back. */
  appendDelete(multi: ChainableCommander, endpointId: string): void {
    multi.del(this.keys.endpointHourlyCounts(endpointId));
  }
}
