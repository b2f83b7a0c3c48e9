import { createHmac, timingSafeEqual } from 'node:crypto';

export type HmacAlgorithm = 'sha256' | 'sha512' | 'sha1';

/** Bytes to sign or verify: a string is taken as its UTF-8 encoding, which is what goes on the wire. */
export type Bytes = string | Uint8Array;

/** HMAC of the exact bytes, keyed with `key` (a string key is its UTF-8 bytes, RFC 2104). */
export function hmac(algorithm: HmacAlgorithm, key: Bytes, ...parts: Bytes[]): Buffer {
  const mac = createHmac(algorithm, typeof key === 'string' ? Buffer.from(key, 'utf8') : key);
  for (const part of parts) mac.update(typeof part === 'string' ? Buffer.from(part, 'utf8') : part);
  return mac.digest();
}

/**
 * Compares two signature strings in constant time. timingSafeEqual throws on unequal lengths, so
 * the length is checked first: a truncated header gets `false`, not an exception. The length is no
 * secret (every valid signature of a scheme has the same one).
 */
export function safeEqualText(received: string, expected: string): boolean {
  const a = Buffer.from(received, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/** One secret or several (the old and the new one while they rotate): every one is tried, none skipped early. */
export type Secrets = string | readonly string[];

export function secretList(secret: Secrets): readonly string[] {
  const list = typeof secret === 'string' ? [secret] : secret;
  if (list.length === 0 || list.some((s) => typeof s !== 'string' || s.length === 0)) throw new TypeError('a signing secret is required');
  return list;
}
