import { createHmac, timingSafeEqual } from 'node:crypto';

export type HmacAlgorithm = 'sha256' | 'sha512' | 'sha1';

/** HMAC of the exact bytes; a string body is taken as its UTF-8 encoding, which is what goes on the wire. */
export function hmac(algorithm: HmacAlgorithm, key: string | Buffer, ...parts: Array<string | Buffer>): Buffer {
  const mac = createHmac(algorithm, key);
  for (const part of parts) mac.update(typeof part === 'string' ? Buffer.from(part, 'utf8') : part);
  return mac.digest();
}

/**
 * Compares two signature strings in constant time.
 * timingSafeEqual throws on unequal lengths, so the length is checked first: a receiver fed a truncated
 * header must get `false`, not an exception. Length is not secret (every valid signature has the same one).
 */
export function safeEqualText(received: string, expected: string): boolean {
  const a = Buffer.from(received, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}
