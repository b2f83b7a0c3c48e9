import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRedis } from '@hookrelay/queue';
import { hashApiKey } from '@hookrelay/store';
import { everythingStoredUnder, startRedisServer, TestReceiver, type RedisServerHandle } from '@hookrelay/testing';
import type Redis from 'ioredis';
import { diffSnapshots, snapshotKeys } from './support/redis-admin';
import { startReliabilityApi, type ReliabilityApi } from './support/reliability-api';

interface Operation {
  method: string;
  /** OpenAPI template, e.g. /v1/subscribers/{sid}/endpoints/{eid} */
  template: string;
}

/** Every authenticated operation, from the published OpenAPI document: a new route is covered without editing this file. */
function documentedOperations(): Operation[] {
  const doc = JSON.parse(readFileSync(join(__dirname, '..', '..', 'apps', 'api', 'openapi.json'), 'utf8')) as {
    paths: Record<string, Record<string, unknown>>;
  };
  return Object.entries(doc.paths)
    .filter(([path]) => path.startsWith('/v1/'))
    .flatMap(([template, item]) =>
      ['get', 'post', 'put', 'patch', 'delete'].filter((m) => item[m]).map((m) => ({ method: m.toUpperCase(), template })),
    );
}

const ADMIN_ONLY = new Set([
  'POST /v1/subscribers',
  'GET /v1/subscribers',
  'POST /v1/api-keys',
  'GET /v1/api-keys',
  'DELETE /v1/api-keys/{kid}',
  'POST /v1/subscribers/{sid}/api-keys',
  'PATCH /v1/subscribers/{sid}',
  'POST /v1/event-types',
  'PATCH /v1/event-types/{type}',
  'DELETE /v1/event-types/{type}',
]);
/** Routes for the platform: the admin key or a publisher key (portal sessions); 403 to subscriber keys and sessions. */
const PLATFORM = new Set(['POST /v1/subscribers/{sid}/portal-sessions', 'DELETE /v1/subscribers/{sid}/portal-sessions/{id}']);
/** Operations any valid key may call, about nothing secret. */
const ANY_KEY = new Set(['GET /v1/event-types', 'GET /v1/event-types/{type}', 'GET /v1/whoami']);
const PUBLISH = new Set(['POST /v1/subscribers/{sid}/events', 'POST /v1/subscribers/{sid}/events/batch']);
const name = (op: Operation) => `${op.method} ${op.template}`;

interface Tenant {
  sid: string;
  key: string;
  endpointId: string;
  eventId: string;
  deliveryId: string;
  sourceId: string;
}

