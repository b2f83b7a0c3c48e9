import { hmac, safeEqualText, secretList, type Bytes, type Secrets } from './hmac';

/**
 * Zenduty's header name, spelled as its guide spells it. HTTP header names are case-insensitive
 * (Node gives them in lower case: `x-signature`).
 */
export const ZENDUTY_SIGNATURE_HEADER = 'X-SIGNATURE';

/** base64(HMAC-SHA256(key = secret UTF-8 bytes, body bytes)), as Zenduty's `compute_signature` returns it. */
export function zendutySignature(secret: string, body: Bytes): string {
  return hmac('sha256', secret, body).toString('base64');
}

export interface VerifyZendutyOptions {
  secret: Secrets;
  /** The raw request body, exactly as received. Hookrelay sends it in Python's json.dumps form, so Zenduty's own snippet (which re-serialises the parsed body) agrees. */
  body: Bytes;
  /** The X-SIGNATURE value (base64). */
  header: string;
}

/** Receiver-side check over the raw body bytes, in constant time; never throws on a malformed header. */
export function verifyZenduty(opts: VerifyZendutyOptions): boolean {
  const header = opts.header.trim();
  let matched = false;
  for (const secret of secretList(opts.secret)) if (safeEqualText(header, zendutySignature(secret, opts.body))) matched = true;
  return matched;
}
