import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import type { Keys } from './keys';

/** How long an idempotency key holds: a repeated publish within this window enqueues nothing. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;

export class IdempotencyStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  private key(subscriberId: string, idempotencyKey: string): string {
    return this.keys.idempotency(subscriberId, createHash('sha256').update(idempotencyKey).digest('hex'));
  }

  /** Claims the key for `eventId`; returns the event id that already holds it, or null when the claim is ours. */
  async claim(subscriberId: string, idempotencyKey: string, eventId: string): Promise<string | null> {
    const key = this.key(subscriberId, idempotencyKey);
    const [[, set], [, current]] = (await this.redis
      .multi()
      .set(key, eventId, 'PX', IDEMPOTENCY_WINDOW_MS, 'NX')
      .get(key)
      .exec()) as [[Error | null, string | null], [Error | null, string | null]];
    return set === 'OK' ? null : current;
  }

  /** Gives a claim back when the publish it guarded did not go through. */
  async release(subscriberId: string, idempotencyKey: string, eventId: string): Promise<void> {
    const key = this.key(subscriberId, idempotencyKey);
    if ((await this.redis.get(key)) === eventId) await this.redis.del(key);
  }
}
