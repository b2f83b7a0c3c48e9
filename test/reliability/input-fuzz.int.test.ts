import { connect } from 'node:net';
import fc from 'fast-check';
import { createRedis } from '@hookrelay/queue';
import { startRedisServer, TestReceiver, type RedisServerHandle } from '@hookrelay/testing';
import type Redis from 'ioredis';
import { hostileBody, nastyHeaders, nastyString, nastyUrl, pathId, wrongType, type RawBody } from './support/hostile-input';
import { createLoopbackOnlyAgent } from './support/loopback-only-agent';
import { diffSnapshots, snapshotKeys } from './support/redis-admin';
import { startReliabilityApi, type ReliabilityApi } from './support/reliability-api';

/** Runs per route; RELIABILITY_FUZZ_RUNS raises it for a longer local hunt. */
const RUNS = Number(process.env.RELIABILITY_FUZZ_RUNS ?? 200);
/** Each route's property stops after this long, whatever RUNS says. */
const ROUTE_TIME_LIMIT_MS = 15_000;

const opt = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: arb }, { weight: 1, arbitrary: wrongType });
const partial = <T extends Record<string, fc.Arbitrary<unknown>>>(fields: T) =>
  fc
    .tuple(
      fc.record(fields, { requiredKeys: [] }),
      fc.option(fc.dictionary(fc.string({ maxLength: 8 }), wrongType, { maxKeys: 2 }), { nil: undefined }),
    )
    .map(([shaped, extra]) => ({
      ...shaped,
      ...extra,
    }));

/** A valid body with one field replaced by a hostile value: reaches the checks behind the schema. */
const mutateOne = (valid: Record<string, unknown>, fields: Record<string, fc.Arbitrary<unknown>>) =>
  fc
    .constantFrom(...Object.keys(fields))
    .chain((key) => (fields[key] as fc.Arbitrary<unknown>).map((value) => ({ ...valid, [key]: value })));
/** Half shaped-but-random, half valid-but-for-one-field. */
const shapedBody = (valid: Record<string, unknown>, fields: Record<string, fc.Arbitrary<unknown>>) =>
  hostileBody(fc.oneof(partial(fields), mutateOne(valid, fields)));

const eventTypeArb = fc.oneof(
  fc.constantFrom('custom.fuzz', 'custom.a.b', 'incident.triggered', 'hookrelay.endpoint.disabled', 'a..b', '*', 'custom.*'),
  nastyString,
);
const signatureArb = opt(
  fc.record(
    {
      scheme: fc.constantFrom('x-hub-signature', 'x-signature', 'standard-webhooks', 'none', 'nope'),
      algorithm: opt(fc.constantFrom('sha1', 'sha256', 'sha512', 'md5')),
      prefix: opt(fc.boolean()),
    },
    { requiredKeys: ['scheme'] },
  ),
);
const authArb = opt(
  fc.record(
    {
      type: fc.constantFrom(
        'none',
        'basic',
        'api-key',
        'bearer',
        'oauth2-client-credentials',
        'oauth2-authorization-code',
        'digest',
        'aws-sigv4',
        'x',
      ),
      username: opt(nastyString),
      password: opt(nastyString),
      header: opt(fc.constantFrom('X-Api-Key', 'X Bad', 'Authorization', 'x-hookrelay-sig', 'A\r\nB')),
      value: opt(nastyString),
      token: opt(nastyString),
      tokenUrl: opt(nastyUrl),
      clientId: opt(nastyString),
      clientSecret: opt(nastyString),
      accessKeyId: opt(nastyString),
      secretAccessKey: opt(nastyString),
      region: opt(fc.constantFrom('eu-west-1', 'EU WEST')),
      service: opt(fc.constantFrom('execute-api', 'x y')),
    },
    { requiredKeys: ['type'] },
  ),
);
const retryArb = opt(
  fc.record(
    {
      maxRetries: opt(fc.integer({ min: -5, max: 100 })),
      intervalMs: opt(fc.integer({ min: -5, max: 10_000_000 })),
      backoff: opt(fc.constantFrom('fixed', 'exponential', 'linear')),
    },
    { requiredKeys: [] },
  ),
);
const endpointFields = {
  url: opt(nastyUrl),
  description: opt(nastyString),
  eventTypes: opt(fc.array(eventTypeArb, { maxLength: 4 })),
  signature: signatureArb,
  secret: opt(nastyString),
  headers: nastyHeaders,
  auth: authArb,
  retry: retryArb,
  timeoutMs: opt(fc.integer({ min: -10, max: 100_000 })),
  verify: opt(fc.constantFrom('none', 'post', 'get', 'challenge', 'x')),
};
const eventFields = { type: opt(eventTypeArb), payload: opt(fc.jsonValue({ maxDepth: 3 })), idempotencyKey: opt(nastyString) };
const eventArb = fc.oneof(partial(eventFields), mutateOne({ type: 'custom.fuzz', payload: {} }, eventFields));
const timeArb = opt(
  fc.oneof(
    fc.integer({ min: -1, max: 2 ** 53 }),
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    nastyString,
  ),
);
const verificationArb = opt(
  fc.record(
    {
      type: fc.constantFrom('none', 'header', 'hmac', 'stripe', 'standard-webhooks', 'slack', 'basic', 'x'),
      secret: opt(nastyString),
      header: opt(fc.constantFrom('x-signature', 'X Bad', 'a\r\nb')),
      headers: nastyHeaders,
      algorithm: opt(fc.constantFrom('sha256', 'md5')),
      signingSecret: opt(nastyString),
      username: opt(nastyString),
      password: opt(nastyString),
      toleranceSeconds: opt(fc.integer()),
    },
    { requiredKeys: ['type'] },
  ),
);

