import type { SignatureConfig, StoredEvent } from '@hookrelay/contracts';
import { bodyForScheme } from '@hookrelay/signing';
import { BytesBoundedCache } from './bytes-bounded-cache';

/**
 * Bodies of the signature schemes that re-serialise the payload (x-signature: Zenduty signs
 * Python's `json.dumps` of the parsed payload), made once per event and kept by its id, which names
 * one payload for good. Made on every attempt instead, one subscriber's 1 MiB payload of emoji
 * fanned out to 40 such endpoints took ~100 ms of the shared worker per attempt, 4.8 s for the
 * event, and another subscriber's deliveries waited seconds behind it. Bounded in bytes: the
 * oldest go first, and a body over a quarter of the bound is made each time rather than kept.
 */
export class SchemeBodies {
  private readonly bodies: BytesBoundedCache<string>;

  /**
   * @param maxBytes bodies kept at most, in bytes (they are ASCII: a byte per character).
   * @param make how a body is made (tests count the calls).
   */
  constructor(
    maxBytes = DEFAULT_SCHEME_BODY_BYTES,
    private readonly make: typeof bodyForScheme = bodyForScheme,
  ) {
    this.bodies = new BytesBoundedCache(maxBytes);
  }

  bodyFor(config: SignatureConfig, event: Pick<StoredEvent, 'id' | 'payload'>): string {
    if (config.scheme !== 'x-signature') return event.payload;
    const kept = this.bodies.get(event.id);
    if (kept !== undefined) return kept;
    const body = this.make(config, event.payload);
    this.bodies.keep(event.id, body, body.length);
    return body;
  }

  /** Bytes kept now (for tests and the curious). */
  get size(): number {
    return this.bodies.size;
  }
}

/** 32 MB: ten of the largest bodies (a 1 MiB payload of emoji is ~3 MB once escaped), or many small ones. */
export const DEFAULT_SCHEME_BODY_BYTES = 32 * 1024 * 1024;
