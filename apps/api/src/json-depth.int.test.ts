import { useApiHarness } from './api-harness';
import { createSource, eventsOf, historyOf, ingest, useSubscriber } from './sources/source-test-kit';

/** JSON text nesting `depth` levels: objects and arrays alternating, so both count (built as text: JSON.stringify itself overflows at a few thousand). */
function nestedJson(depth: number): string {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    open += i % 2 === 0 ? '{"a":' : '[';
    close = (i % 2 === 0 ? '}' : ']') + close;
  }
  return `${open}1${close}`;
}

const TOKEN_HEADER = { type: 'header', headers: { 'X-Source-Token': 'depth-test-secret-1' } };
const WITH_TOKEN = { 'x-source-token': 'depth-test-secret-1' };

describe('JSON nesting is limited to 64 levels', () => {
  const h = useApiHarness({ worker: false });
  const subscriber = useSubscriber(h);

  const publishRaw = (path: string, body: string) => h.call('POST', `/v1/subscribers/${subscriber.sid}${path}`, { body });

  describe('POST .../events', () => {
    it('accepts a payload nested exactly 64 levels', async () => {
      const res = await publishRaw('/events', `{"type":"custom.deep","payload":${nestedJson(64)}}`);
      expect(res.status).toBe(202);
      expect(await eventsOf(h, subscriber.sid)).toHaveLength(1);
    });

    it.each([65, 5_000, 200_000])('answers 400 naming the limit to a payload nested %i levels, and stores nothing', async (depth) => {
      const res = await publishRaw('/events', `{"type":"custom.deep","payload":${nestedJson(depth)}}`);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message).toMatch(/64 levels/);
      expect(res.body.error.details).toEqual([{ path: depth === 65 ? 'payload' : '(body)', message: expect.stringMatching(/64 levels/) }]);
      expect(await eventsOf(h, subscriber.sid)).toEqual([]);
    });
  });

  describe('POST .../events/batch', () => {
    it('answers 400 naming the event whose payload is too deep, and stores none of the batch', async () => {
      const body = `{"events":[{"type":"custom.ok","payload":{}},{"type":"custom.deep","payload":${nestedJson(65)}}]}`;
      const res = await publishRaw('/events/batch', body);
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ path: 'events.1.payload', message: expect.stringMatching(/64 levels/) }]);
      expect(await eventsOf(h, subscriber.sid)).toEqual([]);
    });

    it('accepts a batch whose payloads nest 64 levels (the envelope does not count)', async () => {
      const res = await publishRaw('/events/batch', `{"events":[{"type":"custom.deep","payload":${nestedJson(64)}}]}`);
      expect(res.status).toBe(202);
    });

    it('answers 400, not 500, to a batch nested 100,000 levels', async () => {
      const res = await publishRaw('/events/batch', `{"events":[{"type":"custom.deep","payload":${nestedJson(100_000)}}]}`);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/64 levels/);
      expect(await eventsOf(h, subscriber.sid)).toEqual([]);
    });
  });

  describe('source ingests', () => {
    it('publishes a body nested 64 levels', async () => {
      const source = await createSource(h, subscriber.sid, { eventType: 'source.deep', verification: TOKEN_HEADER });
      const res = await ingest(h, source.ingestUrl, { body: nestedJson(64), headers: WITH_TOKEN });
      expect(res.status).toBe(202);
    });

    it.each([65, 5_000, 200_000])(
      'answers 400 naming the limit to a body nested %i levels, records why, and publishes nothing',
      async (depth) => {
        const source = await createSource(h, subscriber.sid, {
          eventType: 'source.deep',
          verification: TOKEN_HEADER,
          matches: { '$.a[0].a': 1 },
        });
        const res = await ingest(h, source.ingestUrl, { body: nestedJson(depth), headers: WITH_TOKEN });
        expect(res.status).toBe(400);
        expect(res.json.error).toEqual({ code: 'invalid_body', message: expect.stringMatching(/64 levels/) });
        expect((await historyOf(h, subscriber.sid, source.id))[0]).toMatchObject({
          outcome: 'rejected',
          status: 400,
          reason: expect.stringMatching(/64 levels/),
        });
        expect(await eventsOf(h, subscriber.sid)).toEqual([]);
      },
    );
  });

  it.each([
    [
      'a source whose match value nests 5,000 levels',
      '/sources',
      (deep: string) =>
        `{"name":"x","eventType":"source.x","verification":{"type":"header","headers":{"X-T":"secret-123"}},"matches":{"$.a":${deep}}}`,
    ],
    [
      'an endpoint whose description nests 5,000 levels',
      '/endpoints',
      (deep: string) => `{"url":"http://127.0.0.1:9/x","description":${deep}}`,
    ],
  ])('answers 400, not 500, to %s, and stores nothing', async (_label, path, body) => {
    const res = await publishRaw(path, body(nestedJson(5_000)));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect((await h.call('GET', `/v1/subscribers/${subscriber.sid}${path}`)).body.data).toEqual([]);
  });

  describe('distinct object keys (10,000) and objects and arrays (50,000) are limited per body, refused before parsing', () => {
    const manyKeys = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`;

    it('publishes a payload of 9,999 keys (the envelope has one more) and refuses one of 10,001, naming the limit and storing nothing', async () => {
      expect((await publishRaw('/events', `{"type":"custom.keys","payload":${manyKeys(9_998)}}`)).status).toBe(202);
      const res = await publishRaw('/events', `{"type":"custom.keys","payload":${manyKeys(10_001)}}`);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details).toEqual([{ path: '(body)', message: 'using more than 10,000 distinct object keys' }]);
      expect(await eventsOf(h, subscriber.sid)).toHaveLength(1);
    });

    it('publishes a batch of 5,000 records sharing their keys', async () => {
      const records = Array.from({ length: 5_000 }, (_, i) => ({ id: i, status: 'delivered', to: `+1555${i}` }));
      const res = await publishRaw('/events/batch', JSON.stringify({ events: [{ type: 'custom.records', payload: { records } }] }));
      expect(res.status).toBe(202);
    });

    it('refuses a payload of 50,000 empty objects (the outer array is one more), naming the limit', async () => {
      const res = await publishRaw('/events', `{"type":"custom.objects","payload":[${Array(50_000).fill('{}').join(',')}]}`);
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ path: '(body)', message: 'holding more than 50,000 objects and arrays' }]);
      expect(await eventsOf(h, subscriber.sid)).toEqual([]);
    });

    it('refuses a source body of 10,001 distinct keys, records why, and publishes nothing', async () => {
      const source = await createSource(h, subscriber.sid, { eventType: 'source.keys', verification: TOKEN_HEADER });
      const res = await ingest(h, source.ingestUrl, { body: manyKeys(10_001), headers: WITH_TOKEN });
      expect(res.status).toBe(400);
      expect(res.json.error).toEqual({ code: 'invalid_body', message: 'body is using more than 10,000 distinct object keys' });
      expect((await historyOf(h, subscriber.sid, source.id))[0]).toMatchObject({ outcome: 'rejected', status: 400 });
      expect(await eventsOf(h, subscriber.sid)).toEqual([]);
    });
  });

  describe('a body in another encoding than UTF-8', () => {
    const post = (body: Buffer, charset: string) =>
      fetch(`${h.baseUrl}/v1/subscribers/${subscriber.sid}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.adminKey}`, 'content-type': `application/json; charset=${charset}` },
        body,
      });

    it('is refused 415 before its shape is read: a UTF-16 payload nested 100 deep is not taken for a shallow one', async () => {
      // In UTF-16 a bullet (U+2022) is the bytes 22 20: read as UTF-8, a quote that ends the string
      // early, so everything after it read as text: the scan saw 2 levels, the payload check was
      // skipped, and the event was stored.
      const text = `{"type":"custom.deep","payload":{"note":"\u2022","deep":${nestedJson(100)}}}`;
      const res = await post(Buffer.from(text, 'utf16le'), 'utf-16le');
      expect(res.status).toBe(415);
      expect(((await res.json()) as { error: unknown }).error).toEqual({
        code: 'unsupported_encoding',
        message: 'request body must be UTF-8 JSON',
      });
      expect(await eventsOf(h, subscriber.sid)).toEqual([]);
    });

    it('takes UTF-8 however the charset is spelled', async () => {
      const res = await post(Buffer.from('{"type":"custom.utf8","payload":{"note":"筻"}}'), 'UTF-8');
      expect(res.status).toBe(202);
    });
  });
});