interface Route {
  name: string;
  method: 'POST' | 'PATCH';
  path: fc.Arbitrary<string>;
  body: fc.Arbitrary<RawBody>;
  headers?: fc.Arbitrary<Record<string, string>>;
}

describe('hostile input on every write route', () => {
  let redis: RedisServerHandle;
  let admin: Redis;
  let api: ReliabilityApi;
  let receiver: TestReceiver;
  const ids = { sid: '', eid: '', patchEid: '', testEid: '', evid: '', did: '' };
  const tally: Record<string, Record<string, number>> = {};

  beforeAll(async () => {
    redis = await startRedisServer();
    admin = createRedis(redis.url, 'store');
    receiver = await TestReceiver.start({ status: 200 });
    api = await startReliabilityApi({
      redisUrl: redis.url,
      // Endpoint URLs are made up: verification and test sends may reach loopback and nothing else.
      dispatcher: createLoopbackOnlyAgent(),
      policy: { allowHttp: true, allowPrivateTargets: true, allowUnauthenticatedSources: false },
    });
    ids.sid = (await api.call('POST', '/v1/subscribers', { body: { name: 'fuzz' } })).body.id;
    const endpoint = async () =>
      (await api.call('POST', `/v1/subscribers/${ids.sid}/endpoints`, { body: { url: `${receiver.url}/hook`, eventTypes: ['custom.*'] } }))
        .body.id as string;
    ids.eid = await endpoint();
    ids.patchEid = await endpoint();
    ids.testEid = await endpoint();
    const published = await api.call('POST', `/v1/subscribers/${ids.sid}/events`, { body: { type: 'custom.fuzz', payload: { a: 1 } } });
    ids.evid = published.body.id;
    ids.did = published.body.deliveries[0].id;
    // A failed delivery, so that retry and recover have something to act on.
    await api.store.deliveries.patch((await api.store.deliveries.get(ids.did))!, { state: 'failed' });
  });

  afterAll(async () => {
    console.log(`input-fuzz: statuses per route ${JSON.stringify(tally)}`);
    await api.close();
    await receiver.close();
    admin.disconnect();
    await redis.stop();
  });

  const sub = () => pathId(ids.sid).map((s) => `/v1/subscribers/${s}`);
  const routes = (): Route[] => [
    {
      name: 'POST /subscribers',
      method: 'POST',
      path: fc.constant('/v1/subscribers'),
      body: shapedBody({ name: 'sub' }, { name: opt(nastyString) }),
    },
    {
      name: 'POST /api-keys',
      method: 'POST',
      path: fc.constant('/v1/api-keys'),
      body: shapedBody({ role: 'publisher' }, { role: opt(fc.constantFrom('publisher', 'subscriber', 'admin')) }),
    },
    {
      name: 'POST /endpoints',
      method: 'POST',
      path: sub().map((p) => `${p}/endpoints`),
      body: shapedBody({ url: `${receiver?.url}/new` }, endpointFields),
    },
    {
      name: 'PATCH /endpoints/:eid',
      method: 'PATCH',
      path: fc.tuple(sub(), pathId(ids.patchEid)).map(([p, e]) => `${p}/endpoints/${e}`),
      body: shapedBody({ description: 'patched' }, { ...endpointFields, status: opt(fc.constantFrom('active', 'disabled', 'deleted')) }),
    },
    {
      name: 'POST /events',
      method: 'POST',
      path: sub().map((p) => `${p}/events`),
      body: fc.oneof(hostileBody(eventArb), shapedBody({ type: 'custom.fuzz', payload: { ok: true } }, eventFields)),
      headers: fc
        .option(
          nastyString.filter((s) => /^[\t\x20-\x7e]*$/.test(s) && s.length < 8000),
          { nil: undefined },
        )
        .map((k): Record<string, string> => (k === undefined ? {} : { 'idempotency-key': k })),
    },
    {
      name: 'POST /events/batch',
      method: 'POST',
      path: sub().map((p) => `${p}/events/batch`),
      body: hostileBody(
        partial({
          events: opt(
            fc.oneof(
              fc.array(eventArb, { maxLength: 5 }),
              fc.integer({ min: 1001, max: 1100 }).map((n) => Array(n).fill({ type: 'custom.fuzz', payload: {} })),
            ),
          ),
        }),
      ),
    },
    {
      name: 'POST /endpoints/:eid/secret/rotate',
      method: 'POST',
      path: fc.tuple(sub(), pathId(ids.eid)).map(([p, e]) => `${p}/endpoints/${e}/secret/rotate`),
      body: shapedBody({ graceMs: 1000 }, { graceMs: opt(fc.integer({ min: -1, max: 10 ** 10 })), secret: opt(nastyString) }),
    },
    {
      name: 'POST /endpoints/:eid/recover',
      method: 'POST',
      path: fc.tuple(sub(), pathId(ids.eid)).map(([p, e]) => `${p}/endpoints/${e}/recover`),
      body: shapedBody({ since: 0 }, { since: timeArb, until: timeArb }),
    },
    {
      name: 'POST /deliveries/:did/retry',
      method: 'POST',
      path: fc.tuple(sub(), pathId(ids.did)).map(([p, d]) => `${p}/deliveries/${d}/retry`),
      body: hostileBody(partial({})),
    },
    {
      name: 'POST /events/:eid/replay',
      method: 'POST',
      path: fc.tuple(sub(), pathId(ids.evid)).map(([p, e]) => `${p}/events/${e}/replay`),
      body: shapedBody(
        { endpointIds: [ids.eid] },
        { endpointIds: opt(fc.array(fc.oneof(fc.constant(ids.eid), nastyString), { maxLength: 3 })) },
      ),
    },
    {
      name: 'POST /endpoints/:eid/test',
      method: 'POST',
      path: fc.tuple(sub(), pathId(ids.testEid)).map(([p, e]) => `${p}/endpoints/${e}/test`),
      body: shapedBody({ type: 'custom.fuzz' }, { type: opt(eventTypeArb) }),
    },
    {
      name: 'POST /sources',
      method: 'POST',
      path: sub().map((p) => `${p}/sources`),
      body: shapedBody(
        { name: 'src', eventType: 'custom.src', verification: { type: 'header', headers: { 'x-token': 'secret-token' } } },
        {
          name: opt(nastyString),
          eventType: opt(
            fc.oneof(
              fc.constantFrom(
                'github.{{ headers.x-github-event }}',
                'custom.src',
                '{{ payload.type }}',
                '{{',
                'custom.{{ payload.__proto__ }}',
              ),
              nastyString,
            ),
          ),
          verification: verificationArb,
          matches: opt(
            fc.dictionary(fc.oneof(nastyString, fc.constantFrom('$.a', 'payload.__proto__', 'a[0]')), fc.jsonValue({ maxDepth: 2 }), {
              maxKeys: 3,
            }),
          ),
          format: opt(fc.constantFrom('json', 'form', 'text', 'xml')),
          rateLimit: opt(fc.record({ perSecond: opt(fc.integer()), perMinute: opt(fc.integer()) }, { requiredKeys: [] })),
        },
      ),
    },
  ];

  it.each(routes().map((r) => [r.name]))(
    '%s: answers 2xx or a 4xx JSON error, never 5xx, and a refusal stores nothing',
    async (name) => {
      const route = routes().find((r) => r.name === name) as Route;
      const counts: Record<string, number> = (tally[name] = {});
      await fc.assert(
        fc.asyncProperty(route.path, route.body, route.headers ?? fc.constant({}), async (path, body, extraHeaders) => {
          const before = await snapshotKeys(admin, api.prefix);
          const headers: Record<string, string> = { authorization: `Bearer ${api.adminKey}`, ...extraHeaders };
          if (body.contentType) headers['content-type'] = body.contentType;
          const res = await fetch(`${api.baseUrl}${path}`, {
            method: route.method,
            headers,
            body: body.bytes,
            signal: AbortSignal.timeout(10_000),
          });
          const text = await res.text();
          counts[res.status] = (counts[res.status] ?? 0) + 1;
          const context = `${route.method} ${path.slice(0, 200)} [${body.label}] ${body.bytes.subarray(0, 300).toString()} -> ${res.status} ${text.slice(0, 300)}`;
          if (res.status >= 500) throw new Error(`server error: ${context}`);
          if (res.status >= 400) {
            expect(res.headers.get('content-type') ?? '').toMatch(/^application\/json/);
            const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
            if (typeof parsed.error?.code !== 'string' || typeof parsed.error.message !== 'string')
              throw new Error(`4xx without a JSON error: ${context}`);
            const changed = diffSnapshots(before, await snapshotKeys(admin, api.prefix));
            if (changed.length > 0) throw new Error(`a refused request changed Redis (${changed.slice(0, 5).join(', ')}): ${context}`);
          } else if (res.status < 200 || res.status >= 300) {
            throw new Error(`unexpected status: ${context}`);
          }
        }),
        { numRuns: RUNS, interruptAfterTimeLimit: ROUTE_TIME_LIMIT_MS, markInterruptAsFailure: false, endOnFailure: true },
      );
      // Still alive and still answering.
      expect((await api.call('GET', '/healthz', { key: null })).status).toBe(200);
      expect(api.logLines.filter((l) => l.level === 'error' || l.level === 'fatal').map((l) => l.msg)).toEqual([]);
    },
    60_000,
  );

  describe('when request header names carry spaces or CR/LF', () => {
    /** Sends bytes as they are: fetch would refuse to build these requests. */
    function rawRequest(head: string, body = '{"name":"raw"}'): Promise<string> {
      const { port } = new URL(api.baseUrl);
      return new Promise((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1');
        let answer = '';
        socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
        socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
        socket.on('end', () => resolve(answer));
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
        socket.write(
          `${head}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
        );
      });
    }

    it.each([
      ['a space inside a header name', 'X Bad: 1'],
      ['a space before the colon', `Authorization : Bearer KEY`],
      ['a bare CR inside a header name', 'X-A\rB: 1'],
      ['a bare LF splitting a header name', 'X-\nInjected: 1'],
      ['a CR inside a header value', 'X-A: a\rb'],
      ['a NUL inside a header value', 'X-A: a\u0000b'],
    ])('refuses %s with a 400 before the app sees it, and stores nothing', async (_label, header) => {
      const before = await snapshotKeys(admin, api.prefix);
      const answer = await rawRequest(
        `POST /v1/subscribers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${api.adminKey}\r\n${header.replace('KEY', api.adminKey)}`,
      );
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(diffSnapshots(before, await snapshotKeys(admin, api.prefix))).toEqual([]);
      expect((await api.call('GET', '/healthz', { key: null })).status).toBe(200);
    });

    it('accepts the same raw request with clean headers (the refusals above are about the headers)', async () => {
      const answer = await rawRequest(
        `POST /v1/subscribers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${api.adminKey}\r\nX-Fine: 1`,
      );
      expect(answer).toMatch(/^HTTP\/1\.1 201 /);
    });
  });
});
