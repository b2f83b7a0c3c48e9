import { readHeader, type HeaderSource } from './headers';
import type { Bytes, HmacAlgorithm, Secrets } from './hmac';
import { checkStandardWebhook } from './standard-webhooks';
import { HUB_SIGNATURE_HEADER, verifyHubSignature } from './x-hub-signature';
import { ZENDUTY_SIGNATURE_HEADER, verifyZenduty } from './x-signature';

/** The signature schemes a Hookrelay endpoint can use (`signature.scheme`), other than `none`. */
export type WebhookScheme = 'x-hub-signature' | 'x-signature' | 'standard-webhooks';

export interface VerifyWebhookOptions {
  /** The endpoint's `signature.scheme`. */
  scheme: WebhookScheme;
  /** The endpoint's signing secret, or several (the old and the new one) while it rotates. */
  secret: Secrets;
  /** x-hub-signature: the endpoint's `signature.algorithm`. @defaultValue sha256 or sha512, never sha1 unless named */
  algorithm?: HmacAlgorithm;
  /** standard-webhooks: how far `webhook-timestamp` may be from now, in seconds. @defaultValue 300 */
  toleranceSeconds?: number;
  /** The clock, in Unix milliseconds (tests). @defaultValue Date.now */
  now?: () => number;
}

/** A delivery that passed verification: Hookrelay's headers and the parsed body. */
export interface HookrelayWebhook<Payload = unknown> {
  /** `X-Hookrelay-Event-Id` (Standard Webhooks: `webhook-id`): the same on every retry, so dedupe on it. */
  eventId: string;
  /** `X-Hookrelay-Event-Type`, e.g. `incident.triggered`. */
  eventType: string;
  /** `X-Hookrelay-Delivery-Id`: this event to this endpoint. */
  deliveryId: string;
  /** `X-Hookrelay-Attempt`, 1-based. */
  attempt: number;
  /** The event's payload: the body, parsed. */
  payload: Payload;
  /** The body exactly as received. */
  rawBody: Buffer;
}

export type WebhookVerificationErrorCode = 'missing_signature' | 'invalid_signature' | 'timestamp_out_of_range' | 'invalid_body';

/** Why a request is not a genuine delivery. `code` is stable; `message` is for people. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  constructor(
    readonly code: WebhookVerificationErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const SIGNATURE_HEADER: Record<Exclude<WebhookScheme, 'standard-webhooks'>, string> = {
  'x-hub-signature': HUB_SIGNATURE_HEADER,
  'x-signature': ZENDUTY_SIGNATURE_HEADER,
};

/** Checks the signature only; throws WebhookVerificationError when it does not hold. */
export function verifySignature(options: VerifyWebhookOptions, request: { body: Bytes; headers: HeaderSource }): void {
  const { scheme, secret } = options;
  if (scheme === 'standard-webhooks') {
    const nowSeconds = Math.floor((options.now ?? Date.now)() / 1000);
    const verdict = checkStandardWebhook({
      secret,
      body: request.body,
      headers: request.headers,
      nowSeconds,
      toleranceSeconds: options.toleranceSeconds,
    });
    if (verdict === 'missing_signature')
      throw new WebhookVerificationError(verdict, 'no webhook-id, webhook-timestamp or webhook-signature header');
    if (verdict === 'timestamp_out_of_range')
      throw new WebhookVerificationError(verdict, 'webhook-timestamp is too far from now (a replay, or a clock that is off)');
    if (verdict === 'invalid_signature') throw new WebhookVerificationError(verdict, 'webhook-signature does not match the body');
    return;
  }
  const name = SIGNATURE_HEADER[scheme];
  if (name === undefined) throw new TypeError(`unknown signature scheme: ${String(scheme)}`);
  const header = readHeader(request.headers, name);
  if (!header) throw new WebhookVerificationError('missing_signature', `no ${name} header`);
  const ok =
    scheme === 'x-hub-signature'
      ? verifyHubSignature({ secret, body: request.body, header, algorithm: options.algorithm })
      : verifyZenduty({ secret, body: request.body, header });
  if (!ok) throw new WebhookVerificationError('invalid_signature', `${name} does not match the body`);
}

/**
 * Verifies one delivery from Hookrelay and returns it parsed. Pass the body exactly as received
 * (a Buffer, or the text of it): parsing and re-serialising JSON changes the bytes that were
 * signed. Throws WebhookVerificationError for a missing or wrong signature, a stale Standard
 * Webhooks timestamp, or a body that is not JSON.
 */
export function verifyWebhook<Payload = unknown>(
  options: VerifyWebhookOptions,
  request: { body: Bytes; headers: HeaderSource },
): HookrelayWebhook<Payload> {
  verifySignature(options, request);
  const rawBody =
    typeof request.body === 'string'
      ? Buffer.from(request.body, 'utf8')
      : Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
  let payload: Payload;
  try {
    payload = JSON.parse(rawBody.toString('utf8')) as Payload;
  } catch {
    throw new WebhookVerificationError('invalid_body', 'the body is not JSON');
  }
  const h = request.headers;
  return {
    eventId: readHeader(h, 'x-hookrelay-event-id') || readHeader(h, 'webhook-id'),
    eventType: readHeader(h, 'x-hookrelay-event-type'),
    deliveryId: readHeader(h, 'x-hookrelay-delivery-id'),
    attempt: Number(readHeader(h, 'x-hookrelay-attempt')) || 1,
    payload,
    rawBody,
  };
}
