import type { SignatureConfig, StoredEvent } from '@hookrelay/contracts';
import { bodyForScheme } from '@hookrelay/signing';
import { BytesBoundedCache } from './bytes-bounded-cache';

export interface SchemeBodiesOptions {
  /** Re-serialised bodies kept at most, in bytes. @defaultValue DEFAULT_SCHEME_BODY_BYTES (32 MB) */
  maxBytes?: number;
  /** Encoded payloads kept at most, in bytes. @defaultValue DEFAULT_ENCODED_BODY_BYTES (16 MB) */
  maxEncodedBytes?: number;
  /** How a re-serialised body is made (tests count the calls). @defaultValue bodyForScheme */
  make?: typeof bodyForScheme;
}

/**
 * The body each attempt sends, made once per event and kept by its id, which names one payload for
 * good. Two reasons. The schemes that re-serialise the payload (x-signature: Zenduty signs
 * Python's `json.dumps` of the parsed payload): made on every attempt instead, one subscriber's
 * 1 MiB payload of emoji fanned out to 40 such endpoints took ~100 ms of the shared worker per
 * attempt, 4.8 s for the event, and another subscriber's deliveries waited seconds behind it. And
 * large payloads (BYTES_FROM_CHARS and more) are handed out as bytes, encoded once per event: as
 * text each attempt encoded it again for every signature (a secret in rotation signs too) and for
 * the socket (~0.5 ms per MiB of ASCII each, ~0.7 ms of emoji). A smaller payload of another
 * scheme is handed out as stored.
 *
 * Each kind is kept in a cache of its own, bounded in bytes (the least recently used go first, and
 * a body over a quarter of its bound is made each time): cheap raw bytes of other subscribers'
 * large events cannot push out a re-serialised body, which costs ~80 ms per MiB to make again.
 * When room must be made, a subscriber holding over a quarter of a cache gives up its own bodies
 * first (BytesBoundedCache): its events rotating through the cache push out its own, not the
 * others'; alone, it may use all of it.
 */
export class SchemeBodies {
  private readonly reserialised: BytesBoundedCache<string | Buffer>;
  private readonly encoded: BytesBoundedCache<Buffer>;

  private readonly make: typeof bodyForScheme;

  constructor(options: SchemeBodiesOptions = {}) {
    this.reserialised = new BytesBoundedCache(options.maxBytes ?? DEFAULT_SCHEME_BODY_BYTES);
    this.encoded = new BytesBoundedCache(options.maxEncodedBytes ?? DEFAULT_ENCODED_BODY_BYTES);
    this.make = options.make ?? bodyForScheme;
  }

  bodyFor(config: SignatureConfig, event: Pick<StoredEvent, 'id' | 'payload' | 'subscriberId'>): string | Buffer {
    if (config.scheme === 'x-signature') {
      const kept = this.reserialised.get(event.id);
      if (kept !== undefined) return kept;
      const text = this.make(config, event.payload);
      // x-signature bodies are ASCII (json.dumps escapes the rest): a byte per character.
      const body = text.length < BYTES_FROM_CHARS ? text : Buffer.from(text);
      this.reserialised.keep(event.id, body, body.length + SCHEME_BODY_ENTRY_BYTES, event.subscriberId);
      return body;
    }
    if (event.payload.length < BYTES_FROM_CHARS) return event.payload;
    const kept = this.encoded.get(event.id);
    if (kept !== undefined) return kept;
    const body = Buffer.from(event.payload);
    this.encoded.keep(event.id, body, body.length, event.subscriberId);
    return body;
  }

  /** Bytes kept now, both kinds (for tests and the curious). */
  get size(): number {
    return this.reserialised.size + this.encoded.size;
  }
}

/**
 * What keeping a re-serialised body costs beside its characters: its key (the event's id), the
 * cache's entry and its place in its owner's set. Counted by its characters alone, a payload of
 * `{}` cost 2 bytes of the 32 MB bound and ~231 of the worker's heap (an audit kept 200,000 in 46
 * MB, counted as 400 KB): the bound would let ~16 million in, ~3.9 GB, the worker's death before
 * any was dropped, and nothing else drops them. The encoded bodies are 16 Ki characters and more,
 * where this is noise.
 */
export const SCHEME_BODY_ENTRY_BYTES = 256;

/** Payloads of this many characters and more are sent as bytes encoded once per event (16 Ki). */
export const BYTES_FROM_CHARS = 16 * 1024;

/** 16 MB of encoded payloads: the largest sixteen, enough for the attempts of a fan-out in flight at once. */
export const DEFAULT_ENCODED_BODY_BYTES = 16 * 1024 * 1024;

/** 32 MB: ten of the largest bodies (a 1 MiB payload of emoji is ~3 MB once escaped), or many small ones. */
export const DEFAULT_SCHEME_BODY_BYTES = 32 * 1024 * 1024;
