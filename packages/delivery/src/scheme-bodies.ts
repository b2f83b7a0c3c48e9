import type { SignatureConfig, StoredEvent } from '@hookrelay/contracts';
import { bodyForScheme } from '@hookrelay/signing';
import { BytesBoundedCache } from './bytes-bounded-cache';

/**
 * The body each attempt sends, made once per event and kept by its id, which names one payload for
 * good. Two reasons. The schemes that re-serialise the payload (x-signature: Zenduty signs
 * Python's `json.dumps` of the parsed payload): made on every attempt instead, one subscriber's
 * 1 MiB payload of emoji fanned out to 40 such endpoints took ~100 ms of the shared worker per
 * attempt, 4.8 s for the event, and another subscriber's deliveries waited seconds behind it. And
 * large bodies (BYTES_FROM_CHARS and more) are handed out as bytes, encoded once per event: as
 * text each attempt encoded it again for every signature (a secret in rotation signs too) and for
 * the socket (~0.5 ms per MiB of ASCII each, ~0.7 ms of emoji). A smaller payload is handed out as
 * stored, keeping nothing. Bounded in bytes: the oldest go first, and a body over a quarter of the
 * bound is made each time rather than kept.
 */
export class SchemeBodies {
  private readonly bodies: BytesBoundedCache<string | Buffer>;

  /**
   * @param maxBytes bodies kept at most, in bytes.
   * @param make how a re-serialised body is made (tests count the calls).
   */
  constructor(
    maxBytes = DEFAULT_SCHEME_BODY_BYTES,
    private readonly make: typeof bodyForScheme = bodyForScheme,
  ) {
    this.bodies = new BytesBoundedCache(maxBytes);
  }

  bodyFor(config: SignatureConfig, event: Pick<StoredEvent, 'id' | 'payload'>): string | Buffer {
    const reserialised = config.scheme === 'x-signature';
    if (!reserialised && event.payload.length < BYTES_FROM_CHARS) return event.payload;
    const key = reserialised ? `${event.id}:x-signature` : event.id;
    const kept = this.bodies.get(key);
    if (kept !== undefined) return kept;
    const text = reserialised ? this.make(config, event.payload) : event.payload;
    // x-signature bodies are ASCII (json.dumps escapes the rest): a byte per character.
    const body = text.length < BYTES_FROM_CHARS ? text : Buffer.from(text);
    this.bodies.keep(key, body, body.length);
    return body;
  }

  /** Bytes kept now (for tests and the curious). */
  get size(): number {
    return this.bodies.size;
  }
}

/** Payloads of this many characters and more are sent as bytes encoded once per event (16 Ki). */
export const BYTES_FROM_CHARS = 16 * 1024;

/** 32 MB: ten of the largest bodies (a 1 MiB payload of emoji is ~3 MB once escaped), or many small ones. */
export const DEFAULT_SCHEME_BODY_BYTES = 32 * 1024 * 1024;
