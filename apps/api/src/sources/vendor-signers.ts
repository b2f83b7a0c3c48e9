// Test-only: requests signed the way each vendor signs them, by the vendor's own library where one exists.
import { execFile } from 'node:child_process';
import { createHmac, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { EventWebhook, EventWebhookHeader } from '@sendgrid/eventwebhook';
import { ApiVersion, LogSeverity, shopifyApi } from '@shopify/shopify-api';
import Stripe from 'stripe';
import { Webhook } from 'standardwebhooks';
import * as twilioWebhooks from 'twilio/lib/webhooks/webhooks';

const run = promisify(execFile);

// Subpath modules of @shopify/shopify-api: loaded with require because the repo's TypeScript
// resolution (moduleResolution node) would reach the package's .ts sources, not its declarations.
/* eslint-disable @typescript-eslint/no-require-imports */
require('@shopify/shopify-api/adapters/web-api');
const { getHmac } = require('@shopify/shopify-api/test-helpers') as { getHmac(body: string, apiSecretKey: string): string };
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * GitHub's `X-Hub-Signature-256`, from @octokit/webhooks-methods `sign`. The package is ESM-only and
 * jest runs CommonJS, so it is called from a child node process; secret and body travel as
 * environment variables so no quoting can alter them.
 */
export async function githubSignature(secret: string, body: string): Promise<string> {
  const script =
    "import { sign } from '@octokit/webhooks-methods'; process.stdout.write(await sign(process.env.GH_SECRET, process.env.GH_BODY));";
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, GH_SECRET: secret, GH_BODY: body },
  });
  return stdout;
}

const stripe = new Stripe('sk_test_hookrelay_not_a_real_key');

/** `Stripe-Signature` from the stripe package's own test helper. */
export function stripeSignature(secret: string, body: string, timestampSeconds?: number): string {
  return stripe.webhooks.generateTestHeaderString({
    payload: body,
    secret,
    ...(timestampSeconds !== undefined ? { timestamp: timestampSeconds } : {}),
  });
}

/** webhook-id, webhook-timestamp and webhook-signature from the standardwebhooks reference library. */
export function standardWebhooksHeaders(secret: string, id: string, body: string, at: Date = new Date()): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  };
}

/**
 * Slack's documented recipe (api.slack.com/authentication/verifying-requests-from-slack):
 * `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>` keyed with the signing secret.
 */
export function slackHeaders(
  signingSecret: string,
  body: string,
  timestampSeconds = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const signature = createHmac('sha256', signingSecret).update(`v0:${timestampSeconds}:${body}`).digest('hex');
  return { 'x-slack-request-timestamp': String(timestampSeconds), 'x-slack-signature': `v0=${signature}` };
}

/**
 * Twilio's `X-Twilio-Signature` for a request to `url`, from the twilio package's own
 * getExpectedTwilioSignature (form posts: `params` are the form fields; JSON posts: the URL carries
 * bodySHA256 and params are empty). `validateRequest` is what Twilio's helper library gives
 * receivers: the signature is checked with it before the test sends anything.
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string | string[]> = {}): string {
  const signature = twilioWebhooks.getExpectedTwilioSignature(authToken, url, params);
  if (!twilioWebhooks.validateRequest(authToken, signature, url, params))
    throw new Error('twilio.validateRequest refuses its own signature');
  return signature;
}

/** The `bodySHA256` query value Twilio adds to the URL of a JSON webhook, from the twilio package. */
export function twilioBodyHash(body: string): string {
  return twilioWebhooks.getExpectedBodyHash(body);
}

/**
 * A SendGrid Event Webhook signing key pair: SendGrid signs with its private key and shows the
 * public one in its settings as base64 DER, which is what `publicKey` is here.
 */
export function sendgridKeyPair(): { publicKey: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'), privateKey };
}

