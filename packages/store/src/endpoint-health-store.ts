import type Redis from 'ioredis';
import type { Keys } from './keys';

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
 * Per-endpoint health: what the API shows and what the circuit breaker decides on. It is written
 * with each attempt by DeliveryStore.recordAttempt (one round trip); this class reads and resets it.
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
    // A new streak: a delivery counted in the old one counts again if it fails again (record-attempts.lua).
    await this.redis.multi().hset(key, 'consecutiveFailures', 0).hdel(key, 'failingSince').hincrby(key, 'streak', 1).exec();
  }

  async delete(endpointId: string): Promise<void> {
    await this.redis.del(this.keys.endpointHealth(endpointId), this.keys.endpointOutcomes(endpointId));
  }
}
