import { createHmac } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { useApiHarness } from '../api-harness';
import { PUBLIC_URL } from './provider-cases';
import { createSource, eventsOf, historyOf, ingest, newSubscriber, storedEvent } from './source-test-kit';
import { githubSignature, pagerdutySignature, sendgridHeaders, sendgridKeyPair, shopifyHeaders, zendeskHeaders } from './vendor-signers';

/** PagerDuty's own test vector (go-pagerduty webhookv3/webhookv3_test.go): secret, body and `v1=` signature. */
const PD_SECRET = 'lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK';
const PD_BODY = `{"event":{"id":"01BWDWL3NYY7LUFPZCC28QUCMK","event_type":"incident.priority_updated","resource_type":"incident","occurred_at":"2021-04-26T17:36:27.458Z","agent":{"html_url":"https://acme.pagerduty.com/users/PLH1HKV","id":"PLH1HKV","self":"https://api.pagerduty.com/users/PLH1HKV","summary":"Tenex Engineer","type":"user_reference"},"client":null,"data":{"id":"PGR0VU2","type":"incident","self":"https://api.pagerduty.com/incidents/PGR0VU2","html_url":"https://acme.pagerduty.com/incidents/PGR0VU2","number":2,"status":"triggered","title":"A little bump in the road","service":{"html_url":"https://acme.pagerduty.com/services/PF9KMXH","id":"PF9KMXH","self":"https://api.pagerduty.com/services/PF9KMXH","summary":"API Service","type":"service_reference"},"assignees":[{"html_url":"https://acme.pagerduty.com/users/PTUXL6G","id":"PTUXL6G","self":"https://api.pagerduty.com/users/PTUXL6G","summary":"User 123","type":"user_reference"}],"escalation_policy":{"html_url":"https://acme.pagerduty.com/escalation_policies/PUS0KTE","id":"PUS0KTE","self":"https://api.pagerduty.com/escalation_policies/PUS0KTE","summary":"Default","type":"escalation_policy_reference"},"teams":[{"html_url":"https://acme.pagerduty.com/teams/PFCVPS0","id":"PFCVPS0","self":"https://api.pagerduty.com/teams/PFCVPS0","summary":"Engineering","type":"team_reference"}],"priority":{"html_url":"https://acme.pagerduty.com/account/incident_priorities","id":"PSO75BM","self":"https://api.pagerduty.com/priorities/PSO75BM","summary":"P1","type":"priority_reference"},"urgency":"high","conference_bridge":{"conference_number":1000,"conference_url":"https://example.com"},"resolve_reason":null}}}`;
const PD_SIGNATURE = 'v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd';

/** SendGrid's own vectors (@sendgrid/eventwebhook src/eventwebhook.spec.js): one event, and two CRLF-separated. */
const SG_SINGLE = {
  publicKey: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==',
  signature: 'MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=',
  timestamp: 1600112502,
  body: `${JSON.stringify([{ email: 'hello@world.com', event: 'dropped', reason: 'Bounced Address', sg_event_id: 'ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA', sg_message_id: 'LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0', 'smtp-id': '<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>', timestamp: 1600112492 }])}\r\n`,
};
const SG_MULTIPLE = {
  publicKey: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEQ4LIFtWztlsF7skFqOncjD1lun4H5w8XOhyOArHW9RcIx/FfEzx6cikC/yPfUvwaX/JScE7Fc9CJD2afQ9Ok3Q==',
  signature: 'MEYCIQC/I4o6vCgqRYrTljjoVWB/GRWNtxeePlLMHr3x9ETeRQIhAIpV+03nREPTTHWSW0wIOA0EoMPdcNgXa70yCaqDJlu5',
  timestamp: 1619651159,
  events: [
    {
      email: 'invalid@gmail.com',
      event: 'processed',
      send_at: 0,
      sg_event_id: 'cHJvY2Vzc2VkLTE5OTQyMTEyLXFOd0JMZ1BRUWpXNkRKdktRd1NBYnctMA',
      sg_message_id: 'qNwBLgPQQjW6DJvKQwSAbw.filterdrecv-canary-547b64655b-cw6zx-1-6089EA4A-56.0',
      'smtp-id': '<qNwBLgPQQjW6DJvKQwSAbw@ismtpd0178p1mdw1.sendgrid.net>',
      timestamp: 1619651146,
    },
    {
      email: 'invalid@gmail.com',
      event: 'bounce',
      ip: '167.89.101.76',
      reason:
        '552 5.2.2 The email account that you tried to reach is over quota and inactive. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaPerm c17si1130468pgv.34 - gsmtp',
      sg_event_id: 'Ym91bmNlLTAtMTk5NDIxMTItcU53QkxnUFFRalc2REp2S1F3U0Fidy0w',
      sg_message_id: 'qNwBLgPQQjW6DJvKQwSAbw.filterdrecv-canary-547b64655b-cw6zx-1-6089EA4A-56.0',
      'smtp-id': '<qNwBLgPQQjW6DJvKQwSAbw@ismtpd0178p1mdw1.sendgrid.net>',
      status: '5.2.2',
      timestamp: 1619651147,
      tls: 1,
      type: 'blocked',
    },
  ],
};
const sgMultipleBody = () => `${JSON.stringify(SG_MULTIPLE.events).split('},{').join('},\r\n{')}\r\n`;
const sgHeaders = (signature: string, timestamp: number) => ({
  'x-twilio-email-event-webhook-signature': signature,
  'x-twilio-email-event-webhook-timestamp': String(timestamp),
});

