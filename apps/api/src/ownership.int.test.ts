import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { everythingStoredUnder } from '@hookrelay/testing';
import { useApiHarness } from './api-harness';
import { createSource, newSubscriber } from './sources/source-test-kit';

/**
 * Every route that takes an id from the client, called with ids it must not act on: another
 * subscriber's, ids with a key separator that address another key of the same resource
 * (`ep_...:dl-log` is an endpoint's history stream, `sub_...:eps` a subscriber's endpoint set),
 * and ids of another type. Each must answer 404 not_found and change nothing.
 */

interface Tenant {
  sid: string;
  key: string;
  endpoint: string;
  event: string;
  delivery: string;
  source: string;
  token: string;
}

const openapi = JSON.parse(readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, unknown>>;
};

/** What each documented route with path parameters needs besides its ids: a body that would pass validation. */
const BODIES: Record<string, unknown> = {
  'PATCH /v1/subscribers/{sid}': { name: 'renamed' },
  'POST /v1/subscribers/{sid}/endpoints': { url: 'http://127.0.0.1:9/new' },
  'PATCH /v1/subscribers/{sid}/endpoints/{eid}': { description: 'hijacked', status: 'disabled' },
  'POST /v1/subscribers/{sid}/endpoints/{eid}/secret/rotate': {},
  'POST /v1/subscribers/{sid}/endpoints/{eid}/recover': { since: 0 },
  'POST /v1/subscribers/{sid}/endpoints/{eid}/test': {},
  'POST /v1/subscribers/{sid}/events': { type: 'custom.x', payload: {} },
  'POST /v1/subscribers/{sid}/events/batch': { events: [{ type: 'custom.x', payload: {} }] },
  'POST /v1/subscribers/{sid}/events/{eid}/replay': {},
  'POST /v1/subscribers/{sid}/sources': {
    name: 'new',
    eventType: 'source.x',
    verification: { type: 'header', headers: { 'X-T': 'secret-123' } },
  },
  'PATCH /v1/subscribers/{sid}/sources/{id}': { name: 'hijacked' },
  'POST /in/{token}': {},
};

/** Admin-only routes: a subscriber key is refused (403) before any id is read, so only the admin's attacks apply. */
/**
 * Routes a subscriber key may not call at all (403 whatever the id: nothing to learn): the admin's,
 * and the platform's (portal sessions: admin or publisher key).
 */
const ADMIN_ONLY = new Set([
  'PATCH /v1/subscribers/{sid}',
  'POST /v1/subscribers/{sid}/api-keys',
  'POST /v1/subscribers/{sid}/portal-sessions',
  'DELETE /v1/subscribers/{sid}/portal-sessions/{id}',
]);

