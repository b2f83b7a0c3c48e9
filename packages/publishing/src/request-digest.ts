import { createHash } from 'node:crypto';

/** JSON with every object's keys sorted, so two encodings of one value give one text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * What an idempotency key is stored with: the SHA-256 of the request it came with (type and
 * payload, key order aside), so a reuse with another request is told from a repeat (Stripe's rule,
 * and the IETF Idempotency-Key draft's 422).
 */
export function requestDigest(input: { type: string; payload?: unknown }): string {
  return createHash('sha256')
    .update(canonicalJson([input.type, input.payload ?? null]))
    .digest('base64url');
}
