// Test-only: one realistic signed request per provider, signed as the vendor signs (vendor-signers.ts).
import { randomBytes, randomUUID } from 'node:crypto';
import {
  facebookSignature,
  githubSignature,
  pagerdutySignature,
  sendgridHeaders,
  sendgridKeyPair,
  shopifyHeaders,
  slackHeaders,
  stripeSignature,
  twilioSignature,
  twitterSignature,
  zendeskHeaders,
} from './vendor-signers';

/** The public URL the Twilio tests' harness is given: Twilio signs the URL it calls, not the one the test reaches. */
export const PUBLIC_URL = 'https://hooks.example.com';

export interface SignedRequest {
  headers: Record<string, string>;
  /** Appended to the ingest URL, e.g. `?bodySHA256=...`. */
  query?: string;
}

export interface ProviderCase<K = unknown> {
  type: string;
  /** A fresh secret (for SendGrid, a key pair). */
  newSecret(): K;
  verification(secret: K): Record<string, unknown>;
  body: string;
  contentType: string;
  /** Signs `body` for `url` (the full public URL, for Twilio), `ageSeconds` in the past. */
  sign(secret: K, body: string, opts: { url: string; ageSeconds: number }): Promise<SignedRequest>;
  /** What the request publishes with the type's default eventType. */
  publishedType: string;
  /** The header whose absence is `missing_header: <name>`, as the reason names it. */
  signatureHeader: string;
  /** The reason for a tampered body or a wrong secret. */
  mismatch: string;
  /** The reason for a stale timestamp, for the types that sign one. */
  stale?: string;
  /** The header carrying the signed timestamp, for the types that send it apart from the signature. */
  timestampHeader?: string;
}

const text = (n = 12) => randomBytes(n).toString('hex');

const hmacSecret = () => text();

const github: ProviderCase<string> = {
  type: 'github',
  newSecret: hmacSecret,
  verification: (secret) => ({ type: 'github', secret }),
  body: JSON.stringify({ action: 'opened', number: 42, pull_request: { title: 'Add sources' } }),
  contentType: 'application/json',
  sign: async (secret, body) => ({
    headers: {
      'x-github-event': 'pull_request',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': await githubSignature(secret, body),
    },
  }),
  publishedType: 'github.pull_request.opened',
  signatureHeader: 'X-Hub-Signature-256',
  mismatch: 'signature_mismatch: X-Hub-Signature-256',
};

const twilio: ProviderCase<string> = {
  type: 'twilio',
  newSecret: hmacSecret,
  verification: (authToken) => ({ type: 'twilio', authToken }),
  body: new URLSearchParams({
    MessageSid: 'SM1234567890abcdef1234567890abcdef',
    From: '+15005550006',
    To: '+15551234567',
    Body: 'Ahoy & welcome',
    MessageStatus: 'received',
  }).toString(),
  contentType: 'application/x-www-form-urlencoded',
  sign: async (authToken, body, { url }) => ({
    headers: { 'x-twilio-signature': twilioSignature(authToken, url, Object.fromEntries(new URLSearchParams(body))) },
  }),
  publishedType: 'source.twilio',
  signatureHeader: 'X-Twilio-Signature',
  mismatch: 'signature_mismatch: X-Twilio-Signature',
};

const pagerduty: ProviderCase<string> = {
  type: 'pagerduty',
  newSecret: hmacSecret,
  verification: (secret) => ({ type: 'pagerduty', secret }),
  body: JSON.stringify({
    event: {
      id: '01DEN4HPBQAAAG05V5QQYBRZMF',
      event_type: 'incident.triggered',
      resource_type: 'incident',
      data: { id: 'PGR0VU2', status: 'triggered' },
    },
  }),
  contentType: 'application/json',
  sign: async (secret, body) => ({ headers: { 'x-pagerduty-signature': pagerdutySignature([secret], body) } }),
  publishedType: 'pagerduty.incident.triggered',
  signatureHeader: 'X-PagerDuty-Signature',
  mismatch: 'signature_mismatch: X-PagerDuty-Signature',
};

const zendesk: ProviderCase<string> = {
  type: 'zendesk',
  newSecret: () => randomBytes(32).toString('base64'),
  verification: (secret) => ({ type: 'zendesk', secret }),
  body: JSON.stringify({ type: 'zen:event-type:ticket.created', detail: { id: '35436', subject: 'Printer on fire' } }),
  contentType: 'application/json',
  sign: async (secret, body, { ageSeconds }) => ({ headers: zendeskHeaders(secret, body, new Date(Date.now() - ageSeconds * 1000)) }),
  publishedType: 'source.zendesk',
  signatureHeader: 'X-Zendesk-Webhook-Signature',
  mismatch: 'signature_mismatch: X-Zendesk-Webhook-Signature',
  stale: 'timestamp_outside_tolerance: X-Zendesk-Webhook-Signature-Timestamp is more than 300 s from now',
  timestampHeader: 'X-Zendesk-Webhook-Signature-Timestamp',
};

