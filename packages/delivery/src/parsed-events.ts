import type { StoredEvent } from '@hookrelay/contracts';
import { BytesBoundedCache } from './bytes-bounded-cache';

/**
 * Events this worker has read, parsed, kept by id (an event never changes once stored), so that
 * the other deliveries of a fan-out ask Redis only whether the event still exists instead of
 * reading its JSON again (DeliveryStore.loadForAttempt's `heldEvent`). Read per attempt, one
 * subscriber's 1 MiB event sent to 100 endpoints cost Redis ~100 MiB of output and the worker
 * ~100 parses, and another subscriber's deliveries waited hundreds of ms behind them
 * (docs/performance.md). Bounded in bytes: the least recently used go first, and an event over
 * a quarter of the bound is not kept.
 */
export class ParsedEvents {
  private readonly events: BytesBoundedCache<StoredEvent>;

  /** @param maxBytes events kept at most, in bytes as `bytesOf` counts them. */
  constructor(maxBytes = DEFAULT_PARSED_EVENT_BYTES) {
    this.events = new BytesBoundedCache(maxBytes);
  }

  /** The event, when kept; it becomes the most recently used. */
  get(id: string): StoredEvent | undefined {
    return this.events.get(id);
  }

  /**
   * Keeps an event just read (unless it is over a quarter of the bound), making room by the least
   * recently used: of the subscriber holding most first, while that is over a quarter of the bound.
   */
  keep(event: StoredEvent): void {
    this.events.keep(event.id, event, bytesOf(event), event.subscriberId);
  }

  /** Bytes kept now, as `bytesOf` counts them (for tests and the curious). */
  get size(): number {
    return this.events.size;
  }
}

/**
 * An event's memory, at most: V8 keeps a string of characters outside Latin-1 at two bytes each,
 * so every character is counted as two (measuring the string would read all of it), plus the
 * object and its short fields.
 */
export function bytesOf(event: StoredEvent): number {
  return 2 * (event.payload.length + event.id.length + event.subscriberId.length + event.type.length) + 64;
}

/** 64 MiB: 32 events of the largest payload (1 MiB), enough for the fan-outs a worker has in flight at once. */
export const DEFAULT_PARSED_EVENT_BYTES = 64 * 1024 * 1024;
