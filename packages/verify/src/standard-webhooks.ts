import { readHeader, type HeaderSource } from './headers';
import { hmac, safeEqualText, secretList, type Bytes, type Secrets } from './hmac';

/** Secret prefix from the Standard Webhooks spec; the key is the base64-decoded remainder. */
export const STANDARD_WEBHOOKS_SECRET_PREFIX = 'whsec_';

/** The reference verifiers allow five minutes of clock skew either way. */
export const STANDARD_WEBHOOKS_TOLERANCE_SECONDS = 300;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes `whsec_<base64>` (the prefix is optional, as in the reference library) into the HMAC key.
 * Throws on anything else: a secret that is not base64 is a configuration bug, and Buffer.from would
 * otherwise silently drop the bad characters and sign with a different key than the receiver holds.
 */
export function standardWebhooksKey(secret: string): Buffer {
  const encoded = secret.startsWith(STANDARD_WEBHOOKS_SECRET_PREFIX) ? secret.slice(STANDARD_WEBHOOKS_SECRET_PREFIX.length) : secret;
  if (encoded.length === 0 || !BASE64.test(encoded)) {
    throw new TypeError('a standard-webhooks secret must be whsec_ followed by padded base64');
  }
  return Buffer.from(encoded, 'base64');
}

/** `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`. */
export function standardWebhooksSignature(secret: string, id: string, timestampSeconds: number, body: Bytes): string {
  const mac = hmac('sha256', standardWebhooksKey(secret), `${id}.${timestampSeconds}.`, body);
  return `v1,${mac.toString('base64')}`;
}

export interface VerifyStandardWebhookOptions {
  secret: Secrets;
  /** The raw request body, exactly as received. */
  body: Bytes;
  /** The request's headers (`webhook-id`, `webhook-timestamp`, `webhook-signature` are read). */
  headers: HeaderSource;
  /** The current time in Unix seconds. @defaultValue the system clock */
  nowSeconds?: number;
  /** How far the timestamp may be from now, either way (replay protection). @defaultValue 300 */
  toleranceSeconds?: number;
}

/**
 * Receiver-side check: the timestamp must be within tolerance and any one of the space-separated
 * `v1,` signatures must match one of the secrets. Throws only for a secret that is not
 * `whsec_<base64>`, never for bad headers.
 */
export function verifyStandardWebhook(opts: VerifyStandardWebhookOptions): boolean {
  return checkStandardWebhook(opts) === 'ok';
}

/** verifyStandardWebhook, saying which check failed. */
export function checkStandardWebhook(
  opts: VerifyStandardWebhookOptions,
): 'ok' | 'missing_signature' | 'timestamp_out_of_range' | 'invalid_signature' {
  const secrets = secretList(opts.secret);
  // A bad secret is the receiver's configuration bug: said at once, whatever the request holds.
  for (const secret of secrets) standardWebhooksKey(secret);
  const id = readHeader(opts.headers, 'webhook-id');
  const rawTimestamp = readHeader(opts.headers, 'webhook-timestamp');
  const signatures = readHeader(opts.headers, 'webhook-signature');
  if (!id || !signatures || !rawTimestamp) return 'missing_signature';
  if (!/^\d{1,15}$/.test(rawTimestamp)) return 'timestamp_out_of_range';
  const timestamp = Number(rawTimestamp);
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (opts.toleranceSeconds ?? STANDARD_WEBHOOKS_TOLERANCE_SECONDS)) return 'timestamp_out_of_range';
  let matched = false;
  // Every candidate against every secret, no early return, so timing does not tell which one matched.
  for (const secret of secrets) {
    const expected = standardWebhooksSignature(secret, id, timestamp, opts.body);
    for (const candidate of signatures.split(' ')) if (candidate.startsWith('v1,') && safeEqualText(candidate, expected)) matched = true;
  }
  return matched ? 'ok' : 'invalid_signature';
}