type SendGridKeys = ReturnType<typeof sendgridKeyPair>;
const sendgrid: ProviderCase<SendGridKeys> = {
  type: 'sendgrid',
  newSecret: sendgridKeyPair,
  verification: (keys) => ({ type: 'sendgrid', publicKey: keys.publicKey }),
  // SendGrid's own framing: events separated by CRLF, a trailing CRLF (see @sendgrid/eventwebhook's spec).
  body: `${JSON.stringify([{ email: 'ada@example.com', event: 'delivered', sg_event_id: 'ZGVsaXZlcmVk', sg_message_id: 'msg.1', timestamp: 1600112492 }])}\r\n`,
  contentType: 'application/json',
  sign: async (keys, body, { ageSeconds }) => ({ headers: sendgridHeaders(keys, body, Math.floor(Date.now() / 1000) - ageSeconds) }),
  publishedType: 'sendgrid.delivered',
  signatureHeader: 'X-Twilio-Email-Event-Webhook-Signature',
  mismatch: 'signature_mismatch: X-Twilio-Email-Event-Webhook-Signature',
  stale: 'timestamp_outside_tolerance: X-Twilio-Email-Event-Webhook-Timestamp is more than 300 s from now',
  timestampHeader: 'X-Twilio-Email-Event-Webhook-Timestamp',
};

/** Meta's app secret and the verify token the app owner chose; each case gets its own. */
type MetaSecrets = { appSecret: string; verifyToken: string };
const facebook: ProviderCase<MetaSecrets> = {
  type: 'facebook',
  newSecret: () => ({ appSecret: text(), verifyToken: text(8) }),
  verification: (s) => ({ type: 'facebook', ...s }),
  body: JSON.stringify({
    object: 'page',
    entry: [{ id: '1234', time: 1700000000, changes: [{ field: 'feed', value: { item: 'post', verb: 'add' } }] }],
  }),
  contentType: 'application/json',
  sign: async (s, body) => ({ headers: { 'x-hub-signature-256': facebookSignature(s.appSecret, body) } }),
  publishedType: 'facebook.page',
  signatureHeader: 'X-Hub-Signature-256',
  mismatch: 'signature_mismatch: X-Hub-Signature-256',
};

const twitter: ProviderCase<string> = {
  type: 'twitter',
  newSecret: hmacSecret,
  verification: (consumerSecret) => ({ type: 'twitter', consumerSecret }),
  body: JSON.stringify({ for_user_id: '2244994945', tweet_create_events: [{ id_str: '1050118621198921728', text: 'Hello' }] }),
  contentType: 'application/json',
  sign: async (secret, body) => ({ headers: { 'x-twitter-webhooks-signature': twitterSignature(secret, body) } }),
  publishedType: 'source.twitter',
  signatureHeader: 'x-twitter-webhooks-signature',
  mismatch: 'signature_mismatch: x-twitter-webhooks-signature',
};

const shopify: ProviderCase<string> = {
  type: 'shopify',
  newSecret: hmacSecret,
  verification: (secret) => ({ type: 'shopify', secret }),
  body: JSON.stringify({ id: 820982911946154500, email: 'jon@example.com', total_price: '403.00' }),
  contentType: 'application/json',
  sign: async (secret, body) => ({ headers: await shopifyHeaders(secret, body, 'orders/create') }),
  publishedType: 'shopify.orders.create',
  signatureHeader: 'X-Shopify-Hmac-Sha256',
  mismatch: 'signature_mismatch: X-Shopify-Hmac-Sha256',
};

const stripe: ProviderCase<string> = {
  type: 'stripe',
  newSecret: () => `whsec_${text()}`,
  verification: (secret) => ({ type: 'stripe', secret }),
  body: JSON.stringify({ id: 'evt_1', type: 'invoice.paid', data: { object: { id: 'in_1' } } }),
  contentType: 'application/json',
  sign: async (secret, body, { ageSeconds }) => ({
    headers: { 'stripe-signature': stripeSignature(secret, body, Math.floor(Date.now() / 1000) - ageSeconds) },
  }),
  publishedType: 'stripe.invoice.paid',
  signatureHeader: 'Stripe-Signature',
  mismatch: 'signature_mismatch: Stripe-Signature',
  stale: 'timestamp_outside_tolerance: Stripe-Signature t= is more than 300 s from now',
};

const slack: ProviderCase<string> = {
  type: 'slack',
  newSecret: hmacSecret,
  verification: (signingSecret) => ({ type: 'slack', signingSecret }),
  body: JSON.stringify({ type: 'event_callback', event: { type: 'message', text: 'deploy done', channel: 'C0OPS' } }),
  contentType: 'application/json',
  sign: async (secret, body, { ageSeconds }) => ({ headers: slackHeaders(secret, body, Math.floor(Date.now() / 1000) - ageSeconds) }),
  publishedType: 'slack.message',
  signatureHeader: 'X-Slack-Signature',
  mismatch: 'signature_mismatch: X-Slack-Signature',
  stale: 'timestamp_outside_tolerance: X-Slack-Request-Timestamp is more than 300 s from now',
  timestampHeader: 'X-Slack-Request-Timestamp',
};

/** The senders a workflow engine's webhook task accepts, each with its own preset. */
export const PROVIDER_CASES: ReadonlyArray<ProviderCase<any>> = [
  github,
  twilio,
  pagerduty,
  zendesk,
  sendgrid,
  facebook,
  twitter,
  shopify,
  stripe,
  slack,
];
