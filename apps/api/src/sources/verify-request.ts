import { verifyStandardWebhook } from '@hookrelay/signing';
import type { SourceVerification } from './source-input';
import {
  anySame,
  fail,
  headerOf,
  hmacOf,
  MAX_SIGNATURE_CANDIDATES,
  sameSecret,
  signatureReplay,
  unixSeconds,
  withinTolerance,
  type InboundRequest,
  type VerifyResult,
} from './verify-kit';
import {
  verifyFacebook,
  verifyGithub,
  verifyPagerDuty,
  verifySendGrid,
  verifyShopify,
  verifyTwilio,
  verifyTwitter,
  verifyZendesk,
} from './vendor-verifiers';

export { sameSecret, type InboundRequest, type VerifyResult } from './verify-kit';

/** Standard Webhooks senders retry a message with its webhook-id for up to a day or more. */
export const WEBHOOK_ID_WINDOW_MS = 24 * 3600 * 1000;

/** Slack's recipe: reject requests whose timestamp is more than five minutes from now. */
const SLACK_TOLERANCE_SECONDS = 300;

/** Stripe-Signature: `t=<unix>,v1=<hex>[,v1=<hex>...]`, HMAC-SHA256 of `<t>.<body>` keyed with the whsec_ text. */
function verifyStripe(v: Extract<SourceVerification, { type: 'stripe' }>, req: InboundRequest): VerifyResult {
  const raw = headerOf(req.headers, 'stripe-signature');
  if (!raw) return fail('missing_header', 'Stripe-Signature');
  const pairs = raw.split(',').map((p) => p.trim().split('='));
  const timestamp = pairs.find(([k]) => k === 't')?.[1] ?? '';
  const candidates = pairs.filter(([k, val]) => k === 'v1' && val).map(([, val]) => (val as string).toLowerCase());
  const seconds = unixSeconds(timestamp);
  if (seconds === null || candidates.length === 0) return fail('malformed_header', 'Stripe-Signature has no t= or v1=');
  if (!withinTolerance(seconds, req.nowSeconds, v.toleranceSeconds))
    return fail('timestamp_outside_tolerance', `Stripe-Signature t= is more than ${v.toleranceSeconds} s from now`);
  const expected = hmacOf('sha256', v.secret, `${timestamp}.`, req.body).toString('hex');
  return anySame(candidates, expected)
    ? { ok: true, replay: signatureReplay('stripe', expected, seconds, req.nowSeconds, v.toleranceSeconds) }
    : fail('signature_mismatch', 'Stripe-Signature');
}

/** Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<ts>:<body>">` with X-Slack-Request-Timestamp. */
function verifySlack(v: Extract<SourceVerification, { type: 'slack' }>, req: InboundRequest): VerifyResult {
  const timestamp = headerOf(req.headers, 'x-slack-request-timestamp');
  const signature = headerOf(req.headers, 'x-slack-signature');
  if (!timestamp || !signature) return fail('missing_header', !signature ? 'X-Slack-Signature' : 'X-Slack-Request-Timestamp');
  const seconds = unixSeconds(timestamp);
  if (seconds === null) return fail('malformed_header', 'X-Slack-Request-Timestamp is not Unix seconds');
  if (!withinTolerance(seconds, req.nowSeconds, SLACK_TOLERANCE_SECONDS))
    return fail('timestamp_outside_tolerance', `X-Slack-Request-Timestamp is more than ${SLACK_TOLERANCE_SECONDS} s from now`);
  const expected = `v0=${hmacOf('sha256', v.signingSecret, `v0:${timestamp}:`, req.body).toString('hex')}`;
  if (!sameSecret(signature.trim().toLowerCase(), expected)) return fail('signature_mismatch', 'X-Slack-Signature');
  return { ok: true, replay: signatureReplay('slack', expected, seconds, req.nowSeconds, SLACK_TOLERANCE_SECONDS) };
}

function verifyHmac(v: Extract<SourceVerification, { type: 'hmac' }>, req: InboundRequest): VerifyResult {
  const raw = headerOf(req.headers, v.header)?.trim();
  if (!raw) return fail('missing_header', v.header);
  const prefix = v.prefix ?? '';
  if (!raw.startsWith(prefix)) return fail('malformed_header', `${v.header} lacks the prefix ${prefix}`);
  const mac = hmacOf(v.algorithm, v.secret, req.body);
  // Hex is case-insensitive (some SDKs upper-case it); base64 is compared as sent.
  const received = v.encoding === 'hex' ? raw.slice(prefix.length).toLowerCase() : raw.slice(prefix.length);
  return sameSecret(received, mac.toString(v.encoding)) ? { ok: true } : fail('signature_mismatch', v.header);
}

