import { createHash } from 'node:crypto';
import type { Keys } from './keys';

/** How long an idempotency key holds: a repeated publish within this window enqueues nothing. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;

/**
 * Idempotency keys: where one is kept, and for how long. A key is taken by the script that writes
 * its event (create-event.lua through DeliveryStore.writeEvents), never on its own: so a key is held
 * exactly when its event exists, and a crash between two steps cannot leave a key without an event
 * (before, such a key answered 409 for up to 30 s, or for the whole window).
 */
export class IdempotencyStore {
  /** A key never outlives its event: it expires with the retention period when that is shorter. */
  readonly ttlMs: number;

  constructor(
    private readonly keys: Keys,
    retentionMs: number = IDEMPOTENCY_WINDOW_MS,
  ) {
    this.ttlMs = Math.max(1, Math.min(IDEMPOTENCY_WINDOW_MS, retentionMs));
  }

  /**
   * The Redis key of a subscriber's idempotency key: its SHA-256 over UTF-8, so any length or
   * character costs the same. The API accepts only well-formed Unicode, for which UTF-8 is
   * one-to-one (a lone surrogate would become U+FFFD and collide with it and with other ones).
   */
  keyOf(subscriberId: string, idempotencyKey: string): string {
    return this.keys.idempotency(subscriberId, createHash('sha256').update(idempotencyKey, 'utf8').digest('hex'));
  }
}
