import { createHash } from 'node:crypto';

/**
 * Canonical text already written out: what `inCanonicalOrder` gives for a value JSON.stringify
 * would not write in canonical order.
 */
class CanonicalText {
  constructor(readonly text: string) {}
}

/**
 * Keys V8 lists first, in numeric order, whatever order they were set in (array indices), so that
 * JSON.stringify cannot write them in sorted order. Any canonical integer counts, indices or not:
 * a key wrongly taken for one only goes the slower way.
 */
const INDEX_LIKE_KEY = /^(?:0|[1-9]\d*)$/;

/**
 * The value, or a copy, that JSON.stringify writes with every object's keys sorted (UTF-16 code
 * units, as Array.prototype.sort orders them); a CanonicalText where it cannot (an object with
 * index-like keys, or one holding such text). Objects whose keys are in order already and arrays
 * whose items need no copy are reused, not copied.
 */
function inCanonicalOrder(value: unknown): unknown {
  if (Array.isArray(value)) {
    let items: unknown[] | undefined;
    let text = false;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const ordered = item !== null && typeof item === 'object' ? inCanonicalOrder(item) : item;
      if (ordered !== item) (items ??= value.slice())[i] = ordered;
      if (ordered instanceof CanonicalText) text = true;
    }
    if (!text) return items ?? value;
    return new CanonicalText(`[${(items as unknown[]).map(textOf).join(',')}]`);
  }
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  const sorted = inOrder(keys) ? keys : keys.slice().sort();
  if (sorted.length > MANY_KEYS || sorted.some(isIndexLike)) return new CanonicalText(writtenOut(record, sorted));
  let copy = sorted !== keys;
  let text = false;
  const values: unknown[] = [];
  for (const k of sorted) {
    const item = record[k];
    const ordered = item !== null && typeof item === 'object' ? inCanonicalOrder(item) : item;
    values.push(ordered);
    if (ordered !== item) copy = true;
    if (ordered instanceof CanonicalText) text = true;
  }
  if (text) return new CanonicalText(writtenOut(record, sorted, values));
  if (!copy) return value;
  const out: Record<string, unknown> = {};
  sorted.forEach((k, i) => {
    // Defined, not set: set, `__proto__` would change the copy's prototype instead of being a key.
    if (k === '__proto__') Object.defineProperty(out, k, { value: values[i], enumerable: true, writable: true, configurable: true });
    else out[k] = values[i];
  });
  return out;
}

/**
 * Objects with more keys than this are written out key by key: V8 keeps them as dictionaries,
 * which are slow to build and to stringify (a copy of one with 90,000 keys cost more than writing
 * it out).
 */
const MANY_KEYS = 256;

function isIndexLike(key: string): boolean {
  const c = key.charCodeAt(0);
  return c >= 48 && c <= 57 && INDEX_LIKE_KEY.test(key);
}

/** `{"key":value,...}` in `sorted` order, each value's canonical text (`ordered`, when known, is each key's inCanonicalOrder). */
function writtenOut(record: Record<string, unknown>, sorted: readonly string[], ordered?: readonly unknown[]): string {
  let out = '{';
  let first = true;
  for (let i = 0; i < sorted.length; i++) {
    const k = sorted[i] as string;
    const item = ordered ? ordered[i] : record[k];
    if (item === undefined) continue;
    const text = ordered ? textOf(item) : item !== null && typeof item === 'object' ? canonicalJson(item) : JSON.stringify(item);
    out += `${first ? '' : ','}${JSON.stringify(k)}:${text}`;
    first = false;
  }
  return `${out}}`;
}

function textOf(value: unknown): string {
  return value instanceof CanonicalText ? value.text : (JSON.stringify(value) ?? 'null');
}

/** Whether `keys` are already in Array.prototype.sort's order (UTF-16 code units). */
function inOrder(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if ((keys[i - 1] as string) > (keys[i] as string)) return false;
  return true;
}

/**
 * JSON with every object's keys sorted, so two encodings of one value give one text. The text is
 * the same as this once was, `[` + items + `]` and `{` + sorted `"key":value` pairs + `}` written out
 * one value at a time (digests stored under idempotency keys must still match), but JSON.stringify
 * writes whatever it can write in that order by itself (all of it but objects with index-like
 * keys): a repeated Idempotency-Key recomputes this on the shared event loop, and writing 1 MB of
 * small unsorted objects one value at a time took ~40-80 ms, several times the request's parse.
 */
export function canonicalJson(value: unknown): string {
  return textOf(inCanonicalOrder(value));
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
