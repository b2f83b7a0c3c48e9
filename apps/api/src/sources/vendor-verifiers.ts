import { createPublicKey, verify as verifySignature } from 'node:crypto';
import type { SourceVerification } from './source-input';
import {
  anySame,
  fail,
  headerOf,
  hmacOf,
  sameSecret,
  sha256Hex,
  signatureReplay,
  unixOrIsoSeconds,
  unixSeconds,
  withinTolerance,
  type InboundRequest,
  type VerifyResult,
} from './verify-kit';
import { tooManyFormFields } from './payload';

/**
 * The most fields a Twilio form post may have: its webhooks send a few dozen (an SMS with ten media
 * attachments some 50), and every field is parsed and sorted before a forged signature can be
 * refused, so the count, not the bytes, is what costs.
 */
export const TWILIO_MAX_FORM_FIELDS = 1000;
const TOO_MANY_TWILIO_FIELDS = `form body has more than ${TWILIO_MAX_FORM_FIELDS} fields, more than a Twilio webhook sends`;

/**
 * Each vendor's check, exactly as the vendor signs (CONTRACTS.md "Senders a workflow engine's
 * webhook task accepts"). Every MAC is compared in constant time (verify-kit `sameSecret`); every
 * failure names its reason for the source's history and nothing for the sender.
 */
type Of<T extends SourceVerification['type']> = Extract<SourceVerification, { type: T }>;

/** `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`, as GitHub and Meta send it. */
function verifyHubSignature256(secret: string, req: InboundRequest): VerifyResult {
  const raw = headerOf(req.headers, 'x-hub-signature-256')?.trim();
  if (!raw) return fail('missing_header', 'X-Hub-Signature-256');
  if (!raw.toLowerCase().startsWith('sha256=')) return fail('malformed_header', 'X-Hub-Signature-256 lacks the prefix sha256=');
  const expected = hmacOf('sha256', secret, req.body).toString('hex');
  return sameSecret(raw.slice('sha256='.length).toLowerCase(), expected) ? { ok: true } : fail('signature_mismatch', 'X-Hub-Signature-256');
}

/** GitHub: X-Hub-Signature-256 over the raw body (its ping is signed too; ingest-routes answers it). */
export function verifyGithub(v: Of<'github'>, req: InboundRequest): VerifyResult {
  return verifyHubSignature256(v.secret, req);
}

/** Meta (Facebook, Instagram, WhatsApp): X-Hub-Signature-256 keyed with the app secret. */
export function verifyFacebook(v: Of<'facebook'>, req: InboundRequest): VerifyResult {
  return verifyHubSignature256(v.appSecret, req);
}

/** Shopify: `X-Shopify-Hmac-Sha256: base64(HMAC-SHA256(secret, raw body))`. */
export function verifyShopify(v: Of<'shopify'>, req: InboundRequest): VerifyResult {
  const raw = headerOf(req.headers, 'x-shopify-hmac-sha256')?.trim();
  if (!raw) return fail('missing_header', 'X-Shopify-Hmac-Sha256');
  return sameSecret(raw, hmacOf('sha256', v.secret, req.body).toString('base64'))
    ? { ok: true }
    : fail('signature_mismatch', 'X-Shopify-Hmac-Sha256');
}

/** PagerDuty v3: `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]` (several while a secret rotates); one match is enough. */
export function verifyPagerDuty(v: Of<'pagerduty'>, req: InboundRequest): VerifyResult {
  const raw = headerOf(req.headers, 'x-pagerduty-signature');
  if (!raw) return fail('missing_header', 'X-PagerDuty-Signature');
  const candidates = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='))
    .map((s) => s.slice(3).toLowerCase());
  if (candidates.length === 0) return fail('malformed_header', 'X-PagerDuty-Signature has no v1= signature');
  return anySame(candidates, hmacOf('sha256', v.secret, req.body).toString('hex'))
    ? { ok: true }
    : fail('signature_mismatch', 'X-PagerDuty-Signature');
}

/**
 * Zendesk: `X-Zendesk-Webhook-Signature: base64(HMAC-SHA256(secret, <timestamp><raw body>))`, the
 * timestamp exactly as sent in X-Zendesk-Webhook-Signature-Timestamp (ISO 8601; Unix seconds are
 * accepted too) and within the tolerance.
 */
