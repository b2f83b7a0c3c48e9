import { startApiHarness, type ApiHarness } from './api-harness';

const INCIDENT = {
  payload: {
    event_type: 'triggered',
    incident: { incident_number: 60, status: 1, unique_id: 'pprkCF8ghaUcFMFT', title: 'Payments API latency' },
  },
};

describe('limits, errors and operational routes', () => {
  let h: ApiHarness;
  let sid: string;

  beforeEach(async () => {
    h = await startApiHarness({ worker: false });
    sid = (await h.call('POST', '/v1/subscribers', { body: { name: 'Acme' } })).body.id;
  });
  afterEach(async () => {
    await h.close();
  });

  describe('request bodies', () => {
    it('answers 413 with a JSON error to a body over 1 MB, and stores nothing', async () => {
      const payload = { blob: 'x'.repeat(1024 * 1024) };
      const res = await h.call('POST', `/v1/subscribers/${sid}/events`, { body: { type: 'custom.big', payload } });
      expect(res.status).toBe(413);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body).toEqual({ error: { code: 'payload_too_large', message: expect.stringContaining('1 MB') } });
      expect(await h.redis.keys(`${h.prefix}:ev:*`)).toEqual([]);
    });

    it('accepts a body just under 1 MB', async () => {
      const payload = { blob: 'x'.repeat(1000 * 1000) };
      const res = await h.call('POST', `/v1/subscribers/${sid}/events`, { body: { type: 'custom.big', payload } });
      expect(res.status).toBe(202);
    });

    it('answers 413 naming the field to a payload over 1 MiB as stored JSON, from a body under 1 MB, and stores nothing', async () => {
      // 1e5 is 3 bytes as sent and 6 (100000) as JSON: the body is under the limit, the payload over it.
      const text = `{"type":"custom.numbers","payload":{"n":[${Array(240_000).fill('1e5').join(',')}]}}`;
      expect(text.length).toBeLessThan(1_000_000);
      const res = await h.call('POST', `/v1/subscribers/${sid}/events`, { body: text });
      expect(res.status).toBe(413);
      expect(res.body).toEqual({
        error: {
          code: 'payload_too_large',
          message: 'payload: is 1680007 bytes as JSON; at most 1048576',
          details: [{ path: 'payload', message: 'is 1680007 bytes as JSON; at most 1048576' }],
        },
      });
      const batch = await h.call('POST', `/v1/subscribers/${sid}/events/batch`, {
        body: `{"events":[{"type":"custom.small","payload":{}},${text.slice(0, -1)}}]}`,
      });
      expect(batch.status).toBe(413);
      expect(batch.body.error.details).toEqual([{ path: 'events.1.payload', message: 'is 1680007 bytes as JSON; at most 1048576' }]);
      // A batch of one names its event's place too.
      const one = await h.call('POST', `/v1/subscribers/${sid}/events/batch`, { body: `{"events":[${text}]}` });
      expect(one.body.error.details).toEqual([{ path: 'events.0.payload', message: 'is 1680007 bytes as JSON; at most 1048576' }]);
      expect(await h.redis.keys(`${h.prefix}:ev:*`)).toEqual([]);
    });

    it.each(['{"type": "custom.x", "payload": {', '{type: custom.x}', '[1, 2'])(
      'answers 400 with a JSON error to invalid JSON %j',
      async (text) => {
        const res = await h.call('POST', `/v1/subscribers/${sid}/events`, { body: text });
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        expect(res.body).toEqual({ error: { code: 'validation_failed', message: expect.stringMatching(/not valid JSON/) } });
      },
    );

    it('answers 400 naming the fields to a JSON body that is not an object', async () => {
      const res = await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: '"https://example.com"' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    });
  });

  describe('unknown routes', () => {
    it.each([
      ['GET', '/nope', true],
      ['GET', '/v1/nope', true],
      ['GET', `/v1/subscribers/SID/no-such-collection`, true],
    ])('answers %s %s with a JSON 404', async (method, path) => {
      const res = await h.call(method, path.replace('SID', sid));
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
    });

    it.each([
      ['POST', '/healthz', 'GET, HEAD'],
      ['DELETE', '/v1/subscribers', 'GET, HEAD, POST'],
    ])('answers %s %s, a path served with other methods, with a JSON 405 and Allow', async (method, path, allow) => {
      const res = await h.call(method, path);
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
      expect(res.body).toEqual({ error: { code: 'method_not_allowed', message: expect.any(String) } });
    });

    it('asks for a key before saying a /v1 route does not exist', async () => {
      const res = await h.call('GET', '/v1/nope', { key: null });
      expect(res.status).toBe(401);
    });
  });

  describe('probes and metrics, which need no key', () => {
    it('GET /healthz answers 200', async () => {
      const res = await h.call('GET', '/healthz', { key: null });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok' });
    });

    it('GET /readyz answers 200 while Redis answers', async () => {
      const res = await h.call('GET', '/readyz', { key: null });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ready' });
    });

    it('GET /metrics counts published events by type in Prometheus text', async () => {
      const before = await h.call('GET', '/metrics', { key: null });
      expect(before.status).toBe(200);
      expect(before.body).not.toMatch(/hookrelay_events_published_total\{type="incident.triggered"\}/);
      for (const type of ['incident.triggered', 'incident.triggered']) {
        expect((await h.call('POST', `/v1/subscribers/${sid}/events`, { body: { type, payload: INCIDENT } })).status).toBe(202);
      }
      await h.call('POST', `/v1/subscribers/${sid}/events`, { body: { type: 'custom.order.paid', payload: {} } });
      const res = await h.call('GET', '/metrics', { key: null });
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(res.body).toMatch(/^# TYPE hookrelay_events_published_total counter$/m);
      expect(res.body).toMatch(/^hookrelay_events_published_total\{type="incident.triggered"\} 2$/m);
      // Custom types share one label, so a publisher cannot blow up the series count.
      expect(res.body).toMatch(/^hookrelay_events_published_total\{type="custom"\} 1$/m);
    });
  });

  describe('GET /v1/event-types', () => {
    it('lists the catalog with a JSON Schema and an example for each type', async () => {
      const res = await h.call('GET', '/v1/event-types');
      expect(res.status).toBe(200);
      const byType = new Map<string, { description: string; schema: any; example: unknown }>(
        res.body.data.map((t: { type: string }) => [t.type, t]),
      );
      for (const type of [
        'incident.triggered',
        'incident.acknowledged',
        'incident.resolved',
        'receipt.sms.delivered',
        'receipt.email.bounced',
        'message.incoming.sms',
        'custom.*',
      ]) {
        expect([type, byType.has(type)]).toEqual([type, true]);
      }
      for (const [type, entry] of byType) {
        expect([type, typeof entry.description, entry.schema.$schema, entry.example !== undefined]).toEqual([
          type,
          'string',
          expect.stringContaining('json-schema.org'),
          true,
        ]);
      }
      const incident = byType.get('incident.triggered')!.schema;
      expect(incident.properties.payload.properties.event_type).toMatchObject({ const: 'triggered' });
      expect(incident.properties.payload.required).toEqual(expect.arrayContaining(['event_type', 'incident']));
    });

    it('needs a key', async () => {
      expect((await h.call('GET', '/v1/event-types', { key: null })).status).toBe(401);
    });

    it("publishes each built-in type's own example", async () => {
      const catalog = (await h.call('GET', '/v1/event-types')).body.data as Array<{ type: string; example: unknown }>;
      // Operational types (endpoint.disabled, hookrelay.test) are Hookrelay's own: publishing them is refused below.
      const builtIn = catalog.filter((t) => t.type !== 'custom.*' && !['endpoint.disabled', 'hookrelay.test'].includes(t.type));
      const res = await h.call('POST', `/v1/subscribers/${sid}/events/batch`, {
        body: { events: builtIn.map((t) => ({ type: t.type, payload: t.example })) },
      });
      expect(res.status).toBe(202);
      expect(res.body.events).toHaveLength(builtIn.length);
    });

    it.each(['endpoint.disabled', 'hookrelay.test'])('refuses to publish %s, which only Hookrelay sends', async (type) => {
      const example = ((await h.call('GET', '/v1/event-types')).body.data as Array<{ type: string; example: unknown }>).find(
        (t) => t.type === type,
      );
      const res = await h.call('POST', `/v1/subscribers/${sid}/events`, { body: { type, payload: example?.example } });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ path: 'type', message: 'reserved for events Hookrelay sends itself' }]);
    });
  });

  describe('when the server stops accepting requests', () => {
    it.each([
      ['GET', '/healthz'],
      ['GET', '/readyz'],
      ['GET', '/metrics'],
      ['GET', '/openapi.json'],
      ['GET', '/v1/event-types'],
      ['POST', '/v1/subscribers'],
      ['POST', '/v1/subscribers/SID/events'],
      ['GET', '/nope'],
    ])('answers %s %s with 503 and closes the connection', async (method, path) => {
      h.setAccepting(false);
      const res = await h.call(method, path.replace('SID', sid), {
        body: method === 'POST' ? { name: 'late', type: 'custom.x', payload: {} } : undefined,
      });
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ error: { code: 'shutting_down', message: expect.any(String) } });
      expect(res.headers.get('connection')).toBe('close');
      h.setAccepting(true);
      expect((await h.call('GET', '/readyz')).status).toBe(200);
    });

    it('stores nothing it was sent meanwhile', async () => {
      h.setAccepting(false);
      await h.call('POST', `/v1/subscribers/${sid}/events`, { body: { type: 'custom.x', payload: {} } });
      expect(await h.redis.keys(`${h.prefix}:ev:*`)).toEqual([]);
    });
  });
});
