import { createHash } from 'node:crypto';

/**
 * JSON with every object's keys sorted, so two encodings of one value give one text. The text is
 * the same as this once was, `[` + items + `]` and `{` + sorted `"key":value` pairs + `}` written out
 * one value at a time (digests stored under idempotency keys must still match), but arrays of
 * scalars, a payload's bulk, go to JSON.stringify whole, and an object's keys are sorted only when
 * they are not in order already: a repeated Idempotency-Key recomputes this on the shared event
 * loop, ~40-60 ms for a crafted 1 MB payload written one value at a time.
 */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    if (value.every(isScalar)) return JSON.stringify(value);
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (!inOrder(keys)) keys.sort();
    let out = '{';
    let first = true;
    for (const k of keys) {
      if (record[k] === undefined) continue;
      out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(record[k])}`;
      first = false;
    }
    return `${out}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What JSON.stringify writes the same inside an array as canonicalJson does on its own. */
function isScalar(value: unknown): boolean {
  return value === null || typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean';
}

/** Whether `keys` are already in Array.prototype.sort's order (UTF-16 code units). */
function inOrder(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if ((keys[i - 1] as string) > (keys[i] as string)) return false;
  return true;
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