export function verifyZendesk(v: Of<'zendesk'>, req: InboundRequest): VerifyResult {
  const signature = headerOf(req.headers, 'x-zendesk-webhook-signature')?.trim();
  const timestamp = headerOf(req.headers, 'x-zendesk-webhook-signature-timestamp');
  if (!signature) return fail('missing_header', 'X-Zendesk-Webhook-Signature');
  if (!timestamp) return fail('missing_header', 'X-Zendesk-Webhook-Signature-Timestamp');
  const seconds = unixOrIsoSeconds(timestamp);
  if (seconds === null) return fail('malformed_header', 'X-Zendesk-Webhook-Signature-Timestamp is neither ISO 8601 nor Unix seconds');
  if (!withinTolerance(seconds, req.nowSeconds, v.toleranceSeconds))
    return fail('timestamp_outside_tolerance', `X-Zendesk-Webhook-Signature-Timestamp is more than ${v.toleranceSeconds} s from now`);
  const expected = hmacOf('sha256', v.secret, timestamp, req.body).toString('base64');
  if (!sameSecret(signature, expected)) return fail('signature_mismatch', 'X-Zendesk-Webhook-Signature');
  return { ok: true, replay: signatureReplay('zendesk', expected, seconds, req.nowSeconds, v.toleranceSeconds) };
}

/** Base64 of a DER ECDSA signature over P-256 is at most 96 characters; anything much longer is not one. */
const MAX_SENDGRID_SIGNATURE_LENGTH = 200;

/**
 * SendGrid Event Webhook: `X-Twilio-Email-Event-Webhook-Signature`, base64 of an ECDSA (P-256,
 * SHA-256, DER) signature over `<X-Twilio-Email-Event-Webhook-Timestamp><raw body>`, checked with
 * the verification key from SendGrid's settings.
 *
 * Replays are keyed by what was signed (timestamp and body), not by the signature: an ECDSA
 * signature has a second valid form (s -> n - s), so a copy could otherwise pass as new.
 */
export function verifySendGrid(v: Of<'sendgrid'>, req: InboundRequest): VerifyResult {
  const signature = headerOf(req.headers, 'x-twilio-email-event-webhook-signature')?.trim();
  const timestamp = headerOf(req.headers, 'x-twilio-email-event-webhook-timestamp');
  if (!signature) return fail('missing_header', 'X-Twilio-Email-Event-Webhook-Signature');
  if (!timestamp) return fail('missing_header', 'X-Twilio-Email-Event-Webhook-Timestamp');
  const seconds = unixSeconds(timestamp);
  if (seconds === null) return fail('malformed_header', 'X-Twilio-Email-Event-Webhook-Timestamp is not Unix seconds');
  if (!withinTolerance(seconds, req.nowSeconds, v.toleranceSeconds))
    return fail('timestamp_outside_tolerance', `X-Twilio-Email-Event-Webhook-Timestamp is more than ${v.toleranceSeconds} s from now`);
  if (signature.length > MAX_SENDGRID_SIGNATURE_LENGTH || !/^[A-Za-z0-9+/]+={0,2}$/.test(signature))
    return fail('malformed_header', 'X-Twilio-Email-Event-Webhook-Signature is not base64');
  let valid = false;
  try {
    const key = createPublicKey({ key: Buffer.from(v.publicKey, 'base64'), format: 'der', type: 'spki' });
    valid = verifySignature(
      'sha256',
      Buffer.concat([Buffer.from(timestamp, 'utf8'), req.body]),
      { key, dsaEncoding: 'der' },
      Buffer.from(signature, 'base64'),
    );
  } catch {
    valid = false; // a signature that is not DER: no match
  }
  if (!valid) return fail('signature_mismatch', 'X-Twilio-Email-Event-Webhook-Signature');
  return {
    ok: true,
    replay: signatureReplay('sendgrid', sha256Hex(timestamp, '\n', req.body), seconds, req.nowSeconds, v.toleranceSeconds),
  };
}

/**
 * Twitter / X Account Activity: `x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(consumer
 * secret, raw body)>`. Its CRC answer (handshakes.ts) hands out the same MAC of any `crc_token`
 * the caller picks, so a body must be a JSON object, which the CRC refuses as a token: no CRC
 * answer can ever be replayed as a post's signature.
 */
export function verifyTwitter(v: Of<'twitter'>, req: InboundRequest): VerifyResult {
  const raw = headerOf(req.headers, 'x-twitter-webhooks-signature')?.trim();
  if (!raw) return fail('missing_header', 'x-twitter-webhooks-signature');
  if (!raw.toLowerCase().startsWith('sha256=')) return fail('malformed_header', 'x-twitter-webhooks-signature lacks the prefix sha256=');
  if (!sameSecret(raw.slice('sha256='.length), hmacOf('sha256', v.consumerSecret, req.body).toString('base64')))
    return fail('signature_mismatch', 'x-twitter-webhooks-signature');
  if (!startsAsObject(req.body)) return fail('malformed_body', 'a Twitter post is a JSON object');
  return { ok: true };
}

