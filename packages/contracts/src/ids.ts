import { hash, randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += CROCKFORD[(value << (5 - bits)) & 31];
  return out;
}

// Randomness drawn 4 KB at a time: one crypto call per 400 ids instead of one per id (a batch
// publish makes thousands).
let pool = Buffer.alloc(0);
let poolOffset = 0;
function randomChunk(size: number): Buffer {
  if (poolOffset + size > pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  const chunk = pool.subarray(poolOffset, poolOffset + size);
  poolOffset += size;
  return chunk;
}

/**
 * A sortable id: 10 characters of millisecond time, then 16 of randomness (80 bits).
 * Sorting ids sorts by creation time, which history listings rely on.
 */
export function newId(prefix: string, nowMs: number = Date.now()): string {
  let time = '';
  let t = nowMs;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return `${prefix}_${time}${base32(randomChunk(10))}`;
}

/**
 * A delivery's id is derived from (event, endpoint), so enqueueing the same pair twice names the
 * same delivery and the same BullMQ job (Hookdeck Outpost's RetryID(eventID, destID)).
 */
export function deliveryId(eventId: string, endpointId: string): string {
  // crypto.hash, one call with no Hash object: ~0.45 us against ~1 us for createHash, once per
  // delivery a publish creates (a batch of 1,000 events spent ~1.3 us an event hashing).
  return `dlv_${hash('sha256', `${eventId}|${endpointId}`, 'hex').slice(0, 32)}`;
}

/** What newId() issues: a short prefix, `_`, 26 Crockford base32 characters. */
const ISSUED_ID = /^[a-z]{2,4}_[0-9a-hjkmnp-tv-z]{26}$/;
const DELIVERY_ID = /^dlv_[0-9a-f]{32}$/;

/**
 * The time newId() wrote into an issued id (epoch ms); undefined for a string of another shape.
 * An endpoint's id says when it was created after its record is gone (history-store.ts).
 */
export function timeOfId(id: string): number | undefined {
  if (!ISSUED_ID.test(id)) return undefined;
  const at = id.indexOf('_') + 1;
  let ms = 0;
  for (const c of id.slice(at, at + 10)) ms = ms * 32 + CROCKFORD.indexOf(c);
  return ms;
}

/** The kinds of id a client names in a path: subscriber, endpoint, event, source, delivery. */
export type IdKind = 'sub' | 'ep' | 'evt' | 'src' | 'dlv';

/**
 * Whether `value` has the shape of an id of that kind. Ids become parts of Redis keys
 * (`<prefix>:ep:<id>`), and other keys of the same resource extend them after a `:`
 * (`<prefix>:ep:<id>:dl-log`, `<prefix>:sub:<id>:eps`): a client id must be checked against this
 * before it names any key, or it can address a key of another type.
 */
export function isIdOf(kind: IdKind, value: string): boolean {
  if (kind === 'dlv') return DELIVERY_ID.test(value);
  return value.startsWith(`${kind}_`) && ISSUED_ID.test(value);
}

/** A random secret for an endpoint's signing key: 32 bytes, base64url. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}