/** The other valid form of a DER ECDSA P-256 signature: (r, s) -> (r, n - s). */
function malleate(signatureBase64: string): string {
  const der = Buffer.from(signatureBase64, 'base64');
  const rLength = der[3] as number;
  const r = der.subarray(4, 4 + rLength);
  const s = BigInt(`0x${der.subarray(4 + rLength + 2).toString('hex')}`);
  const n = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');
  let hex = (n - s).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let sBytes = Buffer.from(hex, 'hex');
  if ((sBytes[0] as number) & 0x80) sBytes = Buffer.concat([Buffer.from([0]), sBytes]);
  const body = Buffer.concat([Buffer.from([0x02, r.length]), r, Buffer.from([0x02, sBytes.length]), sBytes]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]).toString('base64');
}

describe('provider presets: defaults, vendor test vectors and replays', () => {
  const h = useApiHarness(() => ({ worker: false, publicUrl: PUBLIC_URL, now: () => clockMs ?? Date.now() }));
  let sid: string;
  /** The API's clock: null is the real time; the SendGrid vectors set it to when they were signed. */
  let clockMs: number | null = null;

  beforeEach(async () => {
    clockMs = null;
    sid = (await newSubscriber(h)).sid;
  });

  const typesOf = async (ids: string[]) => Promise.all(ids.map(async (id) => (await storedEvent(h, id)).type));

  describe('GitHub', () => {
    const secret = 'gh-defaults-secret';
    const send = async (url: string, event: string, body: string, delivery: string = randomUUID()) =>
      ingest(h, url, {
        body,
        headers: { 'x-github-event': event, 'x-github-delivery': delivery, 'x-hub-signature-256': await githubSignature(secret, body) },
      });

    it('defaults to github.<X-GitHub-Event>.<action> (without the action when the body has none) and dedupe on X-GitHub-Delivery', async () => {
      const source = await createSource(h, sid, { verification: { type: 'github', secret } });
      expect(source.body).toMatchObject({
        eventType: 'github.{header:X-GitHub-Event}.{$.action?}',
        dedupe: { header: 'x-github-delivery', windowSeconds: 86_400 },
        format: 'json',
      });
      const opened = await send(source.ingestUrl, 'pull_request', '{"action":"opened","number":1}', 'delivery-1');
      const push = await send(source.ingestUrl, 'push', '{"ref":"refs/heads/main"}');
      const redelivered = await send(source.ingestUrl, 'pull_request', '{"action":"opened","number":1}', 'delivery-1');
      expect([opened.status, push.status, redelivered.status]).toEqual([202, 202, 200]);
      expect(redelivered.json).toEqual({ status: 'duplicate', eventId: opened.json.eventId });
      expect(await typesOf([opened.json.eventId, push.json.eventId])).toEqual(['github.pull_request.opened', 'github.push']);
      expect((await eventsOf(h, sid)).sort()).toEqual([opened.json.eventId, push.json.eventId].sort());
    });

    it('keeps a chosen eventType and `dedupe: null`', async () => {
      const source = await createSource(h, sid, {
        verification: { type: 'github', secret },
        eventType: 'gh.{header:X-GitHub-Event}',
        dedupe: null,
      });
      expect(source.body).toMatchObject({ eventType: 'gh.{header:X-GitHub-Event}', dedupe: null });
      const first = await send(source.ingestUrl, 'Issues', '{"action":"closed"}', 'same');
      const again = await send(source.ingestUrl, 'Issues', '{"action":"closed"}', 'same');
      expect([first.status, again.status]).toEqual([202, 202]);
      expect(await typesOf([first.json.eventId])).toEqual(['gh.issues']);
    });
  });

  it('Shopify: shopify.<X-Shopify-Topic with / as .>, each X-Shopify-Webhook-Id published once', async () => {
    const source = await createSource(h, sid, { verification: { type: 'shopify', secret: 'shpss_defaults' } });
    expect(source.body).toMatchObject({
      eventType: 'shopify.{header:X-Shopify-Topic}',
      dedupe: { header: 'x-shopify-webhook-id', windowSeconds: 86_400 },
    });
    const body = '{"id":450789469,"fulfillment_status":"fulfilled"}';
    const headers = await shopifyHeaders('shpss_defaults', body, 'orders/fulfilled', 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043');
    const first = await ingest(h, source.ingestUrl, { body, headers });
    const retry = await ingest(h, source.ingestUrl, { body, headers });
    expect([first.status, retry.status, retry.json.eventId]).toEqual([202, 200, first.json.eventId]);
    expect(await typesOf([first.json.eventId])).toEqual(['shopify.orders.fulfilled']);
    expect((await historyOf(h, sid, source.id))[0]).toMatchObject({
      outcome: 'duplicate',
      reason: 'x-shopify-webhook-id already published',
    });
  });

  describe('PagerDuty', () => {
    it("publishes PagerDuty's own test vector as pagerduty.<event.event_type>", async () => {
      const source = await createSource(h, sid, { verification: { type: 'pagerduty', secret: PD_SECRET } });
      const res = await ingest(h, source.ingestUrl, { body: PD_BODY, headers: { 'x-pagerduty-signature': PD_SIGNATURE } });
      expect(res.status).toBe(202);
      expect(await storedEvent(h, res.json.eventId)).toEqual({ type: 'pagerduty.incident.priority_updated', payload: JSON.parse(PD_BODY) });
    });

    it('accepts any one valid v1= signature of several (secret rotation)', async () => {
      const source = await createSource(h, sid, { verification: { type: 'pagerduty', secret: 'new-secret' } });
      const body = '{"event":{"event_type":"incident.resolved"}}';
      const res = await ingest(h, source.ingestUrl, {
        body,
        headers: { 'x-pagerduty-signature': pagerdutySignature(['old-secret', 'new-secret'], body) },
      });
      expect(res.status).toBe(202);
      const neither = await ingest(h, source.ingestUrl, {
        body,
        headers: { 'x-pagerduty-signature': pagerdutySignature(['old-secret', 'other'], body) },
      });
      expect(neither.status).toBe(401);
    });
  });

  describe('SendGrid', () => {
    it("publishes SendGrid's own single-event vector, verified with the key SendGrid showed", async () => {
      clockMs = SG_SINGLE.timestamp * 1000 + 5_000;
      const source = await createSource(h, sid, { verification: { type: 'sendgrid', publicKey: SG_SINGLE.publicKey } });
      expect(source.body.verification).toEqual({
        type: 'sendgrid',
        publicKey: SG_SINGLE.publicKey,
        toleranceSeconds: 300,
        splitEvents: true,
        configured: true,
      });
      const res = await ingest(h, source.ingestUrl, { body: SG_SINGLE.body, headers: sgHeaders(SG_SINGLE.signature, SG_SINGLE.timestamp) });
      expect(res.status).toBe(202);
      expect(await storedEvent(h, res.json.eventId)).toEqual({ type: 'sendgrid.dropped', payload: JSON.parse(SG_SINGLE.body)[0] });
      // The same vector an hour later is stale.
      clockMs = SG_SINGLE.timestamp * 1000 + 3_600_000;
      expect(
        (await ingest(h, source.ingestUrl, { body: SG_SINGLE.body, headers: sgHeaders(SG_SINGLE.signature, SG_SINGLE.timestamp) })).status,
      ).toBe(401);
    });

    it("publishes each event of SendGrid's multi-event vector as its own event, or the array as one when splitEvents is false", async () => {
      clockMs = SG_MULTIPLE.timestamp * 1000;
      const split = await createSource(h, sid, { verification: { type: 'sendgrid', publicKey: SG_MULTIPLE.publicKey } });
      const res = await ingest(h, split.ingestUrl, {
        body: sgMultipleBody(),
        headers: sgHeaders(SG_MULTIPLE.signature, SG_MULTIPLE.timestamp),
      });
      expect(res.status).toBe(202);
      expect(res.json).toEqual({ status: 'published', eventId: res.json.eventIds[0], eventIds: [expect.any(String), expect.any(String)] });
      expect(await typesOf(res.json.eventIds)).toEqual(['sendgrid.processed', 'sendgrid.bounce']);
      expect((await historyOf(h, sid, split.id))[0]).toMatchObject({ outcome: 'published', eventIds: res.json.eventIds, eventCount: 2 });

      const whole = await createSource(h, sid, {
        verification: { type: 'sendgrid', publicKey: SG_MULTIPLE.publicKey, splitEvents: false },
      });
      expect(whole.body.eventType).toBe('source.sendgrid.batch');
      const one = await ingest(h, whole.ingestUrl, {
        body: sgMultipleBody(),
        headers: sgHeaders(SG_MULTIPLE.signature, SG_MULTIPLE.timestamp),
      });
      expect(await storedEvent(h, one.json.eventId)).toEqual({ type: 'source.sendgrid.batch', payload: SG_MULTIPLE.events });
    });

    it('keeps the first 20 event ids of a split body in the history record, with how many it published; the answer has all', async () => {
      const keys = sendgridKeyPair();
      const source = await createSource(h, sid, { verification: { type: 'sendgrid', publicKey: keys.publicKey } });
      const body = JSON.stringify(Array.from({ length: 30 }, (_, i) => ({ event: 'open', email: `r${i}@example.com` })));
      const res = await ingest(h, source.ingestUrl, { body, headers: sendgridHeaders(keys, body) });
      expect(res.status).toBe(202);
      expect(res.json.eventIds).toHaveLength(30);
      // Every id of up to 5,000 made a record ~165 KB and one page of the history 33 MB.
      const [record] = await historyOf(h, sid, source.id);
      expect(record).toMatchObject({ outcome: 'published', eventId: res.json.eventIds[0], eventCount: 30 });
      expect(record.eventIds).toEqual(res.json.eventIds.slice(0, 20));
    });

    it("skips the split body's events their type's schema refuses, the first reported whole, and publishes the rest", async () => {
      const schema = { type: 'object', properties: { email: { type: 'string' }, event: { type: 'string' }, n: { type: 'string' } } };
      expect((await h.call('POST', '/v1/event-types', { body: { type: 'shop.sg.open', schema } })).status).toBe(201);
      const keys = sendgridKeyPair();
      const source = await createSource(h, sid, {
        eventType: 'shop.sg.{$.event}',
        verification: { type: 'sendgrid', publicKey: keys.publicKey, splitEvents: true },
      });
      // Each refused element is checked for its first problem only after the first (a 1 MB body of
      // ~8 KB elements had each one's every problem collected for the line kept of it).
      const body = JSON.stringify([
        { event: 'open', email: 1, n: 2 },
        { event: 'open', email: 'a@example.com', n: 'x' },
        { event: 'open', email: 3, n: 4 },
      ]);
      const res = await ingest(h, source.ingestUrl, { body, headers: sendgridHeaders(keys, body) });
      expect(res.status).toBe(202);
      expect(res.json.eventIds).toHaveLength(1);
      expect(await storedEvent(h, res.json.eventIds[0])).toEqual({
        type: 'shop.sg.open',
        payload: { event: 'open', email: 'a@example.com', n: 'x' },
      });
      const [record] = await historyOf(h, sid, source.id);
      expect(record).toMatchObject({ outcome: 'published', eventCount: 1 });
      expect(record.reason).toBe(
        'published 1 of 3 events; first ignored: payload: payload.email: must be string; payload.n: must be string',
      );
    });

    it("refuses a replay, even with the signature's other valid ECDSA form", async () => {
      const keys = sendgridKeyPair();
      const source = await createSource(h, sid, { verification: { type: 'sendgrid', publicKey: keys.publicKey } });
      const body = '[{"event":"open","email":"a@example.com"}]';
      const headers = sendgridHeaders(keys, body);
      const first = await ingest(h, source.ingestUrl, { body, headers });
      const malleated = {
        ...headers,
        'x-twilio-email-event-webhook-signature': malleate(headers['x-twilio-email-event-webhook-signature'] as string),
      };
      const copy = await ingest(h, source.ingestUrl, { body, headers: malleated });
      expect([first.status, copy.status, copy.json]).toEqual([202, 200, { status: 'duplicate', eventId: first.json.eventId }]);
      expect(await eventsOf(h, sid)).toEqual([first.json.eventId]);
    });

    it('refuses a key that is not an ECDSA P-256 public key, 400 naming the field', async () => {
      const res = await h.call('POST', `/v1/subscribers/${sid}/sources`, {
        body: { name: 'sg', verification: { type: 'sendgrid', publicKey: Buffer.from('not a key').toString('base64') } },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ path: 'verification.publicKey', message: 'is not a DER public key' }]);
    });
  });

  describe('Zendesk', () => {
    it('accepts the timestamp as ISO 8601 or Unix seconds, and answers a replay duplicate', async () => {
      const secret = 'zendesk-signing-secret';
      const source = await createSource(h, sid, { verification: { type: 'zendesk', secret } });
      const body = '{"ticket":{"id":35436}}';
      const iso = zendeskHeaders(secret, body);
      const unixTimestamp = String(Math.floor(Date.now() / 1000));
      const unix = {
        'x-zendesk-webhook-signature-timestamp': unixTimestamp,
        'x-zendesk-webhook-signature': createHmac('sha256', secret)
          .update(unixTimestamp + body)
          .digest('base64'),
      };
      const first = await ingest(h, source.ingestUrl, { body, headers: iso });
      const replay = await ingest(h, source.ingestUrl, { body, headers: iso });
      const asUnix = await ingest(h, source.ingestUrl, { body, headers: unix });
      expect([first.status, replay.status, asUnix.status]).toEqual([202, 200, 202]);
      expect((await historyOf(h, sid, source.id))[1]).toMatchObject({ outcome: 'duplicate', reason: 'zendesk signature already accepted' });
    });
  });

  describe('creating and changing preset sources', () => {
    it('requires an eventType for a type without a default, 400 naming it', async () => {
      const res = await h.call('POST', `/v1/subscribers/${sid}/sources`, {
        body: { name: 'x', verification: { type: 'hmac', header: 'X-Sig', secret: 's' } },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([
        { path: 'eventType', message: expect.stringMatching(/^required: verification type hmac has no default event type/) },
      ]);
    });

    it('shows no secret in any view', async () => {
      const secrets = {
        authToken: 'tw-token-0001',
        appSecret: 'meta-secret-0001',
        verifyToken: 'meta-verify-0001',
        consumerSecret: 'x-secret-0001',
        secret: 'gh-secret-0001',
      };
      const created = [
        await createSource(h, sid, { verification: { type: 'twilio', authToken: secrets.authToken } }),
        await createSource(h, sid, { verification: { type: 'facebook', appSecret: secrets.appSecret, verifyToken: secrets.verifyToken } }),
        await createSource(h, sid, { verification: { type: 'twitter', consumerSecret: secrets.consumerSecret } }),
        await createSource(h, sid, { verification: { type: 'github', secret: secrets.secret } }),
      ];
      const listed = JSON.stringify((await h.call('GET', `/v1/subscribers/${sid}/sources`)).body);
      for (const value of Object.values(secrets)) expect(listed + JSON.stringify(created.map((c) => c.body))).not.toContain(value);
    });

    it('a PATCH to another provider moves the fields still at the old defaults, keeps chosen ones, and unverifies', async () => {
      const source = await createSource(h, sid, { verification: { type: 'github', secret: 's' }, format: 'json' });
      const body = '{"action":"opened"}';
      await ingest(h, source.ingestUrl, {
        body,
        headers: { 'x-github-event': 'issues', 'x-hub-signature-256': await githubSignature('s', body) },
      });
      const patched = await h.call('PATCH', `/v1/subscribers/${sid}/sources/${source.id}`, {
        body: { verification: { type: 'shopify', secret: 't' } },
      });
      expect(patched.body).toMatchObject({
        status: 'unverified',
        eventType: 'shopify.{header:X-Shopify-Topic}',
        dedupe: { header: 'x-shopify-webhook-id' },
      });
      const chosen = await createSource(h, sid, { verification: { type: 'github', secret: 's' }, eventType: 'source.mine' });
      const kept = await h.call('PATCH', `/v1/subscribers/${sid}/sources/${chosen.id}`, {
        body: { verification: { type: 'pagerduty', secret: 't' } },
      });
      expect(kept.body).toMatchObject({ eventType: 'source.mine', dedupe: null });
    });
  });
});
