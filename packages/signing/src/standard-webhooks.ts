import { standardWebhooksSignature, type Bytes } from '@hookrelay/verify';

/**
 * Headers for standard-webhooks (each signature is @hookrelay/verify's `standardWebhooksSignature`).
 * Unlike the single-value schemes, the spec allows several space-separated signatures, so every
 * secret still in rotation grace signs: receivers on the old secret keep verifying while they move
 * to the new one.
 */
export function standardWebhooksHeaders(
  secrets: readonly string[],
  eventId: string,
  timestampSeconds: number,
  body: Bytes,
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