describe('auth on every route', () => {
  let redis: RedisServerHandle;
  let admin: Redis;
  let api: ReliabilityApi;
  let receiver: TestReceiver;
  let alice: Tenant;
  let bob: Tenant;
  let publisherKey: string;
  let revokedKey: string;
  const operations = documentedOperations();

  async function tenant(label: string): Promise<Tenant> {
    const sub = await api.call('POST', '/v1/subscribers', { body: { name: label } });
    const key = sub.body.apiKey as string;
    const sid = sub.body.id as string;
    const ep = await api.call('POST', `/v1/subscribers/${sid}/endpoints`, { key, body: { url: `${receiver.url}/${label}` } });
    const ev = await api.call('POST', `/v1/subscribers/${sid}/events`, { key, body: { type: 'custom.auth', payload: { label } } });
    const src = await api.call('POST', `/v1/subscribers/${sid}/sources`, {
      key,
      body: { name: label, eventType: 'custom.in', verification: { type: 'header', headers: { 'x-token': `tok-${label}` } } },
    });
    expect([sub.status, ep.status, ev.status, src.status]).toEqual([201, 201, 202, 201]);
    return { sid, key, endpointId: ep.body.id, eventId: ev.body.id, deliveryId: ev.body.deliveries[0].id, sourceId: src.body.id };
  }

  /** The concrete path of `op` naming `owner`'s subscriber id and `target`'s resources. */
  function pathOf(op: Operation, owner: Tenant, target: Tenant = owner): string {
    return op.template
      .replace('{sid}', owner.sid)
      .replace(/\/endpoints\/\{eid\}/, `/endpoints/${target.endpointId}`)
      .replace(/\/events\/\{eid\}/, `/events/${target.eventId}`)
      .replace('{did}', target.deliveryId)
      .replace('{id}', target.sourceId)
      .replace('{kid}', 'key_of_nobody')
      .replace('{type}', 'incident.triggered');
  }

  /** A body that would be accepted, so that a refusal can only be about who is asking. */
  function validBody(op: Operation): unknown {
    if (op.method === 'GET' || op.method === 'DELETE') return undefined;
    const bodies: Record<string, unknown> = {
      'POST /v1/subscribers': { name: 'intruder' },
      'POST /v1/api-keys': { role: 'publisher' },
      'POST /v1/subscribers/{sid}/endpoints': { url: `${receiver.url}/intruder` },
      'PATCH /v1/subscribers/{sid}/endpoints/{eid}': { url: `${receiver.url}/stolen` },
      'POST /v1/subscribers/{sid}/endpoints/{eid}/recover': { since: 0 },
      'POST /v1/subscribers/{sid}/events': { type: 'custom.auth', payload: { forged: true } },
      'POST /v1/subscribers/{sid}/events/batch': { events: [{ type: 'custom.auth', payload: { forged: true } }] },
      'POST /v1/subscribers/{sid}/sources': {
        name: 'x',
        eventType: 'custom.in',
        verification: { type: 'header', headers: { 'x-token': 'y' } },
      },
      'PATCH /v1/subscribers/{sid}/sources/{id}': { name: 'stolen' },
      'POST /v1/event-types': { type: 'auth.intruder', schema: { type: 'object' } },
      'PATCH /v1/event-types/{type}': { description: 'stolen' },
    };
    return bodies[name(op)] ?? {};
  }

  beforeAll(async () => {
    redis = await startRedisServer();
    admin = createRedis(redis.url, 'store');
    receiver = await TestReceiver.start({ status: 200 });
    api = await startReliabilityApi({ redisUrl: redis.url });
    alice = await tenant('alice');
    bob = await tenant('bob');
    publisherKey = (await api.call('POST', '/v1/api-keys', { body: { role: 'publisher' } })).body.apiKey;
    // Revoked through the API, as an operator does it.
    const revoked = await tenant('revoked');
    revokedKey = revoked.key;
    const { keyId } = (await api.call('GET', '/v1/whoami', { key: revokedKey })).body as { keyId: string };
    expect((await api.call('DELETE', `/v1/api-keys/${keyId}`)).status).toBe(204);
  });

  afterAll(async () => {
    await api.close();
    await receiver.close();
    admin.disconnect();
    await redis.stop();
  });

  it('covers the documented routes', () => {
    expect(operations.length).toBeGreaterThanOrEqual(20);
  });

  it.each([
    ['no Authorization header', () => ({ key: null })],
    ['a wrong key', () => ({ key: `hr_sub_${'A'.repeat(43)}` })],
    ['the admin key with one character changed', (a: ReliabilityApi) => ({ key: `${a.adminKey.slice(0, -1)}X` })],
    ['a Basic credential', () => ({ key: null, headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } })],
    ['Bearer and nothing else', () => ({ key: null, headers: { authorization: 'Bearer' } })],
    ['a revoked subscriber key', () => ({ key: revokedKey })],
    ["a key's SHA-256 (what Redis stores) instead of the key", () => ({ key: hashApiKey(alice.key) })],
  ] as Array<[string, (a: ReliabilityApi) => { key: string | null; headers?: Record<string, string> }]>)(
    'answers 401 on every route to %s, and changes nothing',
    async (_label, credential) => {
      const before = await snapshotKeys(admin, api.prefix);
      const seen: string[] = [];
      for (const op of operations) {
        const res = await api.call(op.method, pathOf(op, bob), { ...credential(api), body: validBody(op) });
        seen.push(`${name(op)} -> ${res.status} ${res.body?.error?.code}`);
      }
      expect(seen).toEqual(operations.map((op) => `${name(op)} -> 401 unauthorized`));
      expect(diffSnapshots(before, await snapshotKeys(admin, api.prefix))).toEqual([]);
    },
  );

  it("answers 404 to another subscriber's key on every route of that subscriber, 403 on admin routes, and changes nothing", async () => {
    const before = await snapshotKeys(admin, api.prefix);
    const seen = [];
    for (const op of operations) {
      const res = await api.call(op.method, pathOf(op, bob), { key: alice.key, body: validBody(op) });
      seen.push(`${name(op)} -> ${res.status}`);
    }
    expect(seen).toEqual(
      operations.map(
        (op) => `${name(op)} -> ${ANY_KEY.has(name(op)) ? 200 : ADMIN_ONLY.has(name(op)) || PLATFORM.has(name(op)) ? 403 : 404}`,
      ),
    );
    expect(diffSnapshots(before, await snapshotKeys(admin, api.prefix))).toEqual([]);
  });

  it("answers another subscriber's portal session like that subscriber's key on every route, and changes nothing", async () => {
    const session = (await api.call('POST', `/v1/subscribers/${alice.sid}/portal-sessions`, { body: {} })).body as { token: string };
    const before = await snapshotKeys(admin, api.prefix);
    const seen = [];
    for (const op of operations) {
      const res = await api.call(op.method, pathOf(op, bob), { key: session.token, body: validBody(op) });
      seen.push(`${name(op)} -> ${res.status}`);
    }
    expect(seen).toEqual(
      operations.map(
        (op) => `${name(op)} -> ${ANY_KEY.has(name(op)) ? 200 : ADMIN_ONLY.has(name(op)) || PLATFORM.has(name(op)) ? 403 : 404}`,
      ),
    );
    expect(diffSnapshots(before, await snapshotKeys(admin, api.prefix))).toEqual([]);
  });

  it('answers a read-only portal session 403 on every write to its own subscriber, and changes nothing', async () => {
    const session = (await api.call('POST', `/v1/subscribers/${alice.sid}/portal-sessions`, { body: { readOnly: true } })).body as {
      token: string;
    };
    const writes = operations.filter((op) => op.method !== 'GET');
    const before = await snapshotKeys(admin, api.prefix);
    const seen = [];
    for (const op of writes) {
      const res = await api.call(op.method, pathOf(op, alice), { key: session.token, body: validBody(op) });
      seen.push(`${name(op)} -> ${res.status}`);
    }
    expect(seen).toEqual(writes.map((op) => `${name(op)} -> 403`));
    expect(diffSnapshots(before, await snapshotKeys(admin, api.prefix))).toEqual([]);
  });

  it("answers 404 when a subscriber names its own id but another subscriber's endpoint, event, delivery or source", async () => {
    const withResource = operations.filter((op) => /\{(eid|did|id)\}/.test(op.template) && !PLATFORM.has(name(op)));
    expect(withResource.length).toBeGreaterThanOrEqual(12);
    const before = await snapshotKeys(admin, api.prefix);
    const seen = [];
    for (const op of withResource) {
      const res = await api.call(op.method, pathOf(op, alice, bob), { key: alice.key, body: validBody(op) });
      seen.push(`${name(op)} -> ${res.status} ${res.body?.error?.code}`);
    }
    expect(seen).toEqual(withResource.map((op) => `${name(op)} -> 404 not_found`));
    expect(diffSnapshots(before, await snapshotKeys(admin, api.prefix))).toEqual([]);
  });

  it('lets a publisher key publish and hand out portal sessions for any subscriber, and nothing else (403)', async () => {
    const seen = [];
    const others = operations.filter((op) => !PUBLISH.has(name(op)) && !PLATFORM.has(name(op)));
    for (const op of others) {
      const res = await api.call(op.method, pathOf(op, bob), { key: publisherKey, body: validBody(op) });
      seen.push(`${name(op)} -> ${res.status}`);
    }
    expect(seen).toEqual(others.map((op) => `${name(op)} -> ${ANY_KEY.has(name(op)) ? 200 : 403}`));
    for (const op of operations.filter((o) => PUBLISH.has(name(o)))) {
      expect((await api.call(op.method, pathOf(op, bob), { key: publisherKey, body: validBody(op) })).status).toBe(202);
    }
    const session = await api.call('POST', `/v1/subscribers/${bob.sid}/portal-sessions`, { key: publisherKey, body: {} });
    expect(session.status).toBe(201);
    expect((await api.call('DELETE', `/v1/subscribers/${bob.sid}/portal-sessions/${session.body.id}`, { key: publisherKey })).status).toBe(
      204,
    );
  });

  it('lets a subscriber read its own resources (the same paths are not simply always refused)', async () => {
    for (const op of operations.filter((o) => o.method === 'GET' && !ADMIN_ONLY.has(name(o)) && !PLATFORM.has(name(o)))) {
      const res = await api.call('GET', pathOf(op, alice), { key: alice.key });
      expect([name(op), res.status]).toEqual([name(op), 200]);
    }
  });

  it('stores keys only as SHA-256 hashes: no key appears anywhere in Redis', async () => {
    const everything = await everythingStoredUnder(admin, api.prefix);
    const haystack = everything.join('\n');
    for (const plain of [api.adminKey, alice.key, bob.key, publisherKey, revokedKey]) {
      expect(haystack).not.toContain(plain);
      expect(haystack).not.toContain(plain.slice(7, 27)); // not even a fragment
    }
    for (const plain of [alice.key, bob.key, publisherKey]) {
      expect(await admin.exists(api.store.keys.apiKey(createHash('sha256').update(plain).digest('hex')))).toBe(1);
    }
  });
});