/**
 * `X-Twilio-Email-Event-Webhook-Signature` and `-Timestamp` as SendGrid sends them: base64 of a DER
 * ECDSA P-256/SHA-256 signature over `<timestamp><body>`. @sendgrid/eventwebhook only verifies, so the
 * signature is made with node:crypto and must pass the library's verifySignature before it is used.
 */
export function sendgridHeaders(
  keys: { publicKey: string; privateKey: KeyObject },
  body: string,
  timestampSeconds = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const timestamp = String(timestampSeconds);
  const signature = sign('sha256', Buffer.from(timestamp + body), { key: keys.privateKey, dsaEncoding: 'der' }).toString('base64');
  const webhook = new EventWebhook();
  if (!webhook.verifySignature(webhook.convertPublicKeyToECDSA(keys.publicKey), body, signature, timestamp))
    throw new Error('@sendgrid/eventwebhook refuses the signature');
  return { [EventWebhookHeader.SIGNATURE().toLowerCase()]: signature, [EventWebhookHeader.TIMESTAMP().toLowerCase()]: timestamp };
}

/**
 * Shopify's `X-Shopify-Hmac-Sha256`, from @shopify/shopify-api's test helper getHmac, checked with
 * the library's own `webhooks.validate` (with the headers a Shopify webhook carries) before use.
 */
export async function shopifyHeaders(
  secret: string,
  body: string,
  topic = 'orders/create',
  webhookId: string = randomUUID(),
): Promise<Record<string, string>> {
  const headers = {
    'x-shopify-hmac-sha256': getHmac(body, secret),
    'x-shopify-topic': topic,
    'x-shopify-shop-domain': 'hookrelay-test.myshopify.com',
    'x-shopify-api-version': '2025-01',
    'x-shopify-webhook-id': webhookId,
  };
  const shopify = shopifyApi({
    apiKey: 'hookrelay-test',
    apiSecretKey: secret,
    hostName: 'hooks.example.com',
    apiVersion: ApiVersion.January25,
    isEmbeddedApp: false,
    logger: { level: LogSeverity.Error, log: async () => undefined },
  });
  const verdict = await shopify.webhooks.validate({
    rawBody: body,
    rawRequest: new Request('https://hooks.example.com/in/x', { method: 'POST', headers, body }),
  });
  if (!verdict.valid) throw new Error(`@shopify/shopify-api refuses the request: ${JSON.stringify(verdict)}`);
  return headers;
}

/**
 * PagerDuty v3's `X-PagerDuty-Signature`, byte for byte from its docs ("Verifying Signatures"):
 * `v1=` + hex HMAC-SHA256 of the raw body keyed with the subscription's secret, one per secret,
 * comma-separated. (PagerDuty publishes no npm verifier; its Go library's test vector is in the
 * ingest test.)
 */
export function pagerdutySignature(secrets: string[], body: string): string {
  return secrets.map((secret) => `v1=${createHmac('sha256', secret).update(body).digest('hex')}`).join(',');
}

/**
 * Zendesk's recipe (developer.zendesk.com "Verifying webhook authenticity"): base64 of
 * HMAC-SHA256(secret, TIMESTAMP + BODY), the timestamp as sent in ISO 8601. Zendesk has no SDK.
 */
export function zendeskHeaders(secret: string, body: string, at: Date = new Date()): Record<string, string> {
  const timestamp = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const signature = createHmac('sha256', secret)
    .update(timestamp + body)
    .digest('base64');
  return { 'x-zendesk-webhook-signature': signature, 'x-zendesk-webhook-signature-timestamp': timestamp };
}

/** Meta's `X-Hub-Signature-256` (Graph API "Webhooks": `sha256=` + hex HMAC-SHA256 of the payload keyed with the app secret). */
export function facebookSignature(appSecret: string, body: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}

/** Twitter / X Account Activity ("Securing webhooks"): `sha256=` + base64 HMAC-SHA256 keyed with the consumer secret. */
export function twitterSignature(consumerSecret: string, payload: string): string {
  return `sha256=${createHmac('sha256', consumerSecret).update(payload).digest('base64')}`;
}
