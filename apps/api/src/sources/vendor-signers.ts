// Test-only: requests signed the way each vendor signs them, by the vendor's own library where one exists.
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { promisify } from 'node:util';
import Stripe from 'stripe';
import { Webhook } from 'standardwebhooks';

const run = promisify(execFile);

/**
 * GitHub's `X-Hub-Signature-256`, from @octokit/webhooks-methods `sign`. The package is ESM-only and
 * jest runs CommonJS, so it is called from a child node process; secret and body travel as
 * environment variables so no quoting can alter them.
 */
export async function githubSignature(secret: string, body: string): Promise<string> {
  const script = "import { sign } from '@octokit/webhooks-methods'; process.stdout.write(await sign(process.env.GH_SECRET, process.env.GH_BODY));";
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, GH_SECRET: secret, GH_BODY: body } });
  return stdout;
}

const stripe = new Stripe('sk_test_hookrelay_not_a_real_key');

/** `Stripe-Signature` from the stripe package's own test helper. */
export function stripeSignature(secret: string, body: string, timestampSeconds?: number): string {
  return stripe.webhooks.generateTestHeaderString({ payload: body, secret, ...(timestampSeconds !== undefined ? { timestamp: timestampSeconds } : {}) });
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
export function slackHeaders(signingSecret: string, body: string, timestampSeconds = Math.floor(Date.now() / 1000)): Record<string, string> {
  const signature = createHmac('sha256', signingSecret).update(`v0:${timestampSeconds}:${body}`).digest('hex');
  return { 'x-slack-request-timestamp': String(timestampSeconds), 'x-slack-signature': `v0=${signature}` };
}
