import { createHmac } from 'node:crypto';
import { startApiHarness, useApiHarness } from '../api-harness';
import { PUBLIC_URL } from './provider-cases';
import { createSource, eventsOf, historyOf, ingest, newSubscriber, useSubscriber } from './source-test-kit';
import { githubSignature, twilioBodyHash, twilioSignature, twitterSignature } from './vendor-signers';

const UNAUTHORIZED = { error: { code: 'unauthorized', message: 'unauthorized' } };

describe('provider handshakes and URL-signed requests', () => {
  const h = useApiHarness({ worker: false, publicUrl: PUBLIC_URL });
  const subscriber = useSubscriber(h);

  const statusOf = async (sourceId: string) => (await h.call('GET', `/v1/subscribers/${subscriber.sid}/sources/${sourceId}`)).body.status;
  const lastReason = async (sourceId: string) => (await historyOf(h, subscriber.sid, sourceId))[0]?.reason;

  describe('GitHub ping', () => {
    const secret = 'gh-ping-secret';
    const ping = JSON.stringify({ zen: 'Design for failure.', hook_id: 109948940, hook: { type: 'Repository', events: ['push'] } });

    it('answers a signed ping 200, marks the source verified and publishes nothing', async () => {
      const source = await createSource(h, subscriber.sid, { verification: { type: 'github', secret } });
      const headers = {
        'x-github-event': 'ping',
        'x-github-delivery': 'd8e9b0a0-0000-11ee-8000-000000000001',
        'x-hub-signature-256': await githubSignature(secret, ping),
      };
      const res = await ingest(h, source.ingestUrl, { body: ping, headers });
      expect([res.status, res.json]).toEqual([200, { status: 'verified' }]);
      expect(await statusOf(source.id)).toBe('verified');
      expect(await lastReason(source.id)).toBe('ping answered');
      expect(await eventsOf(h, subscriber.sid)).toEqual([]);
    });

    it('answers an unsigned or wrongly signed ping 401 and stays unverified', async () => {
      const source = await createSource(h, subscriber.sid, { verification: { type: 'github', secret } });
      const unsigned = await ingest(h, source.ingestUrl, { body: ping, headers: { 'x-github-event': 'ping' } });
      const forged = await ingest(h, source.ingestUrl, {
        body: ping,
        headers: { 'x-github-event': 'ping', 'x-hub-signature-256': await githubSignature('guess', ping) },
      });
      expect([unsigned.status, unsigned.json, forged.status]).toEqual([401, UNAUTHORIZED, 401]);
      expect((await historyOf(h, subscriber.sid, source.id)).map((r) => r.reason)).toEqual([
        'signature_mismatch: X-Hub-Signature-256',
        'missing_header: X-Hub-Signature-256',
      ]);
      expect(await statusOf(source.id)).toBe('unverified');
    });
  });

  describe("Meta's hub.challenge subscription check", () => {
    const verification = { type: 'facebook', appSecret: 'meta-app-secret', verifyToken: 'my-verify-token' };
    const get = (url: string, params: Record<string, string>) =>
      ingest(h, `${url}?${new URLSearchParams(params).toString()}`, { method: 'GET' });

    it('answers 200 with exactly the challenge, as text, when the verify token matches, and marks the source verified', async () => {
      const source = await createSource(h, subscriber.sid, { verification });
      const res = await get(source.ingestUrl, {
        'hub.mode': 'subscribe',
        'hub.verify_token': 'my-verify-token',
        'hub.challenge': '1158201444',
      });
      expect([res.status, res.text]).toEqual([200, '1158201444']);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await statusOf(source.id)).toBe('verified');
      expect(await lastReason(source.id)).toBe('hub.challenge answered');
    });

    it.each([
      [
        'a wrong verify token',
        { 'hub.mode': 'subscribe', 'hub.verify_token': 'my-verify-tokeN', 'hub.challenge': '42' },
        403,
        'bad_verify_token: hub.verify_token does not match',
      ],
      ['no verify token', { 'hub.mode': 'subscribe', 'hub.challenge': '42' }, 403, 'bad_verify_token: hub.verify_token missing'],
      [
        'another hub.mode',
        { 'hub.mode': 'unsubscribe', 'hub.verify_token': 'my-verify-token', 'hub.challenge': '42' },
        403,
        'bad_mode: hub.mode is not subscribe',
      ],
      [
        'no challenge',
        { 'hub.mode': 'subscribe', 'hub.verify_token': 'my-verify-token' },
        400,
        'missing_challenge: hub.challenge missing or longer than 1024 characters',
      ],
    ])('refuses %s without echoing anything, and stays unverified', async (_name, params, status, reason) => {
      const source = await createSource(h, subscriber.sid, { verification });
      const res = await get(source.ingestUrl, params);
      expect(res.status).toBe(status);
      expect(res.text).not.toContain('42');
      expect(await lastReason(source.id)).toBe(reason);
      expect(await statusOf(source.id)).toBe('unverified');
    });
  });

  describe("Twitter's CRC check", () => {
    const consumerSecret = 'twitter-consumer-secret';

    it('answers {"response_token":"sha256=<base64 HMAC-SHA256(consumer secret, crc_token)>"}, and does not count as verification', async () => {
      const source = await createSource(h, subscriber.sid, { verification: { type: 'twitter', consumerSecret } });
      const token = 'Y2hhbGxlbmdlLXRva2VuLTEyMw';
      const res = await ingest(h, `${source.ingestUrl}?crc_token=${token}`, { method: 'GET' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      // Byte for byte from Twitter's "Securing webhooks" recipe.
      expect(res.text).toBe(
        JSON.stringify({ response_token: `sha256=${createHmac('sha256', consumerSecret).update(token).digest('base64')}` }),
      );
      expect(await statusOf(source.id)).toBe('unverified');
      expect(await eventsOf(h, subscriber.sid)).toEqual([]);
    });

    it('never hands out a signature a post could use: a crc_token shaped like a JSON object is refused, a post must be an object', async () => {
      const source = await createSource(h, subscriber.sid, { verification: { type: 'twitter', consumerSecret } });
      const body = '{"tweet_create_events":[{"text":"forged"}]}';
      const crc = await ingest(h, `${source.ingestUrl}?crc_token=${encodeURIComponent(` ${body}`)}`, { method: 'GET' });
      expect([crc.status, crc.text]).toEqual([400, JSON.stringify({ error: { code: 'invalid_request', message: 'crc_token refused' } })]);
      const scalar = '12345';
      const signedScalar = await ingest(h, source.ingestUrl, {
        body: scalar,
        headers: { 'x-twitter-webhooks-signature': twitterSignature(consumerSecret, scalar) },
      });
      expect(signedScalar.status).toBe(401);
      expect(await lastReason(source.id)).toBe('malformed_body: a Twitter post is a JSON object');
      expect(await eventsOf(h, subscriber.sid)).toEqual([]);
    });

    it('answers a GET without crc_token 400', async () => {
      const source = await createSource(h, subscriber.sid, { verification: { type: 'twitter', consumerSecret } });
      expect((await ingest(h, source.ingestUrl, { method: 'GET' })).status).toBe(400);
      expect(await lastReason(source.id)).toBe('missing_challenge: crc_token missing');
    });
  });

  describe('Twilio (the URL it called is signed)', () => {
    const authToken = 'twilio-auth-token-0123456789abcdef';

    it('checks a JSON webhook by the bodySHA256 in its signed URL, and refuses a body that does not hash to it', async () => {
      const source = await createSource(h, subscriber.sid, {
        verification: { type: 'twilio', authToken },
        format: 'json',
        eventType: 'twilio.{$.type}',
      });
      const body = JSON.stringify({ type: 'message.delivered', sid: 'SM123' });
      const query = `?bodySHA256=${twilioBodyHash(body)}`;
      const signature = twilioSignature(authToken, `${PUBLIC_URL}${source.ingestUrl}${query}`);
      const ok = await ingest(h, source.ingestUrl + query, { body, headers: { 'x-twilio-signature': signature } });
      expect(ok.status).toBe(202);
      const tampered = await ingest(h, source.ingestUrl + query, {
        body: body.replace('SM123', 'SM999'),
        headers: { 'x-twilio-signature': signature },
      });
      expect([tampered.status, tampered.json]).toEqual([401, UNAUTHORIZED]);
      expect(await lastReason(source.id)).toBe('body_hash_mismatch: bodySHA256 in the URL is not the SHA-256 of the body');
      expect(await eventsOf(h, subscriber.sid)).toEqual([ok.json.eventId]);
    });

    it("accepts the URL signed with the scheme's default port, as Twilio's own validator does", async () => {
      const source = await createSource(h, subscriber.sid, { verification: { type: 'twilio', authToken } });
      const body = 'CallSid=CA1&CallStatus=completed';
      const signature = twilioSignature(authToken, `https://hooks.example.com:443${source.ingestUrl}`, {
        CallSid: 'CA1',
        CallStatus: 'completed',
      });
      const res = await ingest(h, source.ingestUrl, {
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      });
      expect(res.status).toBe(202);
    });

    it('refuses a signature for another URL (another path or query)', async () => {
      const source = await createSource(h, subscriber.sid, { verification: { type: 'twilio', authToken } });
      const body = 'CallSid=CA1';
      const signature = twilioSignature(authToken, `${PUBLIC_URL}${source.ingestUrl}?x=1`, { CallSid: 'CA1' });
      const res = await ingest(h, `${source.ingestUrl}?x=2`, {
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      });
      expect(res.status).toBe(401);
      expect(await lastReason(source.id)).toBe('signature_mismatch: X-Twilio-Signature');
    });

    it('answers 413 to a form post over 256 KiB, recorded, while a JSON post signed by bodySHA256 may still be 1 MB', async () => {
      const source = await createSource(h, subscriber.sid, { verification: { type: 'twilio', authToken } });
      const url = `${PUBLIC_URL}${source.ingestUrl}`;
      // A signed form of exactly `bytes` bytes: its signature is over every field, parsed and sorted.
      const form = (bytes: number) => {
        const params = { MessageSid: 'SM1', Body: '' };
        params.Body = 'x'.repeat(bytes - new URLSearchParams(params).toString().length);
        const body = new URLSearchParams(params).toString();
        expect(body).toHaveLength(bytes);
        return {
          body,
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(authToken, url, params) },
        };
      };
      // A Conversations message of 32 KB of CJK text is ~96 KB URL-encoded: it fits.
      const fits = await ingest(h, source.ingestUrl, form(256 * 1024));
      expect(fits.status).toBe(202);
      const over = await ingest(h, source.ingestUrl, form(256 * 1024 + 1));
      const message = 'body larger than 256 KiB, the most a Twilio form post may be';
      expect([over.status, over.json]).toEqual([413, { error: { code: 'payload_too_large', message } }]);
      expect((await historyOf(h, subscriber.sid, source.id))[0]).toMatchObject({ status: 413, outcome: 'rejected', reason: message });

      const json = await createSource(h, subscriber.sid, { verification: { type: 'twilio', authToken }, format: 'json' });
      const body = JSON.stringify({ type: 'message.added', attributes: 'y'.repeat(1000 * 1000) });
      const query = `?bodySHA256=${twilioBodyHash(body)}`;
      const large = await ingest(h, json.ingestUrl + query, {
        body,
        headers: { 'x-twilio-signature': twilioSignature(authToken, `${PUBLIC_URL}${json.ingestUrl}${query}`) },
      });
      expect(large.status).toBe(202);
      expect((await eventsOf(h, subscriber.sid)).sort()).toEqual([fits.json.eventId, large.json.eventId].sort());
    });
  });

  it('refuses to create a Twilio source, 400 naming HOOKRELAY_PUBLIC_URL, on a server without a public URL', async () => {
    const bare = await startApiHarness({ worker: false });
    try {
      const { sid: other } = await newSubscriber(bare);
      const res = await bare.call('POST', `/v1/subscribers/${other}/sources`, {
        body: { name: 'sms', verification: { type: 'twilio', authToken: 't' } },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ path: 'verification.type', message: expect.stringContaining('HOOKRELAY_PUBLIC_URL') }]);
      expect((await bare.call('GET', `/v1/subscribers/${other}/sources`)).body.data).toEqual([]);
    } finally {
      await bare.close();
    }
  });
});
