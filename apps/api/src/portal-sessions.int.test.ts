import { hashApiKey, MAX_PORTAL_SESSIONS_PER_SUBSCRIBER } from '@hookrelay/store';
import { everythingStoredUnder, useTestReceiver } from '@hookrelay/testing';
import { startApiHarness, useApiHarness } from './api-harness';

interface Tenant {
  id: string;
  name: string;
  apiKey: string;
}

interface SessionAnswer {
  id: string;
  url: string;
  token: string;
  readOnly: boolean;
  expiresAt: number;
}

const HOUR = 3_600_000;

describe('portal sessions (magic links)', () => {
  const h = useApiHarness({ now: () => Date.now() + skewMs, platformName: 'Acme Cloud' });
  const receiver = useTestReceiver();
  /** The API's clock runs this far ahead of the wall clock: a test moves it to make sessions expire. */
  let skewMs = 0;
  let acme: Tenant;
  let globex: Tenant;
  let publisherKey: string;
  let acmeEndpoint: string;
  let globexEndpoint: string;
  let globexDelivery: string;

  beforeAll(async () => {
    const tenant = async (name: string) => (await h.call('POST', '/v1/subscribers', { body: { name } })).body as Tenant;
    [acme, globex] = await Promise.all([tenant('Acme Payments'), tenant('Globex Support')]);
    publisherKey = (await h.call('POST', '/v1/api-keys', { body: { role: 'publisher' } })).body.apiKey;
    const endpoint = async (t: Tenant) =>
      (await h.call('POST', `/v1/subscribers/${t.id}/endpoints`, { body: { url: `${receiver.url}/${t.id}` } })).body.id as string;
    [acmeEndpoint, globexEndpoint] = await Promise.all([endpoint(acme), endpoint(globex)]);
    const published = await h.call('POST', `/v1/subscribers/${globex.id}/events`, {
      body: { type: 'custom.order.paid', payload: { orderId: 'o-1' } },
    });
    globexDelivery = published.body.deliveries[0].id;
    await h.call('POST', `/v1/subscribers/${acme.id}/events`, { body: { type: 'custom.order.paid', payload: { orderId: 'o-2' } } });
    await receiver.waitForRequests(2);
  });

  afterEach(() => {
    skewMs = 0;
  });

  async function createSession(sid: string, body: unknown = {}, key: string = h.adminKey): Promise<SessionAnswer> {
    const res = await h.call('POST', `/v1/subscribers/${sid}/portal-sessions`, { key, body });
    expect(res.status).toBe(201);
    return res.body as SessionAnswer;
  }

  describe('creating one', () => {
    it('answers 201 with a link to the portal carrying the token in the fragment, valid for an hour by default', async () => {
      const before = Date.now();
      const res = await h.call('POST', `/v1/subscribers/${acme.id}/portal-sessions`, { body: {} });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^ps_/),
        subscriberId: acme.id,
        url: `${h.baseUrl}/portal#session=${res.body.token}`,
        token: expect.stringMatching(/^hr_ps_[A-Za-z0-9_-]{43}$/),
        readOnly: false,
        expiresAt: expect.any(Number),
      });
      expect(res.body.expiresAt).toBeGreaterThanOrEqual(before + HOUR);
      expect(res.body.expiresAt).toBeLessThanOrEqual(Date.now() + HOUR);
    });

    it('builds the link on HOOKRELAY_PUBLIC_URL when it is set', async () => {
      const behindProxy = await startApiHarness({ worker: false, publicUrl: 'https://hooks.example.com/relay' });
      try {
        const sid = (await behindProxy.call('POST', '/v1/subscribers', { body: { name: 'x' } })).body.id;
        const res = await behindProxy.call('POST', `/v1/subscribers/${sid}/portal-sessions`, { body: { ttlSeconds: 60 } });
        expect(res.body.url).toBe(`https://hooks.example.com/relay/portal#session=${res.body.token}`);
      } finally {
        await behindProxy.close();
      }
    });

    it('is allowed to a publisher key', async () => {
      const session = await createSession(globex.id, { ttlSeconds: 86_400, readOnly: true }, publisherKey);
      expect(session.readOnly).toBe(true);
      expect(session.expiresAt - Date.now()).toBeGreaterThan(86_399_000);
    });

    it.each([
      [{ ttlSeconds: 59 }, 'ttlSeconds'],
      [{ ttlSeconds: 86_401 }, 'ttlSeconds'],
      [{ ttlSeconds: 600.5 }, 'ttlSeconds'],
      [{ ttlSeconds: '3600' }, 'ttlSeconds'],
      [{ readOnly: 'yes' }, 'readOnly'],
      [{ subscriberId: 'sub_other' }, '(body)'],
    ])('refuses %j with 400 naming %s', async (body, path) => {
      const res = await h.call('POST', `/v1/subscribers/${acme.id}/portal-sessions`, { body });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([expect.objectContaining({ path })]);
    });

    it('answers 404 for a subscriber that does not exist', async () => {
      const res = await h.call('POST', '/v1/subscribers/sub_nobody/portal-sessions', { body: {} });
      expect(res.status).toBe(404);
    });

    it('stores only a hash of the token, and logs no token', async () => {
      const session = await createSession(acme.id);
      const stored = await everythingStoredUnder(h.redis, h.prefix);
      expect(stored).not.toContain(session.token);
      expect(await h.redis.exists(`${h.prefix}:psess:${hashApiKey(session.token)}`)).toBe(1);
      expect(await h.redis.pttl(`${h.prefix}:psess:${hashApiKey(session.token)}`)).toBeGreaterThan(HOUR - 60_000);
      await h.call('GET', '/v1/whoami', { key: session.token });
      expect(JSON.stringify(h.logLines)).not.toContain(session.token);
    });

    it(`caps live sessions at ${MAX_PORTAL_SESSIONS_PER_SUBSCRIBER} per subscriber with 429 and Retry-After, counting only live ones`, async () => {
      const sid = (await h.call('POST', '/v1/subscribers', { body: { name: 'busy' } })).body.id;
      const now = Date.now();
      // Fill the index directly (creating 1000 through the API would be slow); one entry expired.
      const index = `${h.prefix}:sub:${sid}:psess`;
      const entries: string[] = [];
      for (let i = 0; i < MAX_PORTAL_SESSIONS_PER_SUBSCRIBER; i++)
        entries.push(`ps_fill${i}`, `hash${i}:${now + (i === 0 ? -1 : HOUR + i * 1000)}`);
      await h.redis.hset(index, ...entries);
      expect((await h.call('POST', `/v1/subscribers/${sid}/portal-sessions`, { body: {} })).status).toBe(201);
      const refused = await h.call('POST', `/v1/subscribers/${sid}/portal-sessions`, { body: {} });
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('too_many_portal_sessions');
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(3590);
      expect(retryAfter).toBeLessThanOrEqual(3602);
      expect(await h.redis.hexists(index, 'ps_fill0')).toBe(0);
    });
    it('holds the cap under concurrent creates: counted and written in one step', async () => {
      const sid = (await h.call('POST', '/v1/subscribers', { body: { name: 'racing' } })).body.id;
      const now = Date.now();
      const index = `${h.prefix}:sub:${sid}:psess`;
      const entries: string[] = [];
      for (let i = 0; i < MAX_PORTAL_SESSIONS_PER_SUBSCRIBER - 10; i++) entries.push(`ps_fill${i}`, `hash${i}:${now + HOUR}`);
      await h.redis.hset(index, ...entries);
      // Before, every one of these read 990 before any wrote, and all 50 were created.
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => h.call('POST', `/v1/subscribers/${sid}/portal-sessions`, { body: {} })),
      );
      expect(answers.filter((a) => a.status === 201)).toHaveLength(10);
      expect(answers.filter((a) => a.status === 429)).toHaveLength(40);
      expect(await h.redis.hlen(index)).toBe(MAX_PORTAL_SESSIONS_PER_SUBSCRIBER);
    });
  });

  describe('using one', () => {
    it("reads its subscriber's endpoints, deliveries and events like the subscriber's key", async () => {
      const { token } = await createSession(acme.id);
      const endpoints = await h.call('GET', `/v1/subscribers/${acme.id}/endpoints`, { key: token });
      expect(endpoints.status).toBe(200);
      expect(endpoints.body.data.map((e: { id: string }) => e.id)).toEqual([acmeEndpoint]);
      const deliveries = await h.call('GET', `/v1/subscribers/${acme.id}/deliveries`, { key: token });
      expect(deliveries.status).toBe(200);
      expect(deliveries.body.data).toHaveLength(1);
      expect(deliveries.body.data[0].endpointId).toBe(acmeEndpoint);
      const events = await h.call('GET', `/v1/subscribers/${acme.id}/events`, { key: token });
      expect(events.body.data.map((e: { type: string }) => e.type)).toEqual(['custom.order.paid']);
    });

    it('says who it is: the subscriber by id and name, and when the session ends', async () => {
      const session = await createSession(acme.id, { readOnly: true });
      const res = await h.call('GET', '/v1/whoami', { key: session.token });
      expect(res.body).toEqual({
        role: 'session',
        subscriberId: acme.id,
        subscriberName: 'Acme Payments',
        session: { id: session.id, readOnly: true, expiresAt: session.expiresAt },
        platformName: 'Acme Cloud',
      });
    });

    it("answers 404 for another subscriber's resources, as a subscriber key does", async () => {
      const { token } = await createSession(acme.id);
      const paths = [
        `/v1/subscribers/${globex.id}/endpoints`,
        `/v1/subscribers/${globex.id}/endpoints/${globexEndpoint}`,
        `/v1/subscribers/${globex.id}/deliveries/${globexDelivery}`,
        `/v1/subscribers/${acme.id}/endpoints/${globexEndpoint}`,
        `/v1/subscribers/${acme.id}/deliveries/${globexDelivery}`,
      ];
      for (const path of paths) {
        const res = await h.call('GET', path, { key: token });
        expect({ path, status: res.status }).toEqual({ path, status: 404 });
      }
      const write = await h.call('PATCH', `/v1/subscribers/${acme.id}/endpoints/${globexEndpoint}`, {
        key: token,
        body: { description: 'mine now' },
      });
      expect(write.status).toBe(404);
    });

    it('may change things when it is not read-only', async () => {
      const { token } = await createSession(acme.id);
      const res = await h.call('PATCH', `/v1/subscribers/${acme.id}/endpoints/${acmeEndpoint}`, {
        key: token,
        body: { description: 'set from the portal' },
      });
      expect(res.status).toBe(200);
      expect(res.body.description).toBe('set from the portal');
    });

    it('gets 403 for every write when read-only, and for revealing a secret, but reads', async () => {
      const { token } = await createSession(acme.id, { readOnly: true });
      const base = `/v1/subscribers/${acme.id}`;
      const writes: Array<[string, string, unknown]> = [
        ['POST', `${base}/endpoints`, { url: `${receiver.url}/new` }],
        ['PATCH', `${base}/endpoints/${acmeEndpoint}`, { description: 'no' }],
        ['DELETE', `${base}/endpoints/${acmeEndpoint}`, undefined],
        ['POST', `${base}/endpoints/${acmeEndpoint}/secret/rotate`, {}],
        ['POST', `${base}/endpoints/${acmeEndpoint}/test`, {}],
        ['POST', `${base}/endpoints/${acmeEndpoint}/recover`, { since: 0 }],
        ['POST', `${base}/events`, { type: 'custom.x', payload: {} }],
        ['POST', `${base}/sources`, { name: 's', eventType: 'source.s', verification: { type: 'header', headers: { 'x-a': 'b' } } }],
        ['GET', `${base}/endpoints/${acmeEndpoint}/secret`, undefined],
        // express routes ignore case and a trailing slash: each spelling reaches the same route.
        ['GET', `${base}/endpoints/${acmeEndpoint}/SECRET`, undefined],
        ['GET', `${base}/endpoints/${acmeEndpoint}/Secret/`, undefined],
        ['GET', `/v1/SUBSCRIBERS/${acme.id}/ENDPOINTS/${acmeEndpoint}/secret`, undefined],
      ];
      for (const [method, path, body] of writes) {
        const res = await h.call(method, path, { key: token, body });
        expect({ method, path, status: res.status, code: res.body?.error?.code }).toEqual({
          method,
          path,
          status: 403,
          code: 'read_only_session',
        });
      }
      expect((await h.call('GET', `${base}/endpoints/${acmeEndpoint}`, { key: token })).status).toBe(200);
      expect((await h.call('GET', `${base}/endpoints`, { key: token })).body.data).toHaveLength(1);
      // A session that may write may also see the secret, by any spelling.
      const writer = await createSession(acme.id);
      const shown = await h.call('GET', `${base}/endpoints/${acmeEndpoint}/SECRET`, { key: writer.token });
      expect(shown.status).toBe(200);
      expect(typeof shown.body.secret).toBe('string');
    });

    it("is not shown a source's ingest URL when read-only (it is a credential), and a writer is", async () => {
      const base = `/v1/subscribers/${acme.id}/sources`;
      const created = await h.call('POST', base, {
        body: { name: 'alerts', eventType: 'source.alerts', verification: { type: 'header', headers: { 'x-token': 'sender-secret' } } },
      });
      expect(created.status).toBe(201);
      const url = String(created.body.ingestUrl);
      expect(url).toMatch(/^\/in\/.{20,}/);
      const reader = await createSession(acme.id, { readOnly: true });
      const writer = await createSession(acme.id);

      const one = await h.call('GET', `${base}/${created.body.id}`, { key: reader.token });
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ id: created.body.id, name: 'alerts', ingestUrl: null, ingestUrlHidden: true });
      const listed = await h.call('GET', base, { key: reader.token });
      expect(listed.body.data).toEqual([expect.objectContaining({ id: created.body.id, ingestUrl: null, ingestUrlHidden: true })]);
      expect(JSON.stringify([one.body, listed.body])).not.toContain(url.slice('/in/'.length));

      const shown = await h.call('GET', `${base}/${created.body.id}`, { key: writer.token });
      expect(shown.body.ingestUrl).toBe(url);
      expect(shown.body).not.toHaveProperty('ingestUrlHidden');
      expect((await h.call('GET', base, { key: writer.token })).body.data[0].ingestUrl).toBe(url);
      expect((await h.call('DELETE', `${base}/${created.body.id}`)).status).toBe(204);
    });

    it('gets 403 on admin routes, key routes and creating sessions', async () => {
      const { token } = await createSession(acme.id);
      const forbidden: Array<[string, string, unknown]> = [
        ['GET', '/v1/subscribers', undefined],
        ['POST', '/v1/subscribers', { name: 'mine' }],
        ['GET', '/v1/api-keys', undefined],
        ['POST', '/v1/api-keys', { role: 'publisher' }],
        ['DELETE', '/v1/api-keys/key_anything', undefined],
        ['POST', `/v1/subscribers/${acme.id}/api-keys`, {}],
        ['POST', `/v1/subscribers/${acme.id}/portal-sessions`, {}],
        ['POST', `/v1/subscribers/${globex.id}/portal-sessions`, {}],
      ];
      for (const [method, path, body] of forbidden) {
        const res = await h.call(method, path, { key: token, body });
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 403 });
      }
    });

    it("cannot be created with a subscriber's own key", async () => {
      const res = await h.call('POST', `/v1/subscribers/${acme.id}/portal-sessions`, { key: acme.apiKey, body: {} });
      expect(res.status).toBe(403);
    });
  });

  describe('ending one', () => {
    it('answers 401 once it has expired', async () => {
      const { token } = await createSession(acme.id, { ttlSeconds: 60 });
      expect((await h.call('GET', `/v1/subscribers/${acme.id}/endpoints`, { key: token })).status).toBe(200);
      skewMs = 59_000;
      expect((await h.call('GET', `/v1/subscribers/${acme.id}/endpoints`, { key: token })).status).toBe(200);
      skewMs = 60_000;
      const res = await h.call('GET', `/v1/subscribers/${acme.id}/endpoints`, { key: token });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    });

    it('answers 401 at once after DELETE revokes it, and 404 for revoking it again', async () => {
      const session = await createSession(acme.id);
      const other = await createSession(acme.id);
      const revoke = await h.call('DELETE', `/v1/subscribers/${acme.id}/portal-sessions/${session.id}`, { key: publisherKey });
      expect(revoke.status).toBe(204);
      expect((await h.call('GET', `/v1/subscribers/${acme.id}/endpoints`, { key: session.token })).status).toBe(401);
      expect((await h.call('GET', `/v1/subscribers/${acme.id}/endpoints`, { key: other.token })).status).toBe(200);
      expect((await h.call('DELETE', `/v1/subscribers/${acme.id}/portal-sessions/${session.id}`)).status).toBe(404);
    });

    it('can be revoked by the session itself (signing out), not by another session or another subscriber', async () => {
      const mine = await createSession(acme.id);
      const theirs = await createSession(globex.id);
      const sibling = await createSession(acme.id);
      expect((await h.call('DELETE', `/v1/subscribers/${acme.id}/portal-sessions/${sibling.id}`, { key: mine.token })).status).toBe(403);
      expect((await h.call('DELETE', `/v1/subscribers/${globex.id}/portal-sessions/${theirs.id}`, { key: mine.token })).status).toBe(403);
      expect((await h.call('DELETE', `/v1/subscribers/${acme.id}/portal-sessions/${theirs.id}`)).status).toBe(404);
      expect((await h.call('DELETE', `/v1/subscribers/${acme.id}/portal-sessions/${mine.id}`, { key: mine.token })).status).toBe(204);
      expect((await h.call('GET', '/v1/whoami', { key: mine.token })).status).toBe(401);
      expect((await h.call('GET', '/v1/whoami', { key: theirs.token })).status).toBe(200);
      const readOnly = await createSession(acme.id, { readOnly: true });
      expect((await h.call('DELETE', `/v1/subscribers/${acme.id}/portal-sessions/${readOnly.id}`, { key: readOnly.token })).status).toBe(
        204,
      );
      expect((await h.call('GET', '/v1/whoami', { key: readOnly.token })).status).toBe(401);
    });

    it("keeps working when the subscriber's key is revoked or reissued", async () => {
      const session = await createSession(acme.id);
      const keys = (await h.call('GET', '/v1/api-keys')).body.data as Array<{ id: string; subscriberId?: string }>;
      const reissued = await h.call('POST', `/v1/subscribers/${acme.id}/api-keys`, { body: {} });
      expect(reissued.status).toBe(201);
      for (const key of keys.filter((k) => k.subscriberId === acme.id))
        expect((await h.call('DELETE', `/v1/api-keys/${key.id}`)).status).toBe(204);
      expect((await h.call('GET', `/v1/subscribers/${acme.id}/endpoints`, { key: acme.apiKey })).status).toBe(401);
      expect((await h.call('GET', `/v1/subscribers/${acme.id}/endpoints`, { key: session.token })).status).toBe(200);
    });

    it('ends with its subscriber: revoked all at once, and unusable once the subscriber record is gone', async () => {
      const sid = (await h.call('POST', '/v1/subscribers', { body: { name: 'leaving' } })).body.id;
      const sessions = await Promise.all([createSession(sid), createSession(sid), createSession(sid)]);
      expect(await h.store.portalSessions.revokeAll(sid, Date.now())).toBe(3);
      for (const s of sessions) expect((await h.call('GET', '/v1/whoami', { key: s.token })).status).toBe(401);
      expect(await h.redis.exists(`${h.prefix}:sub:${sid}:psess`)).toBe(0);
      const later = await createSession(sid);
      expect((await h.call('GET', '/v1/whoami', { key: later.token })).status).toBe(200);
      await h.redis.del(`${h.prefix}:sub:${sid}`);
      expect((await h.call('GET', '/v1/whoami', { key: later.token })).status).toBe(401);
    });

    it('answers 401 for a token that was never issued, or one altered by a character', async () => {
      const { token } = await createSession(acme.id);
      for (const bad of ['hr_ps_not-a-real-token', `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`]) {
        expect((await h.call('GET', '/v1/whoami', { key: bad })).status).toBe(401);
      }
    });
  });
});
