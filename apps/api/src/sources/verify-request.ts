import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { verifyStandardWebhook } from '@hookrelay/signing';
import type { SourceVerification } from './source-input';

export interface InboundRequest {
  headers: IncomingHttpHeaders;
  /** The raw body bytes, exactly as received: every signature is over these. */
  body: Buffer;
  nowSeconds: number;
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
}

/** `reason` goes to the source's history only; the sender gets a bare 401. */
export type VerifyResult = { ok: true; replay?: ReplayKey } | { ok: false; reason: string };

const fail = (reason: string): VerifyResult => ({ ok: false, reason });

/** Standard Webhooks senders retry a message with its webhook-id for up to a day or more. */
export const WEBHOOK_ID_WINDOW_MS = 24 * 3600 * 1000;

/**
 * A signature accepted at `nowSeconds` stays acceptable while its timestamp is within the
 * tolerance: a second past that, the verifier refuses the copy by itself.
 */
function signatureReplay(scheme: string, signature: string, rawTimestamp: string, nowSeconds: number, toleranceSeconds: number): ReplayKey {
  const windowSeconds = Math.max(1, Number(rawTimestamp) + toleranceSeconds + 1 - nowSeconds);
  return { key: `${scheme}:${signature}`, windowMs: windowSeconds * 1000, what: `${scheme} signature already accepted` };
}

/** Slack's recipe: reject requests whose timestamp is more than five minutes from now. */
const SLACK_TOLERANCE_SECONDS = 300;

/**
 * Compares two secrets in constant time. Both sides are hashed first so the comparison runs over
 * equal lengths and neither the length nor the position of the first difference leaks.
 */
