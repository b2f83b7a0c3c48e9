import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';
import type { ChainableCommander } from 'ioredis';
import type { Keys } from './keys';

/**
 * This store's writes (endpoint-health.lua: `EndpointHealth.record` and `EndpointHealth.streak`).
 * They run inside DeliveryStore's attempt script, record-attempts.lua, which loads them ahead of
 * itself, so an endpoint's health moves in the same atomic step as the attempt that changes it.
 */
export const ENDPOINT_HEALTH_LUA = readFileSync(join(__dirname, 'endpoint-health.lua'), 'utf8');

export interface EndpointHealth {
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  /** Deliveries that failed for good in a row (the circuit breaker's count). */
  consecutiveFailures: number;
  /** When the current failure streak began. */
  failingSince: number | null;
  /** Share of the last (up to) 100 attempts that succeeded; null before the first attempt. */
  successRate: number | null;
  sampleSize: number;
}

/**
 * Per-endpoint health: what the API shows and what the circuit breaker decides on. This class reads
 * and resets it, and forgets it in EndpointStore.delete's transaction; it is written with each attempt that `DeliveryStore.recordAttempt` records
 * with a `health` outcome, by record-attempts.lua calling endpoint-health.lua's
 * `EndpointHealth.record` (ENDPOINT_HEALTH_LUA) in the same round trip. The keys are
 * `keys.endpointHealth` (a hash: lastSuccessAt, lastFailureAt, consecutiveFailures, failingSince,
 * streak) and `keys.endpointOutcomes` (the last 100 outcomes, '1' or '0', newest first).
 */
export class EndpointHealthStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async get(endpointId: string): Promise<EndpointHealth> {
    const [[, hash], [, outcomes]] = (await this.redis
      .pipeline()
      .hgetall(this.keys.endpointHealth(endpointId))
      .lrange(this.keys.endpointOutcomes(endpointId), 0, 99)
      .exec()) as [[Error | null, Record<string, string>], [Error | null, string[]]];
    const ok = outcomes.filter((o) => o === '1').length;
    const num = (v: string | undefined) => (v === undefined ? null : Number(v));
    return {
      lastSuccessAt: num(hash.lastSuccessAt),
      lastFailureAt: num(hash.lastFailureAt),
      consecutiveFailures: Number(hash.consecutiveFailures ?? 0),
      failingSince: num(hash.failingSince),
      successRate: outcomes.length ? ok / outcomes.length : null,
      sampleSize: outcomes.length,
    };
  }

  /** Re-enabling an endpoint starts its count afresh. */
  async resetStreak(endpointId: string): Promise<void> {
    const key = this.keys.endpointHealth(endpointId);
    // A new streak: a delivery counted in the old one counts again if it fails again (endpoint-health.lua).
    await this.redis.multi().hset(key, 'consecutiveFailures', 0).hdel(key, 'failingSince').hincrby(key, 'streak', 1).exec();
  }

  /**
   * Forgets a deleted endpoint's health in the caller's transaction (EndpointStore.delete), leaving
   * the hash as a `deleted` tombstone for `retentionMs`: endpoint-health.lua records nothing for it,
   * so an attempt ending after the delete cannot bring the keys back without an expiry.
   */
  appendDelete(multi: ChainableCommander, endpointId: string, retentionMs: number): void {
    const health = this.keys.endpointHealth(endpointId);
    multi.del(health, this.keys.endpointOutcomes(endpointId)).hset(health, 'deleted', '1').pexpire(health, retentionMs);
  }
}
