import { brotliCompressSync, gzipSync } from 'node:zlib';
import { useApiHarness } from './api-harness';
import { newSubscriber } from './sources/source-test-kit';

describe('HTTP semantics of the API', () => {
  const h = useApiHarness({ worker: false });
  let sid: string;

  beforeAll(async () => {
    ({ sid } = await newSubscriber(h));
  });

  /** A request with exactly these headers and body bytes (fetch adds no Content-Type to bytes). */
  const raw = (method: string, path: string, headers: Record<string, string>, body?: string) =>
    fetch(`${h.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${h.adminKey}`, ...headers },
      body: body === undefined ? undefined : new TextEncoder().encode(body),
    });

  describe('a body that is not declared as JSON on a JSON route', () => {
    it('is a 415 naming the expected type, for a form post (what curl -d sends)', async () => {
      const res = await raw('POST', '/v1/subscribers', { 'content-type': 'application/x-www-form-urlencoded' }, 'name=acme');
      expect(res.status).toBe(415);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('unsupported_media_type');
      expect(body.error.message).toMatch(
        /^request body must be JSON: send Content-Type: application\/json \(got Content-Type "application\/x-www-form-urlencoded"\)$/,
      );
    });

    it('is a 415 for a body with no Content-Type at all, even when the body is JSON', async () => {
      const res = await raw('POST', `/v1/subscribers/${sid}/events`, {}, '{"type":"custom.x","payload":{}}');
      expect(res.status).toBe(415);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain('(got no Content-Type)');
      expect((await h.call('GET', `/v1/subscribers/${sid}/events`)).body.data).toEqual([]);
    });

    it('is accepted with application/json (with a charset) and with a +json type', async () => {
      expect((await raw('POST', '/v1/subscribers', { 'content-type': 'application/json; charset=utf-8' }, '{"name":"a"}')).status).toBe(
        201,
      );
      expect((await raw('POST', '/v1/subscribers', { 'content-type': 'application/vnd.hookrelay+json' }, '{"name":"b"}')).status).toBe(201);
    });

    it('does not concern a request without a body', async () => {
      const res = await raw('POST', `/v1/subscribers/${sid}/api-keys`, {});
      expect(res.status).toBe(201);
      const empty = await raw('POST', `/v1/subscribers/${sid}/api-keys`, { 'content-length': '0' });
      expect(empty.status).toBe(201);
    });
  });

  describe('a compressed body', () => {
    // A 1 KB gzip body inflated to 1 MB of JSON before the key was checked: refused as sent.
    const bomb = gzipSync(JSON.stringify({ type: 'custom.big', payload: { fill: 'x'.repeat(900_000) } }));

    it.each([
      ['gzip', bomb],
      ['br', brotliCompressSync('{"type":"custom.x","payload":{}}')],
    ])('is a 415 for Content-Encoding: %s, read no further, and nothing is published', async (encoding, bytes) => {
      expect(bytes.length).toBeLessThan(2000);
      const res = await fetch(`${h.baseUrl}/v1/subscribers/${sid}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.adminKey}`, 'content-type': 'application/json', 'content-encoding': encoding },
        body: new Uint8Array(bytes),
      });
      expect(res.status).toBe(415);
      expect(await res.json()).toEqual({
        error: { code: 'unsupported_encoding', message: 'request body must not be compressed: send it without Content-Encoding' },
      });
      expect((await h.call('GET', `/v1/subscribers/${sid}/events`)).body.data).toEqual([]);
    });

    it('is a 401 with a bad key, which is checked before the body is read, so it costs no inflating', async () => {
      const res = await fetch(`${h.baseUrl}/v1/subscribers/${sid}/events`, {
        method: 'POST',
        headers: { authorization: 'Bearer nope', 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: new Uint8Array(bomb),
      });
      expect(res.status).toBe(401);
    });

    it('is accepted with Content-Encoding: identity', async () => {
      const res = await raw(
        'POST',
        `/v1/subscribers/${sid}/events`,
        { 'content-type': 'application/json', 'content-encoding': 'identity' },
        '{"type":"custom.plain","payload":{}}',
      );
      expect(res.status).toBe(202);
    });
  });

  describe('a cursor that did not come from a previous page', () => {
    it.each(['garbage', 'bnVsbA', 'MTIzOg', 'eDplcF8x', '0', 'null'])(
      'is a 400 naming cursor on the endpoint list (%s)',
      async (cursor) => {
        const res = await h.call('GET', `/v1/subscribers/${sid}/endpoints?cursor=${cursor}`);
        expect(res.status).toBe(400);
        expect(res.body.error.details).toEqual([
          { path: 'cursor', message: 'not a cursor from a previous page (omit it for the first page)' },
        ]);
      },
    );

    it('is a 400 on every list route that pages', async () => {
      const source = await h.call('POST', `/v1/subscribers/${sid}/sources`, {
        body: { name: 's', eventType: 'source.x', verification: { type: 'header', headers: { 'x-k': 'v' } } },
      });
      expect(source.status).toBe(201);
      for (const path of [
        `/v1/subscribers/${sid}/endpoints`,
        `/v1/subscribers/${sid}/deliveries`,
        `/v1/subscribers/${sid}/events`,
        `/v1/subscribers/${sid}/sources`,
        `/v1/subscribers/${sid}/sources/${source.body.id}/requests`,
      ]) {
        const res = await h.call('GET', `${path}?cursor=garbage`);
        expect({ path, status: res.status, field: res.body.error?.details?.[0]?.path }).toEqual({
          path,
          status: 400,
          field: expect.stringMatching(/^(query\.)?cursor$/),
        });
      }
    });

    it("is a 400, not a 500, for an entry id of the cursor's shape that Redis refuses as a bound", async () => {
      const source = await h.call('POST', `/v1/subscribers/${sid}/sources`, {
        body: { name: 's2', eventType: 'source.x', verification: { type: 'header', headers: { 'x-k': 'v' } } },
      });
      expect(source.status).toBe(201);
      const endpoint = await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: 'https://example.com/hook' } });
      expect(endpoint.status).toBe(201);
      // 0-0: no entry is below it; the sequence 2^64: past what Redis takes.
      for (const raw of ['0-0', '1-18446744073709551616']) {
        const cursor = Buffer.from(raw).toString('base64url');
        for (const [method, path, body] of [
          ['GET', `/v1/subscribers/${sid}/deliveries?cursor=${cursor}`],
          ['GET', `/v1/subscribers/${sid}/events?cursor=${cursor}`],
          ['GET', `/v1/subscribers/${sid}/sources/${source.body.id}/requests?cursor=${cursor}`],
          ['POST', `/v1/subscribers/${sid}/endpoints/${endpoint.body.id}/recover`, { since: 0, cursor }],
        ] as const) {
          const res = await h.call(method, path, body ? { body } : {});
          expect({ raw, path, status: res.status, field: res.body.error?.details?.[0]?.path }).toEqual({
            raw,
            path,
            status: 400,
            field: expect.stringMatching(/cursor$/),
          });
        }
      }
      const largest = Buffer.from('1-18446744073709551615').toString('base64url');
      expect((await h.call('GET', `/v1/subscribers/${sid}/events?cursor=${largest}`)).status).toBe(200);
    });

    it('still pages with the cursors the list hands out', async () => {
      const { sid: other } = await newSubscriber(h, 'pager');
      const ids: string[] = [];
      for (let i = 0; i < 3; i++)
        ids.push((await h.call('POST', `/v1/subscribers/${other}/endpoints`, { body: { url: `http://127.0.0.1:9/${i}` } })).body.id);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await h.call('GET', `/v1/subscribers/${other}/endpoints?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.status).toBe(200);
        seen.push(...page.body.data.map((e: { id: string }) => e.id));
        cursor = page.body.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(ids);
    });
  });

  describe('a method the route does not support', () => {
    it.each([
      ['DELETE', () => `/v1/subscribers/${sid}/endpoints`, 'GET, HEAD, POST'],
      ['PUT', () => `/v1/subscribers/${sid}/endpoints/ep_x`, 'DELETE, GET, HEAD, PATCH'],
      ['DELETE', () => `/v1/subscribers/${sid}/events/batch`, 'GET, HEAD, POST'],
      ['PATCH', () => '/v1/event-types', 'GET, HEAD, POST'],
      ['POST', () => '/healthz', 'GET, HEAD'],
    ])('%s %s is a 405 with Allow', async (method, path, allow) => {
      const res = await h.call(method, path());
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
      expect(res.body.error).toEqual({ code: 'method_not_allowed', message: `${method} is not allowed here; this path accepts ${allow}` });
    });

    it('leaves a path no route serves a 404', async () => {
      const res = await h.call('GET', `/v1/subscribers/${sid}/nothing-here`);
      expect(res.status).toBe(404);
      expect(res.body.error).toEqual({ code: 'not_found', message: 'no such route' });
    });
  });

  describe('validation messages', () => {
    it('say "required" for a missing field', async () => {
      const res = await h.call('POST', `/v1/subscribers/${sid}/events`, { body: { payload: {} } });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toBe('invalid request: type: required');
      expect(res.body.error.details).toEqual([{ path: 'type', message: 'required' }]);
      const endpoint = await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { description: 'no url' } });
      expect(endpoint.body.error.details).toEqual([{ path: 'url', message: 'required' }]);
    });

    it('say what was expected and what came, in plain words', async () => {
      const res = await h.call('POST', `/v1/subscribers/${sid}/endpoints`, {
        body: { url: 'http://127.0.0.1:9/x', timeoutMs: 'soon', eventTypes: 'incident.*', unknownField: 1 },
      });
      expect(res.status).toBe(400);
      const messages = Object.fromEntries(
        (res.body.error.details as Array<{ path: string; message: string }>).map((d) => [d.path, d.message]),
      );
      expect(messages).toEqual({
        timeoutMs: 'must be a number, not a string',
        eventTypes: 'must be an array, not a string',
        '(body)': 'unknown field: unknownField',
      });
      expect(JSON.stringify(res.body)).not.toMatch(/Invalid input|expected nonoptional|received undefined/);
    });

    it("refuse sha1 as this server's policy, without naming the server's settings", async () => {
      const res = await h.call('POST', `/v1/subscribers/${sid}/endpoints`, {
        body: { url: 'http://127.0.0.1:9/x', signature: { scheme: 'x-hub-signature', algorithm: 'sha1' } },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([
        { path: 'signature.algorithm', message: 'sha1 is not allowed on this server; use sha256 or sha512' },
      ]);
      expect(JSON.stringify(res.body)).not.toMatch(/HOOKRELAY_|ALLOW_SHA1/);
    });
  });
});
