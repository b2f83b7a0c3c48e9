import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';
import type { Keys } from './keys';

const TAKE_PUBLISH_RATE = readFileSync(join(__dirname, 'take-publish-rate-1.lua'), 'utf8');

type RateRedis = Redis & { hookrelayTakePublishRate(key: string, nowMs: number, perSecond: number, events: number): Promise<number> };

/** Null when admitted, else how long the publisher should wait. */
export type PublishRateVerdict = null | { retryAfterMs: number };

/**
 * A subscriber's events-per-second limit, counted in Redis so that every API process shares it
 * (take-publish-rate-1.lua: GCRA with a second's worth of burst; a batch counts each event).
 */
export class PublishRateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {
    if (!('hookrelayTakePublishRate' in redis))
      redis.defineCommand('hookrelayTakePublishRate', { numberOfKeys: 1, lua: TAKE_PUBLISH_RATE });
  }

  /** Counts `events` against `perSecond` (a positive whole number) at `nowMs`. */
  async take(subscriberId: string, events: number, perSecond: number, nowMs: number): Promise<PublishRateVerdict> {
    const waitMs = await (this.redis as RateRedis).hookrelayTakePublishRate(
      this.keys.subscriberPublishRate(subscriberId),
      nowMs,
      perSecond,
      events,
    );
    return waitMs > 0 ? { retryAfterMs: waitMs } : null;
  }
}