export function sameSecret(received: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(received), digest(expected));
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function hmacOf(algorithm: string, key: string | Buffer, ...parts: Array<string | Buffer>): Buffer {
  const mac = createHmac(algorithm, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

function withinTolerance(rawTimestamp: string, nowSeconds: number, toleranceSeconds: number): boolean {
  if (!/^\d{1,15}$/.test(rawTimestamp)) return false;
  return Math.abs(nowSeconds - Number(rawTimestamp)) <= toleranceSeconds;
}

/** Stripe-Signature: `t=<unix>,v1=<hex>[,v1=<hex>...]`, HMAC-SHA256 of `<t>.<body>` keyed with the whsec_ text. */
function verifyStripe(v: Extract<SourceVerification, { type: 'stripe' }>, req: InboundRequest): VerifyResult {
  const raw = header(req.headers, 'stripe-signature');
  if (!raw) return fail('Stripe-Signature header missing');
  const pairs = raw.split(',').map((p) => p.trim().split('='));
  const timestamp = pairs.find(([k]) => k === 't')?.[1] ?? '';
  const candidates = pairs.filter(([k, val]) => k === 'v1' && val).map(([, val]) => (val as string).toLowerCase());
  if (!timestamp || candidates.length === 0) return fail('Stripe-Signature has no t= or v1=');
  if (!withinTolerance(timestamp, req.nowSeconds, v.toleranceSeconds)) return fail('Stripe-Signature timestamp outside tolerance');
  const expected = hmacOf('sha256', v.secret, `${timestamp}.`, req.body).toString('hex');
  let matched = false;
  for (const candidate of candidates) if (sameSecret(candidate, expected)) matched = true;
  return matched ? { ok: true, replay: signatureReplay('stripe', expected, timestamp, req.nowSeconds, v.toleranceSeconds) } : fail('Stripe-Signature does not match');
}

/** Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<ts>:<body>">` with X-Slack-Request-Timestamp. */
function verifySlack(v: Extract<SourceVerification, { type: 'slack' }>, req: InboundRequest): VerifyResult {
  const timestamp = header(req.headers, 'x-slack-request-timestamp');
  const signature = header(req.headers, 'x-slack-signature');
  if (!timestamp || !signature) return fail('X-Slack-Signature or X-Slack-Request-Timestamp missing');
  if (!withinTolerance(timestamp, req.nowSeconds, SLACK_TOLERANCE_SECONDS)) return fail('X-Slack-Request-Timestamp outside tolerance');
  const expected = `v0=${hmacOf('sha256', v.signingSecret, `v0:${timestamp}:`, req.body).toString('hex')}`;
  if (!sameSecret(signature.trim().toLowerCase(), expected)) return fail('X-Slack-Signature does not match');
  return { ok: true, replay: signatureReplay('slack', expected, timestamp, req.nowSeconds, SLACK_TOLERANCE_SECONDS) };
}

function verifyHmac(v: Extract<SourceVerification, { type: 'hmac' }>, req: InboundRequest): VerifyResult {
  const raw = header(req.headers, v.header)?.trim();
  if (!raw) return fail(`${v.header} header missing`);
  const prefix = v.prefix ?? '';
  if (!raw.startsWith(prefix)) return fail(`${v.header} lacks the prefix ${prefix}`);
  const mac = hmacOf(v.algorithm, v.secret, req.body);
  // Hex is case-insensitive (some SDKs upper-case it); base64 is compared as sent.
  const received = v.encoding === 'hex' ? raw.slice(prefix.length).toLowerCase() : raw.slice(prefix.length);
  return sameSecret(received, mac.toString(v.encoding)) ? { ok: true } : fail(`${v.header} does not match`);
}

function verifyBasic(v: Extract<SourceVerification, { type: 'basic' }>, req: InboundRequest): VerifyResult {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header(req.headers, 'authorization') ?? '');
  if (!match?.[1]) return fail('Authorization: Basic missing');
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const username = colon === -1 ? decoded : decoded.slice(0, colon);
  const password = colon === -1 ? '' : decoded.slice(colon + 1);
  // Both compared every time, so timing does not tell a right username from a wrong one.
  const userOk = sameSecret(username, v.username);
  const passOk = sameSecret(password, v.password);
  return userOk && passOk ? { ok: true } : fail('basic credentials do not match');
}

/**
 * Checks one inbound request against a source's verification. Never throws for anything the sender
 * controls. `allowUnauthenticated` is the operator's switch: with it off, a `none` source refuses
 * everything, even one created while it was on.
 */
export function verifyInbound(v: SourceVerification, req: InboundRequest, allowUnauthenticated: boolean): VerifyResult {
  switch (v.type) {
    case 'none':
      return allowUnauthenticated ? { ok: true } : fail('unauthenticated sources are disabled on this server');
    case 'header': {
      let ok = true;
      const missing: string[] = [];
      for (const [name, value] of Object.entries(v.headers)) {
        const got = header(req.headers, name);
        if (got === undefined) missing.push(name);
        if (!sameSecret(got ?? '', value)) ok = false;
      }
      if (ok) return { ok: true };
      return fail(missing.length ? `header ${missing.join(', ')} missing` : 'a header value does not match');
    }
    case 'hmac':
      return verifyHmac(v, req);
    case 'stripe':
      return verifyStripe(v, req);
    case 'standard-webhooks': {
      const id = header(req.headers, 'webhook-id');
      const timestamp = header(req.headers, 'webhook-timestamp');
      const signature = header(req.headers, 'webhook-signature');
      if (!id || !timestamp || !signature) return fail('webhook-id, webhook-timestamp or webhook-signature missing');
      if (!withinTolerance(timestamp, req.nowSeconds, v.toleranceSeconds)) return fail('webhook-timestamp outside tolerance');
      const headers = { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature };
      const ok = verifyStandardWebhook({ secret: v.secret, body: req.body, headers, nowSeconds: req.nowSeconds, toleranceSeconds: v.toleranceSeconds });
      // The id is signed, and the spec makes it the sender's idempotency key: copies and retries share it.
      return ok ? { ok: true, replay: { key: `standard-webhooks:${id}`, windowMs: WEBHOOK_ID_WINDOW_MS, what: 'webhook-id already published' } } : fail('webhook-signature does not match');
    }
    case 'slack':
      return verifySlack(v, req);
    case 'basic':
      return verifyBasic(v, req);
  }
}

/** True for types a plain GET (a challenge echo) can satisfy: they do not sign a body. */
export function checkableOnGet(v: SourceVerification): boolean {
  return v.type === 'none' || v.type === 'header' || v.type === 'basic';
}
