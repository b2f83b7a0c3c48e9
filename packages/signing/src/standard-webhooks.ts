import { hmac, safeEqualText } from './constant-time';

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
  const encoded = secret.startsWith(STANDARD_WEBHOOKS_SECRET_PREFIX)
    ? secret.slice(STANDARD_WEBHOOKS_SECRET_PREFIX.length)
    : secret;
  if (encoded.length === 0 || !BASE64.test(encoded)) {
    throw new TypeError('a standard-webhooks secret must be whsec_ followed by padded base64');
  }
  return Buffer.from(encoded, 'base64');
}

/** `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`. */
export function standardWebhooksSignature(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string | Buffer,
): string {
  const mac = hmac('sha256', standardWebhooksKey(secret), `${id}.${timestampSeconds}.`, body);
  return `v1,${mac.toString('base64')}`;
}

/**
 * Headers for standard-webhooks. Unlike the single-value schemes, the spec allows several space-separated
 * signatures, so every secret still in rotation grace signs: receivers on the old secret keep verifying
 * while they move to the new one.
 */
export function standardWebhooksHeaders(
  secrets: readonly string[],
  eventId: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  if (secrets.length === 0) throw new Error('standard-webhooks needs at least one secret');
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new TypeError(`timestampSeconds must be whole unix seconds, got ${timestampSeconds}`);
  }
  return {
    'webhook-id': eventId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((s) => standardWebhooksSignature(s, eventId, timestampSeconds, body)).join(' '),
  };
}

export interface VerifyStandardWebhookOptions {
  secret: string;
  body: string | Buffer;
  headers: { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string };
  /** Injected clock, so tests and replays do not depend on the wall clock. */
  nowSeconds: number;
  /** @defaultValue 300 */
  toleranceSeconds?: number;
}

/**
 * Receiver-side check: the timestamp must be within tolerance (replay protection) and any one of the
 * space-separated `v1,` signatures must match. Throws only for an invalid secret, never for bad headers.
 */
export function verifyStandardWebhook(opts: VerifyStandardWebhookOptions): boolean {
  const tolerance = opts.toleranceSeconds ?? STANDARD_WEBHOOKS_TOLERANCE_SECONDS;
  const { 'webhook-id': id, 'webhook-timestamp': rawTimestamp, 'webhook-signature': signatures } = opts.headers;
  if (!id || !/^\d{1,15}$/.test(rawTimestamp)) return false;
  const timestamp = Number(rawTimestamp);
  if (Math.abs(opts.nowSeconds - timestamp) > tolerance) return false;
  const expected = standardWebhooksSignature(opts.secret, id, timestamp, opts.body);
  let matched = false;
  // Check every candidate rather than returning early, so timing does not reveal which one matched.
  for (const candidate of signatures.split(' ')) {
    if (candidate.startsWith('v1,') && safeEqualText(candidate, expected)) matched = true;
  }
  return matched;
}