function documentedRoutesWithIds(): string[] {
  return Object.entries(openapi.paths).flatMap(([path, item]) =>
    path.includes('{') ? ['get', 'post', 'patch', 'delete'].filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`) : [],
  );
}

describe('ownership checks on every route that takes an id', () => {
  const h = useApiHarness({ worker: false });
  let a: Tenant;
  let b: Tenant;
  let deletedEndpoint: string;
  let before: string[];

  async function tenant(name: string): Promise<Tenant> {
    const { sid, key } = await newSubscriber(h, name);
    const endpoint = (await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: `http://127.0.0.1:9/${name}` } })).body
      .id as string;
    const published = (await h.call('POST', `/v1/subscribers/${sid}/events`, { body: { type: 'custom.order.paid', payload: { name } } }))
      .body;
    const source = await createSource(h, sid, {
      eventType: 'source.x',
      verification: { type: 'header', headers: { 'X-T': `secret-${name}` } },
    });
    return {
      sid,
      key,
      endpoint,
      event: published.id,
      delivery: published.deliveries[0].id,
      source: source.id,
      token: source.ingestUrl.slice('/in/'.length),
    };
  }

  beforeAll(async () => {
    a = await tenant('a');
    b = await tenant('b');
    const gone = await h.call('POST', `/v1/subscribers/${a.sid}/endpoints`, { body: { url: 'http://127.0.0.1:9/gone' } });
    deletedEndpoint = gone.body.id;
    await h.call('DELETE', `/v1/subscribers/${a.sid}/endpoints/${deletedEndpoint}`);
    before = (await everythingStoredUnder(h.redis, h.prefix)).sort();
  });

  /** [route, the concrete path, which key calls it, what the attack is]. */
  function attacks(): Array<[string, string, 'admin' | 'a', string]> {
    const rows: Array<[string, string, 'admin' | 'a', string]> = [];
    const fill = (route: string, ids: Partial<Record<'sid' | 'eid' | 'did' | 'id' | 'token' | 'kid' | 'type', string>>) => {
      const [, path] = route.split(' ') as [string, string];
      return path.replace(/\{(\w+)\}/g, (_m, name: string) => {
        if (name === 'eid') return path.includes('/events/{eid}') ? (ids.eid ?? a.event) : (ids.eid ?? a.endpoint);
        const own = { sid: a.sid, did: a.delivery, id: a.source, token: a.token, kid: 'key_0000000000000000000000000' }[name];
        return encodeURIComponent((ids as Record<string, string>)[name] ?? own ?? '');
      });
    };
    for (const route of documentedRoutesWithIds()) {
      if (route === 'POST /in/{token}' || route === 'GET /in/{token}') {
        for (const token of [`${a.token}:x`, a.source, 'no-such-token'])
          rows.push([route, fill(route, { token }), 'a', `token ${token.slice(0, 12)}...`]);
        continue;
      }
      if (route.includes('/event-types/{type}')) {
        // The shared catalog, no subscriber's resource: a name that is no type (an id of something
        // else, a key suffix) is a 404 to the admin, whatever the method.
        for (const type of [a.sid, `${a.endpoint}:health`, 'no.such.type', 'custom.x:y', 'evtypes'])
          rows.push([route, fill(route, { type }), 'admin', `type ${type.replace(a.sid, '<A>')}`]);
        continue;
      }
      if (route === 'DELETE /v1/api-keys/{kid}') {
        for (const kid of [a.sid, 'key_x:y', '*']) rows.push([route, fill(route, { kid }), 'admin', `kid ${kid}`]);
        continue;
      }
      // The subscriber: another's with A's key; with the admin key, ids that address other keys under sub:<id>.
      if (!ADMIN_ONLY.has(route)) rows.push([route, fill(route, { sid: b.sid }), 'a', "B's subscriber id with A's key"]);
      for (const sid of [`${a.sid}:eps`, `${a.sid}:dl-log`, `${a.sid}:src`, `${a.sid}:eps-version`, a.endpoint, `sub_${'0'.repeat(26)}`]) {
        rows.push([route, fill(route, { sid }), 'admin', `subscriber id ${sid.replace(a.sid, '<A>')}`]);
      }
      // The resource: B's, A's own with a suffix that names another key of it, and an id of another type.
      if (route.includes('/endpoints/{eid}')) {
        for (const eid of [
          b.endpoint,
          `${a.endpoint}:dl-log`,
          `${a.endpoint}:health`,
          `${a.endpoint}:outcomes`,
          `${a.endpoint}:disabling`,
          a.event,
          a.source,
          deletedEndpoint,
        ]) {
          rows.push([route, fill(route, { eid }), 'a', `endpoint id ${eid.replace(a.endpoint, '<A>')}`]);
        }
      }
      if (route.includes('/events/{eid}')) {
        for (const eid of [b.event, `${a.event}:x`, a.delivery, a.endpoint])
          rows.push([route, fill(route, { eid }), 'a', `event id ${eid.replace(a.event, '<A>')}`]);
      }
      if (route.includes('/deliveries/{did}')) {
        for (const did of [b.delivery, `${a.delivery}:at`, 'meta', 'id', a.event, a.endpoint])
          rows.push([route, fill(route, { did }), 'a', `delivery id ${did.replace(a.delivery, '<A>')}`]);
      }
      if (route.includes('/sources/{id}')) {
        for (const id of [b.source, `${a.source}:req`, `${a.source}:verified`, a.endpoint])
          rows.push([route, fill(route, { id }), 'a', `source id ${id.replace(a.source, '<A>')}`]);
      }
    }
    return rows;
  }

  it('covers every documented route with a path parameter', () => {
    const covered = new Set(attacks().map(([route]) => route));
    expect(documentedRoutesWithIds().filter((r) => !covered.has(r))).toEqual([]);
    expect(documentedRoutesWithIds().length).toBeGreaterThanOrEqual(25);
  });

  it('answers 404 not_found to every attack on every route', async () => {
    const problems: string[] = [];
    for (const [route, path, who, attack] of attacks()) {
      const [method] = route.split(' ') as [string];
      const body = BODIES[route];
      const res = path.startsWith('/in/')
        ? await h.call(method, path, { key: null, body: method === 'GET' ? undefined : body, headers: { 'x-t': 'secret-a' } })
        : await h.call(method, path, { key: who === 'admin' ? h.adminKey : a.key, body });
      if (res.status !== 404 || res.body?.error?.code !== 'not_found')
        problems.push(`${route} with ${attack}: ${res.status} ${JSON.stringify(res.body).slice(0, 120)}`);
    }
    expect(problems).toEqual([]);
  });

  it('changed nothing stored by any of them', async () => {
    expect((await everythingStoredUnder(h.redis, h.prefix)).sort()).toEqual(before);
  });

  describe('GET .../deliveries?endpointId=', () => {
    it("answers 404 for another subscriber's endpoint, and for ids that address other keys", async () => {
      for (const endpointId of [b.endpoint, `${a.endpoint}:x`, a.event, 'ep_0000000000000000000000000']) {
        const res = await h.call('GET', `/v1/subscribers/${a.sid}/deliveries?endpointId=${encodeURIComponent(endpointId)}`, { key: a.key });
        expect([endpointId, res.status, res.body.error?.code]).toEqual([endpointId, 404, 'not_found']);
      }
    });

    it('lists the deliveries of its own endpoints, deleted ones included (their history is kept)', async () => {
      const own = await h.call('GET', `/v1/subscribers/${a.sid}/deliveries?endpointId=${a.endpoint}`, { key: a.key });
      expect(own.status).toBe(200);
      expect(own.body.data.map((d: { id: string }) => d.id)).toEqual([a.delivery]);
      const deleted = await h.call('GET', `/v1/subscribers/${a.sid}/deliveries?endpointId=${deletedEndpoint}`, { key: a.key });
      expect(deleted.body).toEqual({ data: [], nextCursor: null });
    });
  });

  it('answers 404 to publishing for an id that names a key under a subscriber, and stores no event', async () => {
    for (const sid of [`${a.sid}:eps`, `${a.sid}:dl-log`]) {
      expect((await h.call('POST', `/v1/subscribers/${sid}/events`, { body: { type: 'custom.x', payload: {} } })).status).toBe(404);
      expect(
        (await h.call('POST', `/v1/subscribers/${sid}/events/batch`, { body: { events: [{ type: 'custom.x', payload: {} }] } })).status,
      ).toBe(404);
    }
    expect(await h.redis.keys(`${h.prefix}:sub:${a.sid}:eps:*`)).toEqual([]);
    expect((await h.call('GET', `/v1/subscribers/${a.sid}/events`)).body.data).toHaveLength(1);
  });
});
