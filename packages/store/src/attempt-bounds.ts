import { isReservedHeader, RESPONSE_BODY_KEEP_BYTES, type AttemptRecord } from '@hookrelay/contracts';

/**
 * What one attempt record may take in Redis. Every attempt is kept for the retention period (30
 * days by default) and Redis runs `noeviction`, so what a subscriber's endpoints and receivers put
 * into attempts must be bounded: before, an endpoint with 50 custom headers of 8 KB stored 400 KB
 * per attempt (88 MiB for 200 events). Sizes are bytes as stored: UTF-8 inside the record's JSON,
 * escapes included.
 */
export const ATTEMPT_LIMITS = Object.freeze({
  /** Each request header value, before JSON escaping; a longer one is cut and ends with "…". */
  headerValueBytes: 256,
  /** The whole `requestHeaders` object as JSON. Hookrelay's own headers are kept first. */
  requestHeadersJsonBytes: 2048,
  /** The response preview: its first RESPONSE_BODY_KEEP_BYTES (4 KB) as UTF-8 ... */
  responseBodyBytes: RESPONSE_BODY_KEEP_BYTES,
  /** ... and at most this much once escaped (a body of control characters escapes to 6 bytes each). */
  responseBodyJsonBytes: 2 * RESPONSE_BODY_KEEP_BYTES,
  /** The error message of an attempt that got no response, as JSON. */
  errorMessageJsonBytes: 512,
  /**
   * Attempts a delivery keeps, the newest: a retry policy makes at most 51, and each person's retry,
   * replay or recover one more, which a subscriber could repeat without end (~10 KB an attempt at
   * most, kept for the retention period). The record's `attempts` still counts them all.
   */
  attemptsPerDelivery: 60,
});

/** Where headers left out of a record are counted: not a header name (parentheses are not token characters), so it cannot collide. */
export const OMITTED_HEADERS_KEY = '(omitted)';

const ELLIPSIS = '…';
/** Printable ASCII but `"` and `\`: what JSON stores as is, one byte a character. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** Bytes `s` takes as a JSON string, quotes included. */
function jsonBytes(s: string): number {
  return PLAIN.test(s) ? s.length + 2 : Buffer.byteLength(JSON.stringify(s));
}

/** UTF-8 and JSON-escaped bytes of the character (or surrogate pair) at `i`, and how many code units it is. */
function charCost(s: string, i: number): { utf8: number; json: number; units: number } {
  const c = s.charCodeAt(i);
  if (c < 0x80) {
    if (c === 0x22 || c === 0x5c || c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d)
      return { utf8: 1, json: 2, units: 1 };
    return c < 0x20 ? { utf8: 1, json: 6, units: 1 } : { utf8: 1, json: 1, units: 1 };
  }
  if (c < 0x800) return { utf8: 2, json: 2, units: 1 };
  if (c >= 0xd800 && c <= 0xdbff) {
    const next = s.charCodeAt(i + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return { utf8: 4, json: 4, units: 2 };
  }
  // A lone surrogate: JSON.stringify escapes it (\udXXX); UTF-8 would carry a replacement character.
  if (c >= 0xd800 && c <= 0xdfff) return { utf8: 3, json: 6, units: 1 };
  return { utf8: 3, json: 3, units: 1 };
}

/**
 * The longest prefix of `s` within `maxUtf8` bytes of UTF-8 and `maxJson` bytes as a JSON string
 * (quotes not counted), never splitting a surrogate pair; with `marker` appended (within the same
 * bounds) when anything was cut.
 */
export function cutString(s: string, maxUtf8: number, maxJson: number, marker = ''): string {
  // Fast path: 3 UTF-8 bytes and 6 escaped bytes a code unit at most.
  if (s.length * 3 <= maxUtf8 && s.length * 6 <= maxJson) return s;
  if (Buffer.byteLength(s) <= maxUtf8 && jsonBytes(s) - 2 <= maxJson) return s;
  const room = { utf8: maxUtf8 - Buffer.byteLength(marker), json: maxJson - (jsonBytes(marker) - 2) };
  let utf8 = 0;
  let json = 0;
  let i = 0;
  while (i < s.length) {
    const cost = charCost(s, i);
    if (utf8 + cost.utf8 > room.utf8 || json + cost.json > room.json) break;
    utf8 += cost.utf8;
    json += cost.json;
    i += cost.units;
  }
  return s.slice(0, i) + marker;
}

/**
 * Request headers as a record keeps them: each value cut to 256 bytes, and the whole object within
 * 2 KB of JSON. When they do not all fit, Hookrelay's own headers (ids, type, attempt, signature)
 * are kept before the endpoint's custom and auth headers, and `(omitted)` says how many were left
 * out. Headers keep their order.
 */
export function boundRequestHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const { headerValueBytes, requestHeadersJsonBytes } = ATTEMPT_LIMITS;
  const entries: Array<[string, string, number]> = [];
  let total = 1; // `{` and `}`, less the comma the first entry does not need
  for (const name in headers) {
    const value = cutString(headers[name] as string, headerValueBytes, 6 * headerValueBytes, ELLIPSIS);
    const size = jsonBytes(name) + jsonBytes(value) + 2; // `:` and `,`
    entries.push([name, value, size]);
    total += size;
  }
  if (total <= requestHeadersJsonBytes) return Object.fromEntries(entries.map(([name, value]) => [name, value]));

  const kept = new Set<number>();
  // Room for the (omitted) entry: `,"(omitted)":"NN headers over the 2 KB record limit"` is under 64 bytes.
  let used = 1 + 64;
  const order = [...entries.keys()].sort((a, b) => Number(!isReservedHeader(entries[a]![0])) - Number(!isReservedHeader(entries[b]![0])));
  for (const i of order) {
    const size = entries[i]![2];
    if (used + size > requestHeadersJsonBytes) continue;
    kept.add(i);
    used += size;
  }
  const out: Record<string, string> = {};
  entries.forEach(([name, value], i) => {
    if (kept.has(i)) out[name] = value;
  });
  out[OMITTED_HEADERS_KEY] = `${entries.length - kept.size} headers over the 2 KB record limit`;
  return out;
}

/** An attempt as it may be stored: request headers, response preview and error message within ATTEMPT_LIMITS. */
export function boundAttempt(attempt: AttemptRecord): AttemptRecord {
  const bounded: AttemptRecord = { ...attempt, requestHeaders: boundRequestHeaders(attempt.requestHeaders) };
  if (attempt.responseBody !== undefined) {
    bounded.responseBody = cutString(attempt.responseBody, ATTEMPT_LIMITS.responseBodyBytes, ATTEMPT_LIMITS.responseBodyJsonBytes);
  }
  if (attempt.errorMessage !== undefined) {
    bounded.errorMessage = cutString(
      attempt.errorMessage,
      ATTEMPT_LIMITS.errorMessageJsonBytes,
      ATTEMPT_LIMITS.errorMessageJsonBytes - 2,
      ELLIPSIS,
    );
  }
  return bounded;
}
