import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { useApiHarness } from '../api-harness';
import { createSource, eventsOf, historyOf, ingest, useSubscriber, storedEvent } from './source-test-kit';

const TOKEN_HEADER = { type: 'header', headers: { 'X-Symphony-Secret': 'room-7-shared-secret' } };
const WITH_TOKEN = { 'x-symphony-secret': 'room-7-shared-secret' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('ingest: formats, filters, handshakes and limits', () => {
  const h = useApiHarness({ worker: false });
  const subscriber = useSubscriber(h);

  const statusOf = async (sourceId: string) => (await h.call('GET', `/v1/subscribers/${subscriber.sid}/sources/${sourceId}`)).body.status;

  describe('formats', () => {
    it('publishes a Symphony-style form message (message=<messageML>) as its fields', async () => {
      const source = await createSource(h, subscriber.sid, {
        eventType: 'source.symphony.message',
        verification: TOKEN_HEADER,
        format: 'form',
      });
      const body = new URLSearchParams({ message: '<messageML>Build <b>#512</b> passed &amp; deployed</messageML>' }).toString();
      const res = await ingest(h, source.ingestUrl, { body, headers: { ...FORM, ...WITH_TOKEN } });
      expect(res.status).toBe(202);
      expect(await storedEvent(h, res.json.eventId)).toEqual({
        type: 'source.symphony.message',
        payload: { message: '<messageML>Build <b>#512</b> passed &amp; deployed</messageML>' },
      });
    });

    it('publishes a field sent more than once as an array of its values, in order', async () => {
      const source = await createSource(h, subscriber.sid, { eventType: 'source.form', verification: TOKEN_HEADER, format: 'form' });
      const body = ['tag=a', 'id=7', 'tag=b', 'tag=c', ...Array.from({ length: 5000 }, (_, i) => `n=${i}`)].join('&');
      const res = await ingest(h, source.ingestUrl, { body, headers: { ...FORM, ...WITH_TOKEN } });
      expect(res.status).toBe(202);
      expect((await storedEvent(h, res.json.eventId)).payload).toEqual({
        tag: ['a', 'b', 'c'],
        id: '7',
        n: Array.from({ length: 5000 }, (_, i) => String(i)),
      });
    });

    it('refuses a form body of more than 10,000 fields with 400, recorded, and publishes nothing', async () => {
      const source = await createSource(h, subscriber.sid, { eventType: 'source.form', verification: TOKEN_HEADER, format: 'form' });
      const exactly = await ingest(h, source.ingestUrl, { body: 'a&'.repeat(10_000).slice(0, -1), headers: { ...FORM, ...WITH_TOKEN } });
      expect(exactly.status).toBe(202);
      // What took the shared process 9 s before: 30,000 repeats of one name (60 KB).
      const res = await ingest(h, source.ingestUrl, { body: 'a&'.repeat(30_000), headers: { ...FORM, ...WITH_TOKEN } });
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ error: { code: 'invalid_body', message: 'form body has more than 10000 fields' } });
      expect((await historyOf(h, subscriber.sid, source.id))[0]).toMatchObject({
        status: 400,
        outcome: 'rejected',
        reason: 'form body has more than 10000 fields',
      });
      expect(await eventsOf(h, subscriber.sid)).toEqual([exactly.json.eventId]);
    });

    it('publishes a text body as {text}, whatever the content type says', async () => {
      const source = await createSource(h, subscriber.sid, { eventType: 'source.jenkins.log', verification: TOKEN_HEADER, format: 'text' });
      const res = await ingest(h, source.ingestUrl, {
        body: 'deploy finished in 42s',
        headers: { 'content-type': 'application/octet-stream', ...WITH_TOKEN },
      });
      expect((await storedEvent(h, res.json.eventId)).payload).toEqual({ text: 'deploy finished in 42s' });
    });

    it('answers 400 to a json source sent invalid JSON, after verification, and records it', async () => {
      const source = await createSource(h, subscriber.sid, { eventType: 'source.x', verification: TOKEN_HEADER });
      const res = await ingest(h, source.ingestUrl, { body: '{"unterminated', headers: WITH_TOKEN });
      expect(res.status).toBe(400);
      expect((await historyOf(h, subscriber.sid, source.id))[0]).toMatchObject({ outcome: 'rejected', reason: 'body is not valid JSON' });
    });

    it('holds a type the operator defined to its schema, and refuses it once archived, as the publish routes do', async () => {
      const schema = { type: 'object', required: ['orderId'], properties: { orderId: { type: 'string' } } };
      const defined = await h.call('POST', '/v1/event-types', { body: { type: 'shop.order.paid', schema } });
      expect(defined.status).toBe(201);
      const source = await createSource(h, subscriber.sid, { eventType: 'shop.order.{$.state}', verification: TOKEN_HEADER });
      const valid = await ingest(h, source.ingestUrl, { body: '{"state":"paid","orderId":"o-1"}', headers: WITH_TOKEN });
      expect(valid.status).toBe(202);
      const invalid = await ingest(h, source.ingestUrl, { body: '{"state":"paid","orderId":42}', headers: WITH_TOKEN });
      expect(invalid.status).toBe(422);
      expect((await historyOf(h, subscriber.sid, source.id))[0]).toMatchObject({
        outcome: 'rejected',
        reason: expect.stringContaining('orderId'),
      });
      expect((await h.call('DELETE', '/v1/event-types/shop.order.paid')).status).toBeLessThan(300);
      const archived = await ingest(h, source.ingestUrl, { body: '{"state":"paid","orderId":"o-2"}', headers: WITH_TOKEN });
      expect(archived.status).toBe(422);
      expect((await historyOf(h, subscriber.sid, source.id))[0]).toMatchObject({ reason: expect.stringContaining('archived') });
      expect(await eventsOf(h, subscriber.sid)).toHaveLength(1);
      expect(await storedEvent(h, valid.json.eventId)).toEqual({ type: 'shop.order.paid', payload: { state: 'paid', orderId: 'o-1' } });
    });

    it('answers 422 when a custom.* source receives something other than a JSON object', async () => {
      const source = await createSource(h, subscriber.sid, { eventType: 'custom.alerts', verification: TOKEN_HEADER });
      const res = await ingest(h, source.ingestUrl, { body: '[1,2,3]', headers: WITH_TOKEN });
      expect(res.status).toBe(422);
      expect(await eventsOf(h, subscriber.sid)).toEqual([]);
    });
  });

  describe('matches and event types', () => {
    it('publishes a matching payload and acknowledges a non-matching one with 200, recorded as ignored', async () => {
      const source = await createSource(h, subscriber.sid, {
        eventType: 'source.datadog.alert',
        verification: TOKEN_HEADER,
        matches: { '$.alert.priority': 'P1', '$.alert.tags[*]': 'prod' },
      });
      const hit = await ingest(h, source.ingestUrl, {
        body: JSON.stringify({ alert: { priority: 'P1', tags: ['prod', 'eu'] } }),
        headers: WITH_TOKEN,
      });
      const miss = await ingest(h, source.ingestUrl, {
        body: JSON.stringify({ alert: { priority: 'P1', tags: ['staging'] } }),
        headers: WITH_TOKEN,
      });
      expect([hit.status, miss.status]).toEqual([202, 200]);
      expect(await eventsOf(h, subscriber.sid)).toEqual([hit.json.eventId]);
      expect((await historyOf(h, subscriber.sid, source.id))[0]).toEqual(
        expect.objectContaining({ outcome: 'ignored', status: 200, reason: 'matches: $.alert.tags[*] does not equal "prod"' }),
      );
    });

    it("cuts an ignored payload's reason to 200 characters, however long its path", async () => {
      const path = `$.${'a'.repeat(480)}`;
      const source = await createSource(h, subscriber.sid, { eventType: 'source.x', verification: TOKEN_HEADER, matches: { [path]: 1 } });
      expect((await ingest(h, source.ingestUrl, { body: '{}', headers: WITH_TOKEN })).status).toBe(200);
      const [ignored] = await historyOf(h, subscriber.sid, source.id);
      expect(ignored).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/^matches: \$\.a+$/) });
      expect(String(ignored!.reason).length).toBeLessThanOrEqual('matches: '.length + 200);
    });

    it('ignores, with the reason, a payload the eventType template cannot name (a GitHub ping has no action)', async () => {
      const source = await createSource(h, subscriber.sid, { eventType: 'github.{$.action}', verification: TOKEN_HEADER });
      const res = await ingest(h, source.ingestUrl, { body: '{"zen":"Keep it logically awesome.","hook_id":1}', headers: WITH_TOKEN });
      expect(res.status).toBe(200);
      expect((await historyOf(h, subscriber.sid, source.id))[0]).toMatchObject({
        outcome: 'ignored',
        reason: 'eventType: no text or number at $.action',
      });
    });
  });

  describe('challenge handshakes', () => {
    it('echoes GET ?challenge= as plain text and, when the request passes verification, marks the source verified', async () => {
      const source = await createSource(h, subscriber.sid, { eventType: 'source.x', verification: TOKEN_HEADER });
      const res = await ingest(h, `${source.ingestUrl}?type=subscribe&challenge=a1b2c3`, { method: 'GET', headers: WITH_TOKEN });
      expect([res.status, res.text, res.headers.get('content-type')]).toEqual([200, 'a1b2c3', 'text/plain; charset=utf-8']);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await statusOf(source.id)).toBe('verified');
      const unauthenticated = await ingest(h, `${source.ingestUrl}?challenge=a1b2c3`, { method: 'GET' });
      expect(unauthenticated.status).toBe(401);
    });

    it('echoes hub.challenge for a signature source but does not count the unsigned GET as verification', async () => {
      const source = await createSource(h, subscriber.sid, {
        eventType: 'source.fb',
        verification: { type: 'hmac', header: 'x-hub-signature-256', prefix: 'sha256=', secret: 'app-secret' },
      });
      const res = await ingest(h, `${source.ingestUrl}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=t`, { method: 'GET' });
      expect([res.status, res.text]).toEqual([200, '1158201444']);
      expect(await statusOf(source.id)).toBe('unverified');
      expect((await historyOf(h, subscriber.sid, source.id))[0]).toMatchObject({ method: 'GET', outcome: 'ignored' });
    });

    it('answers a GET without a challenge 405', async () => {
      const source = await createSource(h, subscriber.sid, { eventType: 'source.x', verification: TOKEN_HEADER });
      const res = await ingest(h, source.ingestUrl, { method: 'GET' });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, POST');
    });
  });

  describe('refusals', () => {
    it('answers 404 to an unknown token', async () => {
      const res = await ingest(h, '/in/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', { body: '{}' });
      expect(res.status).toBe(404);
    });

    it('answers 413 to a body over 1 MB and records it as rejected', async () => {
      const source = await createSource(h, subscriber.sid, { eventType: 'source.x', verification: TOKEN_HEADER });
      const res = await ingest(h, source.ingestUrl, { body: JSON.stringify({ blob: 'x'.repeat(1024 * 1024) }), headers: WITH_TOKEN });
      expect(res.status).toBe(413);
      expect(res.json.error.code).toBe('payload_too_large');
      expect((await historyOf(h, subscriber.sid, source.id))[0]).toMatchObject({
        status: 413,
        outcome: 'rejected',
        reason: 'body larger than 1 MB',
      });
      expect(await eventsOf(h, subscriber.sid)).toEqual([]);
    });

    it.each(['gzip', 'deflate', 'br'])(
      'answers 415 to a body sent with Content-Encoding: %s, before verification, recorded, and publishes nothing',
      async (encoding) => {
        const source = await createSource(h, subscriber.sid, { eventType: 'source.x', verification: TOKEN_HEADER });
        const json = JSON.stringify({ fill: 'x'.repeat(900_000) });
        const body = encoding === 'gzip' ? gzipSync(json) : encoding === 'deflate' ? deflateSync(json) : brotliCompressSync(json);
        // Inflated, these ~1 KB became 900 KB of work before the signature was looked at.
        expect(body.length).toBeLessThan(2000);
        const res = await ingest(h, source.ingestUrl, { body, headers: { ...WITH_TOKEN, 'content-encoding': encoding } });
        expect(res.status).toBe(415);
        expect(res.json).toEqual({
          error: { code: 'unsupported_encoding', message: 'request body must not be compressed: send it without Content-Encoding' },
        });
        expect((await historyOf(h, subscriber.sid, source.id))[0]).toMatchObject({
          status: 415,
          outcome: 'rejected',
          reason: 'request body must not be compressed: send it without Content-Encoding',
        });
        expect(await eventsOf(h, subscriber.sid)).toEqual([]);
        // Uncompressed (or identity), the same body is published.
        const plain = await ingest(h, source.ingestUrl, { body: '{"a":1}', headers: { ...WITH_TOKEN, 'content-encoding': 'identity' } });
        expect(plain.status).toBe(202);
      },
    );

    it('answers 413 to a text body that is over 1 MiB as JSON (control bytes escape to six), recorded, and publishes nothing', async () => {
      const source = await createSource(h, subscriber.sid, { eventType: 'source.x', verification: TOKEN_HEADER, format: 'text' });
      // Before, 1 MB of these was a 7.3 MB event, read whole by each GET of it and sent whole on each attempt.
      const res = await ingest(h, source.ingestUrl, { body: Buffer.alloc(200_000, 1), headers: WITH_TOKEN });
      expect(res.status).toBe(413);
      expect(res.json).toEqual({ error: { code: 'payload_too_large', message: 'payload: is 1200011 bytes as JSON; at most 1048576' } });
      expect((await historyOf(h, subscriber.sid, source.id))[0]).toMatchObject({ status: 413, outcome: 'rejected' });
      expect(await eventsOf(h, subscriber.sid)).toEqual([]);
      const fits = await ingest(h, source.ingestUrl, { body: Buffer.alloc(170_000, 1), headers: WITH_TOKEN });
      expect(fits.status).toBe(202);
    });

    it('answers 429 with Retry-After past the per-source limit, recording only the first refusal of a window', async () => {
      const limited = await createSource(h, subscriber.sid, {
        eventType: 'source.x',
        verification: TOKEN_HEADER,
        rateLimit: { perSecond: 100, perMinute: 3 },
      });
      const other = await createSource(h, subscriber.sid, { eventType: 'source.y', verification: TOKEN_HEADER });
      // Twelve requests span at most two one-minute windows, so at most six can pass.
      const answers = [];
      for (let i = 0; i < 12; i++) answers.push(await ingest(h, limited.ingestUrl, { body: '{}', headers: WITH_TOKEN }));
      const refused = answers.filter((a) => a.status === 429);
      expect(refused.length).toBeGreaterThanOrEqual(6);
      expect(answers.filter((a) => a.status !== 429).every((a) => a.status === 202)).toBe(true);
      expect(Number(refused[0]?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(refused[0]?.json).toEqual({ error: { code: 'rate_limited', message: 'more than 3 requests per minute' } });
      expect((await ingest(h, other.ingestUrl, { body: '{}', headers: WITH_TOKEN })).status).toBe(202);
      // One refusal recorded per window that had any (a flood is not a Redis write per request).
      const history = await historyOf(h, subscriber.sid, limited.id, '?outcome=rejected');
      expect(history.length).toBeGreaterThanOrEqual(1);
      expect(history.length).toBeLessThanOrEqual(2);
      expect(history[0]).toMatchObject({
        status: 429,
        reason: 'rate limit: more than 3 requests per minute (later refusals in this minute are not recorded)',
      });
    });

    it('counts a request of any method against the limit before answering 405', async () => {
      const limited = await createSource(h, subscriber.sid, {
        eventType: 'source.x',
        verification: TOKEN_HEADER,
        rateLimit: { perSecond: 1, perMinute: 1 },
      });
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await ingest(h, limited.ingestUrl, { method: 'PUT', body: '{}', headers: WITH_TOKEN }));
      // The first PUT is within the limit (405); the rest are refused by it, and recorded once per
      // window that refused any: the second's and the minute's (take-ingest-rate-4.lua checks the
      // second first), so up to three records when the three straddle a second's boundary.
      expect(answers.map((a) => a.status)).toEqual([405, 429, 429, 429]);
      const history = await historyOf(h, subscriber.sid, limited.id, '?outcome=rejected');
      const statuses = history.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 405)).toEqual([405]);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
      expect(statuses.filter((s) => s === 429).length).toBeLessThanOrEqual(3);
      expect(statuses).toHaveLength(statuses.filter((s) => s === 405 || s === 429).length);
    });
  });

  it('pages through the history newest first', async () => {
    const source = await createSource(h, subscriber.sid, { eventType: 'source.x', verification: TOKEN_HEADER });
    for (let i = 0; i < 5; i++) await ingest(h, source.ingestUrl, { body: `{"n":${i}}`, headers: WITH_TOKEN });
    const first = await h.call('GET', `/v1/subscribers/${subscriber.sid}/sources/${source.id}/requests?limit=3`);
    const rest = await h.call(
      'GET',
      `/v1/subscribers/${subscriber.sid}/sources/${source.id}/requests?limit=3&cursor=${first.body.nextCursor}`,
    );
    const eventIds = [...first.body.data, ...rest.body.data].map((r: { eventId: string }) => r.eventId);
    expect(rest.body.nextCursor).toBeNull();
    expect(eventIds).toHaveLength(5);
    const payloads = await Promise.all(eventIds.map(async (id) => (await storedEvent(h, id)).payload));
    expect(payloads).toEqual([{ n: 4 }, { n: 3 }, { n: 2 }, { n: 1 }, { n: 0 }]);
  });
});