function verifyBasic(v: Extract<SourceVerification, { type: 'basic' }>, req: InboundRequest): VerifyResult {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(headerOf(req.headers, 'authorization') ?? '');
  if (!match?.[1]) return fail('missing_header', 'Authorization: Basic');
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const username = colon === -1 ? decoded : decoded.slice(0, colon);
  const password = colon === -1 ? '' : decoded.slice(colon + 1);
  // Both compared every time, so timing does not tell a right username from a wrong one.
  const userOk = sameSecret(username, v.username);
  const passOk = sameSecret(password, v.password);
  return userOk && passOk ? { ok: true } : fail('credentials_mismatch', 'basic credentials');
}

function verifyHeaders(v: Extract<SourceVerification, { type: 'header' }>, req: InboundRequest): VerifyResult {
  let ok = true;
  const missing: string[] = [];
  for (const [name, value] of Object.entries(v.headers)) {
    const got = headerOf(req.headers, name);
    if (got === undefined) missing.push(name);
    if (!sameSecret(got ?? '', value)) ok = false;
  }
  if (ok) return { ok: true };
  return missing.length ? fail('missing_header', missing.join(', ')) : fail('credentials_mismatch', 'a header value does not match');
}

function verifyStandard(v: Extract<SourceVerification, { type: 'standard-webhooks' }>, req: InboundRequest): VerifyResult {
  const id = headerOf(req.headers, 'webhook-id');
  const timestamp = headerOf(req.headers, 'webhook-timestamp');
  const signature = headerOf(req.headers, 'webhook-signature');
  if (!id || !timestamp || !signature)
    return fail(
      'missing_header',
      [!id && 'webhook-id', !timestamp && 'webhook-timestamp', !signature && 'webhook-signature'].filter(Boolean).join(', '),
    );
  const seconds = unixSeconds(timestamp);
  if (seconds === null) return fail('malformed_header', 'webhook-timestamp is not Unix seconds');
  if (!withinTolerance(seconds, req.nowSeconds, v.toleranceSeconds))
    return fail('timestamp_outside_tolerance', `webhook-timestamp is more than ${v.toleranceSeconds} s from now`);
  // Each candidate is compared: the first MAX_SIGNATURE_CANDIDATES, as for Stripe's and PagerDuty's.
  const candidates = signature.split(' ', MAX_SIGNATURE_CANDIDATES).join(' ');
  const headers = { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': candidates };
  const ok = verifyStandardWebhook({
    secret: v.secret,
    body: req.body,
    headers,
    nowSeconds: req.nowSeconds,
    toleranceSeconds: v.toleranceSeconds,
  });
  // The id is signed, and the spec makes it the sender's idempotency key: copies and retries share it.
  return ok
    ? { ok: true, replay: { key: `standard-webhooks:${id}`, windowMs: WEBHOOK_ID_WINDOW_MS, what: 'webhook-id already published' } }
    : fail('signature_mismatch', 'webhook-signature');
}

/**
 * Checks one inbound request against a source's verification. Never throws for anything the sender
 * controls. `allowUnauthenticated` is the operator's switch: with it off, a `none` source refuses
 * everything, even one created while it was on.
 */
export function verifyInbound(v: SourceVerification, req: InboundRequest, allowUnauthenticated: boolean): VerifyResult {
  switch (v.type) {
    case 'none':
      return allowUnauthenticated ? { ok: true } : fail('unauthenticated_disabled', 'unauthenticated sources are disabled on this server');
    case 'header':
      return verifyHeaders(v, req);
    case 'hmac':
      return verifyHmac(v, req);
    case 'stripe':
      return verifyStripe(v, req);
    case 'standard-webhooks':
      return verifyStandard(v, req);
    case 'slack':
      return verifySlack(v, req);
    case 'basic':
      return verifyBasic(v, req);
    case 'github':
      return verifyGithub(v, req);
    case 'twilio':
      return verifyTwilio(v, req);
    case 'pagerduty':
      return verifyPagerDuty(v, req);
    case 'zendesk':
      return verifyZendesk(v, req);
    case 'sendgrid':
      return verifySendGrid(v, req);
    case 'facebook':
      return verifyFacebook(v, req);
    case 'twitter':
      return verifyTwitter(v, req);
    case 'shopify':
      return verifyShopify(v, req);
  }
}

/** True for types a plain GET (a challenge echo) can satisfy: they do not sign a body. */
export function checkableOnGet(v: SourceVerification): boolean {
  return v.type === 'none' || v.type === 'header' || v.type === 'basic';
}
