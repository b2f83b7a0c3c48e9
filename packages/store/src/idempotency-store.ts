import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import type { Keys } from './keys';

/** How long an idempotency key holds: a repeated publish within this window enqueues nothing. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;

/**
 * A claim whose event has not been written may belong to a publish still in progress for this long;
 * after that it was abandoned (the API or Redis died between the claim and the event's transaction,
 * so the release never ran) and the next publish with the key takes it over. Found by
 * test/reliability/redis-outage: before, such a key answered 409 for the whole 24 h window.
 */
export const IDEMPOTENCY_CLAIM_PENDING_MS = 30_000;

/** Replaces a claim only if it still names the abandoned event. KEYS: claim; ARGV: expected, new, ttlMs */
const TAKE_OVER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', tonumber(ARGV[3]))
  return 1
end
return 0`;

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/** The creation time newId() puts in the first 10 characters after the prefix; NaN if unreadable. */
function idTimeMs(id: string): number {
  const time = id.slice(id.indexOf('_') + 1, id.indexOf('_') + 11);
  let ms = 0;
  for (const ch of time) {
    const digit = CROCKFORD.indexOf(ch);
    if (digit < 0) return NaN;
    ms = ms * 32 + digit;
  }
  return time.length === 10 ? ms : NaN;
}

export class IdempotencyStore {
  /** A claim never outlives its event: an expired event cannot be mistaken for an abandoned claim. */
  private readonly ttlMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    retentionMs: number = IDEMPOTENCY_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.ttlMs = Math.max(1, Math.min(IDEMPOTENCY_WINDOW_MS, retentionMs));
  }

  private key(subscriberId: string, idempotencyKey: string): string {
    return this.keys.idempotency(subscriberId, createHash('sha256').update(idempotencyKey).digest('hex'));
  }

  /** Claims the key for `eventId`; returns the event id that already holds it, or null when the claim is ours. */
  async claim(subscriberId: string, idempotencyKey: string, eventId: string): Promise<string | null> {
    const key = this.key(subscriberId, idempotencyKey);
    const [[, set], [, current]] = (await this.redis
      .multi()
      .set(key, eventId, 'PX', this.ttlMs, 'NX')
      .get(key)
      .exec()) as [[Error | null, string | null], [Error | null, string | null]];
    if (set === 'OK' || current === null) return set === 'OK' ? null : this.claim(subscriberId, idempotencyKey, eventId);
    if (!(await this.isAbandoned(current))) return current;
    const taken = (await this.redis.eval(TAKE_OVER, 1, key, current, eventId, this.ttlMs)) as number;
    return taken === 1 ? null : this.redis.get(key);
  }

  /** Gives a claim back when the publish it guarded did not go through. */
  async release(subscriberId: string, idempotencyKey: string, eventId: string): Promise<void> {
    const key = this.key(subscriberId, idempotencyKey);
    if ((await this.redis.get(key)) === eventId) await this.redis.del(key);
  }

  /** The holder's event was never written, and the publish that claimed it is long over. */
  private async isAbandoned(holder: string): Promise<boolean> {
    const claimedAt = idTimeMs(holder);
    if (!(claimedAt < this.now() - IDEMPOTENCY_CLAIM_PENDING_MS)) return false;
    return (await this.redis.exists(this.keys.event(holder))) === 0;
  }
}
