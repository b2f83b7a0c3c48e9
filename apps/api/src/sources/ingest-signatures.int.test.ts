import { randomBytes } from 'node:crypto';
import { useApiHarness } from '../api-harness';
import { createSource, eventsOf, GITHUB, GITHUB_SECRET, historyOf, ingest, useSubscriber, storedEvent } from './source-test-kit';
import { githubSignature, slackHeaders, standardWebhooksHeaders, stripeSignature } from './vendor-signers';

const UNAUTHORIZED = { error: { code: 'unauthorized', message: 'unauthorized' } };

describe('ingest: requests signed by the vendors', () => {
  const h = useApiHarness({ worker: false });
  const subscriber = useSubscriber(h);

  const statusOf = async (sourceId: string) => (await h.call('GET', `/v1/subscribers/${subscriber.sid}/sources/${sourceId}`)).body.status;

  describe('GitHub (X-Hub-Signature-256 from @octokit/webhooks-methods)', () => {
    it('publishes a signed delivery as github.<action>, marks the source verified and records it', async () => {
      const source = await createSource(h, subscriber.sid, { eventType: 'github.{$.action}', verification: GITHUB });
      const body = JSON.stringify({ action: 'opened', pull_request: { number: 42, title: 'Add sources' } });
      const res = await ingest(h, source.ingestUrl, {
        body,
        headers: { 'x-github-event': 'pull_request', 'x-hub-signature-256': await githubSignature(GITHUB_SECRET, body) },
      });
      expect(res.status).toBe(202);
      expect(res.json).toEqual({ status: 'published', eventId: expect.stringMatching(/^evt_/) });
      expect(await storedEvent(h, res.json.eventId)).toEqual({ type: 'github.opened', payload: JSON.parse(body) });
      expect(await statusOf(source.id)).toBe('verified');
      expect(await historyOf(h, subscriber.sid, source.id)).toEqual([
        expect.objectContaining({ outcome: 'published', status: 202, eventId: res.json.eventId }),
      ]);
    });

    it('answers a wrong signature 401 with nothing that helps, stays unverified, and records why', async () => {
      const source = await createSource(h, subscriber.sid, { eventType: 'github.{$.action}', verification: GITHUB });
      const body = '{"action":"opened"}';
      const forged = await githubSignature('not-the-secret', body);
      const res = await ingest(h, source.ingestUrl, { body, headers: { 'x-hub-signature-256': forged } });
      expect(res.status).toBe(401);
      expect(res.json).toEqual(UNAUTHORIZED);
      const unsigned = await ingest(h, source.ingestUrl, { body });
      expect(unsigned.json).toEqual(UNAUTHORIZED);
      expect(await statusOf(source.id)).toBe('unverified');
      expect((await historyOf(h, subscriber.sid, source.id)).map((r) => [r.outcome, r.reason])).toEqual([
        ['rejected', 'missing_header: x-hub-signature-256'],
        ['rejected', 'signature_mismatch: x-hub-signature-256'],
      ]);
      expect(await eventsOf(h, subscriber.sid)).toEqual([]);
    });
  });

  describe('Stripe (stripe.webhooks.generateTestHeaderString)', () => {
    const secret = `whsec_${randomBytes(24).toString('hex')}`;
    const body = JSON.stringify({ id: 'evt_1', type: 'invoice.paid', data: { object: { id: 'in_1' } } });

    it('publishes a signed event under its Stripe type', async () => {
      const source = await createSource(h, subscriber.sid, { eventType: 'stripe.{$.type}', verification: { type: 'stripe', secret } });
      const res = await ingest(h, source.ingestUrl, { body, headers: { 'stripe-signature': stripeSignature(secret, body) } });
      expect(res.status).toBe(202);
      expect((await storedEvent(h, res.json.eventId)).type).toBe('stripe.invoice.paid');
    });

    it('refuses a replay whose timestamp is outside the tolerance', async () => {
      const source = await createSource(h, subscriber.sid, {
        eventType: 'stripe.{$.type}',
        verification: { type: 'stripe', secret, toleranceSeconds: 60 },
      });
      const captured = stripeSignature(secret, body, Math.floor(Date.now() / 1000) - 120);
      const res = await ingest(h, source.ingestUrl, { body, headers: { 'stripe-signature': captured } });
      expect(res.status).toBe(401);
      expect(res.json).toEqual(UNAUTHORIZED);
      expect((await historyOf(h, subscriber.sid, source.id))[0]).toMatchObject({
        outcome: 'rejected',
        reason: 'timestamp_outside_tolerance: Stripe-Signature t= is more than 60 s from now',
      });
    });
  });

  describe('Standard Webhooks (standardwebhooks sign)', () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;

    it('publishes once per webhook-id, however often the sender retries', async () => {
      const source = await createSource(h, subscriber.sid, {
        eventType: 'custom.partner.update',
        verification: { type: 'standard-webhooks', secret },
      });
      const body = '{"status":"shipped"}';
      const first = await ingest(h, source.ingestUrl, { body, headers: standardWebhooksHeaders(secret, 'msg_2fQ', body) });
      const retry = await ingest(h, source.ingestUrl, { body, headers: standardWebhooksHeaders(secret, 'msg_2fQ', body) });
      expect([first.status, retry.status]).toEqual([202, 200]);
      expect(retry.json).toEqual({ status: 'duplicate', eventId: first.json.eventId });
      const tampered = await ingest(h, source.ingestUrl, {
        body: '{"status":"lost"}',
        headers: standardWebhooksHeaders(secret, 'msg_3', body),
      });
      expect(tampered.status).toBe(401);
      // The same webhook-id, signed, with another body: the id is the sender's idempotency key
      // (Standard Webhooks), so it is the same message, answered as the duplicate it is.
      const other = '{"status":"returned"}';
      const reused = await ingest(h, source.ingestUrl, { body: other, headers: standardWebhooksHeaders(secret, 'msg_2fQ', other) });
      expect(reused.status).toBe(200);
      expect(reused.json).toEqual({ status: 'duplicate', eventId: first.json.eventId });
      expect((await historyOf(h, subscriber.sid, source.id))[0]).toMatchObject({ outcome: 'duplicate', eventId: first.json.eventId });
    });
  });

  describe("Slack (X-Slack-Signature from Slack's recipe)", () => {
    const signingSecret = 'slack-signing-secret-9876';

    it('answers a signed url_verification with the challenge and becomes verified', async () => {
      const source = await createSource(h, subscriber.sid, {
        eventType: 'slack.{$.event.type}',
        verification: { type: 'slack', signingSecret },
      });
      const body = JSON.stringify({
        token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
        challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
        type: 'url_verification',
      });
      const res = await ingest(h, source.ingestUrl, { body, headers: slackHeaders(signingSecret, body) });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(res.text).toBe('3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P');
      expect(await statusOf(source.id)).toBe('verified');
      expect((await historyOf(h, subscriber.sid, source.id))[0]).toMatchObject({
        outcome: 'ignored',
        reason: 'url_verification challenge answered',
      });
    });

    it('does not answer an unsigned url_verification', async () => {
      const source = await createSource(h, subscriber.sid, {
        eventType: 'slack.{$.event.type}',
        verification: { type: 'slack', signingSecret },
      });
      const res = await ingest(h, source.ingestUrl, { body: JSON.stringify({ challenge: 'c', type: 'url_verification' }) });
      expect(res.status).toBe(401);
      expect(res.text).not.toContain('"c"');
      expect(await statusOf(source.id)).toBe('unverified');
    });

    it('publishes only the messages its matches select', async () => {
      const matches = { "$['event']['type']": 'message', '$.event.text': 'hello' };
      const source = await createSource(h, subscriber.sid, {
        eventType: 'slack.{$.event.type}',
        verification: { type: 'slack', signingSecret },
        matches,
      });
      const send = (event: object) => {
        const body = JSON.stringify({ type: 'event_callback', event });
        return ingest(h, source.ingestUrl, { body, headers: slackHeaders(signingSecret, body) });
      };
      const hit = await send({ type: 'message', text: 'hello', channel: 'C1' });
      const miss = await send({ type: 'message', text: 'goodbye', channel: 'C1' });
      expect([hit.status, miss.status]).toEqual([202, 200]);
      expect(miss.json).toEqual({ status: 'ignored' });
      expect((await storedEvent(h, hit.json.eventId)).type).toBe('slack.message');
      expect((await historyOf(h, subscriber.sid, source.id)).map((r) => [r.outcome, r.reason])).toEqual([
        ['ignored', 'matches: $.event.text does not equal "hello"'],
        ['published', undefined],
      ]);
    });
  });

  describe('shared secrets', () => {
    it('accepts basic credentials and refuses wrong ones with a Basic challenge', async () => {
      const source = await createSource(h, subscriber.sid, {
        eventType: 'source.jenkins',
        verification: { type: 'basic', username: 'jenkins', password: 'correct horse' },
      });
      const as = (creds: string) => ({ authorization: `Basic ${Buffer.from(creds).toString('base64')}` });
      expect((await ingest(h, source.ingestUrl, { body: '{}', headers: as('jenkins:correct horse') })).status).toBe(202);
      const wrong = await ingest(h, source.ingestUrl, { body: '{}', headers: as('jenkins:battery staple') });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('www-authenticate')).toBe('Basic realm="hookrelay"');
    });
  });
});
