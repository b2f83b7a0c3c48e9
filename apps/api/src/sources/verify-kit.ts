import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** One inbound request as the verifiers see it. */
export interface InboundRequest {
  headers: IncomingHttpHeaders;
  /** The raw body bytes, exactly as received: every signature is over these. */
  body: Buffer;
  nowSeconds: number;
  /**
   * The full URL the sender called (HOOKRELAY_PUBLIC_URL + the path and query as received), or
   * undefined when the server has no public URL. Twilio signs it.
   */
  url?: string;
}

/**
 * What identifies a verified request for replay protection, and for how long a copy must be
 * refused: a timestamped signature until its timestamp leaves the tolerance (after that the
 * verifier refuses it anyway), a Standard Webhooks message id for a day (senders retry with it).
 */
export interface ReplayKey {
  key: string;
  windowMs: number;
  /** For the history: what was repeated. */
  what: string;
  /**
   * The claim may expire with the retention period when that is shorter than its window: true for
   * a dedupe header's value (a sender's own repeats, window up to a week), never for a signature,
   * whose replay must be refused for as long as its timestamp passes (at most a day).
   */
  endsWithRetention?: boolean;
}

/**
 * Why a request failed verification: the first word of its `reason` in the source's history. The
 * sender is told none of it (a bare 401, or Meta's 403 for its subscription check).
 */
export type VerifyFailureCode =
  | 'missing_header'
  | 'malformed_header'
  | 'signature_mismatch'
  | 'timestamp_outside_tolerance'
  | 'body_hash_mismatch'
  | 'credentials_mismatch'
  | 'unsupported_algorithm'
  | 'malformed_body'
  | 'public_url_unset'
  | 'unauthenticated_disabled';

/** `reason` (`<code>: <detail>`) goes to the source's history only. */
export type VerifyResult = { ok: true; replay?: ReplayKey } | { ok: false; code: VerifyFailureCode; reason: string };

export const fail = (code: VerifyFailureCode, detail: string): VerifyResult => ({ ok: false, code, reason: `${code}: ${detail}` });

/**
 * Compares two secrets in constant time. Both sides are hashed first so the comparison runs over
 * equal lengths and neither the length nor the position of the first difference leaks.
 */
export function sameSecret(received: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(received), digest(expected));
}

/**
 * Rotation lists are short; more candidates than this in one header are not looked at. Each is
 * hashed (sameSecret), so an unbounded list (a 16 KB Stripe-Signature of 3,200 `v1=`) cost any
 * holder of an ingest URL ~20 ms of the shared process per request.
 */
export const MAX_SIGNATURE_CANDIDATES = 10;

/**
 * True when any of the first MAX_SIGNATURE_CANDIDATES candidates equals `expected`. Each of them is
 * compared, in constant time, so the time taken does not say which one (or whether an early one)
 * matched.
 */
export function anySame(candidates: readonly string[], expected: string): boolean {
  let matched = false;
  for (const candidate of candidates.slice(0, MAX_SIGNATURE_CANDIDATES)) if (sameSecret(candidate, expected)) matched = true;
  return matched;
}

/** A header's value; repeated headers (which Node joins for most names) read as one text. */
export function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

export function hmacOf(algorithm: string, key: string | Buffer, ...parts: Array<string | Buffer>): Buffer {
  const mac = createHmac(algorithm, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

export function sha256Hex(...parts: Array<string | Buffer>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/** Unix seconds as digits, the form Stripe, Slack, Standard Webhooks and SendGrid send. */
export function unixSeconds(raw: string): number | null {
  return /^\d{1,15}$/.test(raw) ? Number(raw) : null;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

/** Unix seconds, or ISO 8601 with a zone (`2021-07-25T10:00:00Z`, which Zendesk sends), as seconds. */
export function unixOrIsoSeconds(raw: string): number | null {
  const seconds = unixSeconds(raw);
  if (seconds !== null) return seconds;
  if (raw.length > 40 || !ISO_8601.test(raw)) return null;
  const ms = Date.parse(raw);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : null;
}

export function withinTolerance(timestampSeconds: number, nowSeconds: number, toleranceSeconds: number): boolean {
  return Math.abs(nowSeconds - timestampSeconds) <= toleranceSeconds;
}

/**
 * A request accepted at `nowSeconds` stays acceptable while its timestamp is within the tolerance:
 * a second past that, the verifier refuses the copy by itself. `signed` identifies what was signed
 * (the MAC for HMAC schemes, which is deterministic).
 */
export function signatureReplay(
  scheme: string,
  signed: string,
  timestampSeconds: number,
  nowSeconds: number,
  toleranceSeconds: number,
): ReplayKey {
  const windowSeconds = Math.max(1, timestampSeconds + toleranceSeconds + 1 - nowSeconds);
  return { key: `${scheme}:${signed}`, windowMs: windowSeconds * 1000, what: `${scheme} signature already accepted` };
}
