import { hmac, safeEqualText } from './constant-time';
import { pythonJsonDumps } from './python-json';

/**
 * Zenduty's header name, spelled as its guide spells it. HTTP header names are case-insensitive, and the
 * guide's receivers read it through frameworks that normalise case, but we keep the documented spelling.
 */
export const ZENDUTY_SIGNATURE_HEADER = 'X-SIGNATURE';

/** base64(HMAC-SHA256(key = secret UTF-8 bytes, body bytes)), as Zenduty's `compute_signature` returns it. */
export function zendutySignature(secret: string, body: string | Buffer): string {
  return hmac('sha256', Buffer.from(secret, 'utf8'), body).toString('base64');
}

/** Headers for x-signature: one value, so only the current secret signs (same rotation caveat as x-hub-signature). */
export function zendutySignatureHeaders(secrets: readonly string[], body: string): Record<string, string> {
  const current = secrets[0];
  if (current === undefined) throw new Error('x-signature needs at least one secret');
  return { [ZENDUTY_SIGNATURE_HEADER]: zendutySignature(current, body) };
}

/**
 * Zenduty's receiver snippet signs `json.dumps(data)` of the *parsed* body, not the raw bytes. Sending exactly
 * that text makes the raw bytes and the re-serialised text identical, so both kinds of receiver verify.
 */
export function zendutyBody(payloadJson: string): string {
  return pythonJsonDumps(JSON.parse(payloadJson) as unknown);
}

export interface VerifyZendutyOptions {
  secret: string;
  body: string | Buffer;
  /** The X-SIGNATURE value (base64). */
  header: string;
}

/** Receiver-side check over the raw body bytes; never throws on a malformed header. */
export function verifyZenduty(opts: VerifyZendutyOptions): boolean {
  return safeEqualText(opts.header.trim(), zendutySignature(opts.secret, opts.body));
}