/** True when the first non-blank byte is `{`. */
export function startsAsObject(text: Buffer | string): boolean {
  return /^\s*\{/.test(typeof text === 'string' ? text.slice(0, 64) : text.subarray(0, 64).toString('latin1'));
}

/** Twilio's hash per X-Twilio-Webhooks-Signature-Settings `algorithm=` (absent: HMAC_SHA1, the Auth Token signature). */
function twilioHash(settings: string | undefined): string | null {
  for (const part of (settings ?? '').split(',')) {
    const [name, value] = part.split('=', 2).map((s) => s.trim());
    if (name !== 'algorithm' || !value) continue;
    if (value.toUpperCase() === 'HMAC_SHA1') return 'sha1';
    if (value.toUpperCase() === 'HMAC_SHA256') return 'sha256';
    return null;
  }
  return 'sha1';
}

/** The URL as called, without and with its scheme's default port: Twilio signs either form (its own validateRequest tries both). */
function twilioUrlForms(url: string): string[] {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(url);
  if (!match) return [url];
  const [, scheme = '', authority = '', rest = ''] = match;
  const host = authority.replace(/:\d+$/, '');
  const port = scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  return [...new Set([url, `${scheme}${host}${rest}`, `${scheme}${host}${port}${rest}`])];
}

/**
 * The bytes Twilio signs after the URL: every form parameter's name immediately followed by its
 * value, names sorted (code-unit order); a name sent several times contributes each distinct value,
 * sorted (as twilio's getExpectedTwilioSignature does). Built once per request and encoded once:
 * each URL form's MAC reads these same bytes after its URL (twilioSignatures).
 */
function twilioParamBytes(body: Buffer): Buffer {
  const params = new Map<string, Set<string>>();
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
    const values = params.get(name) ?? new Set<string>();
    values.add(value);
    params.set(name, values);
  }
  const text = [...params.keys()]
    .sort()
    .map((name) =>
      [...(params.get(name) as Set<string>)]
        .sort()
        .map((value) => name + value)
        .join(''),
    )
    .join('');
  return Buffer.from(text, 'utf8');
}

/**
 * The signature Twilio would send for each form of the URL: HMAC(auth token, <URL form><params>),
 * base64. The MAC is fed the URL and then the shared parameter bytes, which is the same input as
 * their concatenation (UTF-8 of a concatenation is the concatenation of the UTF-8s), without
 * building and encoding a copy of a body-sized text per URL form (~1.5 ms of the ~18 ms a 1 MB
 * form of 10,000 fields with a bad signature cost the shared process; parsing and sorting it is
 * the rest).
 */
function twilioSignatures(hash: string, authToken: string, url: string, params: Buffer): string[] {
  return twilioUrlForms(url).map((form) => hmacOf(hash, authToken, form, params).toString('base64'));
}

/**
 * The `bodySHA256` in a Twilio URL's query, or null: without it the body is read as the form fields
 * Twilio signs (the ingest route gives such a body a smaller limit, ingest-body.ts).
 */
export function twilioBodyHashIn(url: string): string | null {
  const at = url.indexOf('?');
  return at === -1 ? null : new URLSearchParams(url.slice(at + 1)).get('bodySHA256');
}

/**
 * Twilio: `X-Twilio-Signature: base64(HMAC-SHA1(auth token, <full URL><params>))`. A form post signs
 * its sorted parameters after the URL; a JSON post instead carries `bodySHA256=<hex SHA-256 of the
 * body>` in the URL, which is then signed alone, and the hash is checked against the body. A body
 * without bodySHA256 is always read as form parameters, so no body goes unsigned.
 */
export function verifyTwilio(v: Of<'twilio'>, req: InboundRequest): VerifyResult {
  const signature = headerOf(req.headers, 'x-twilio-signature')?.trim();
  if (!signature) return fail('missing_header', 'X-Twilio-Signature');
  if (!req.url) return fail('public_url_unset', 'HOOKRELAY_PUBLIC_URL is not set, so the URL Twilio signed is unknown');
  const hash = twilioHash(headerOf(req.headers, 'x-twilio-webhooks-signature-settings'));
  if (!hash)
    return fail('unsupported_algorithm', 'X-Twilio-Webhooks-Signature-Settings names an algorithm other than HMAC_SHA1 or HMAC_SHA256');
  const bodyHash = twilioBodyHashIn(req.url);
  // Bounded before the parameters are parsed and sorted, which happens before the signature can be compared.
  if (bodyHash === null && tooManyFormFields(req.body, TWILIO_MAX_FORM_FIELDS)) return fail('malformed_body', TOO_MANY_TWILIO_FIELDS);
  const params = bodyHash === null ? twilioParamBytes(req.body) : Buffer.alloc(0);
  const expected = twilioSignatures(hash, v.authToken, req.url, params);
  let matched = false;
  for (const candidate of expected) if (sameSecret(signature, candidate)) matched = true;
  if (!matched) return fail('signature_mismatch', 'X-Twilio-Signature');
  if (bodyHash !== null && !sameSecret(bodyHash.toLowerCase(), sha256Hex(req.body)))
    return fail('body_hash_mismatch', 'bodySHA256 in the URL is not the SHA-256 of the body');
  return { ok: true };
}
