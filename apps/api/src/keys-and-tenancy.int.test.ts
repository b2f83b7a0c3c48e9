import { hashApiKey } from '@hookrelay/store';
import { everythingStoredUnder, useTestReceiver, waitForDrain } from '@hookrelay/testing';
import { type ApiHarness, useApiHarness } from './api-harness';

interface CreatedSubscriber {
  id: string;
  name: string;
  apiKey: string;
}

const CUSTOM_EVENT = { type: 'custom.order.paid', payload: { orderId: 'ord_1' } };

describe('API keys and tenancy', () => {
  const receiver = useTestReceiver(undefined, 'each');
  const h = useApiHarness({}, 'each');

  async function createSubscriber(name: string): Promise<CreatedSubscriber> {
    const res = await h.call('POST', '/v1/subscribers', { body: { name } });
    expect(res.status).toBe(201);
    return res.body as CreatedSubscriber;
  }

  async function createEndpoint(sid: string, key?: string): Promise<{ id: string; secret: string }> {
    const res = await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { key, body: { url: `${receiver.url}/${sid}` } });
    expect(res.status).toBe(201);
    return res.body as { id: string; secret: string };
  }

  describe('without a valid key', () => {
    it.each<[string, (h: ApiHarness) => { key: string | null; headers?: Record<string, string> }]>([
      ['no Authorization header', () => ({ key: null })],
      ['a Basic credential', () => ({ key: null, headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } })],
      ['Bearer with no key', () => ({ key: null, headers: { authorization: 'Bearer ' } })],
      ['Bearer with two words', () => ({ key: null, headers: { authorization: 'Bearer one two' } })],
      ['an unknown key', () => ({ key: 'hr_sub_not-a-real-key' })],
      ['the admin key with its last character changed', (h) => ({ key: `${h.adminKey.slice(0, -1)}#` })],
    ])('answers 401 for %s', async (_label, opts) => {
      const res = await h.call('GET', '/v1/subscribers', opts(h));
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('Bearer') } });
    });
  });

  it('lets the admin create a subscriber and answers 201 with its id, name and a one-time key', async () => {
    const res = await h.call('POST', '/v1/subscribers', { body: { name: 'Acme Paging' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^sub_/),
      name: 'Acme Paging',
      apiKey: expect.stringMatching(/^hr_sub_.{40,}/),
    });
    const list = await h.call('GET', '/v1/subscribers');
    expect(list.body.data).toEqual([expect.objectContaining({ id: res.body.id, name: 'Acme Paging' })]);
    expect(JSON.stringify(list.body)).not.toContain(res.body.apiKey);
  });

  it('refuses a subscriber without a name with 400 naming the field', async () => {
    const res = await h.call('POST', '/v1/subscribers', { body: { name: '  ' } });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'name' })]);
  });

  it('lets a subscriber key manage its own endpoints and publish its own events', async () => {
    const a = await createSubscriber('A');
    const endpoint = await createEndpoint(a.id, a.apiKey);
    const list = await h.call('GET', `/v1/subscribers/${a.id}/endpoints`, { key: a.apiKey });
    expect(list.status).toBe(200);
    expect(list.body.data.map((e: { id: string }) => e.id)).toEqual([endpoint.id]);
    const secret = await h.call('GET', `/v1/subscribers/${a.id}/endpoints/${endpoint.id}/secret`, { key: a.apiKey });
    expect(secret.body.secret).toBe(endpoint.secret);
    const published = await h.call('POST', `/v1/subscribers/${a.id}/events`, { key: a.apiKey, body: CUSTOM_EVENT });
    expect(published.status).toBe(202);
    expect(published.body.deliveries).toEqual([{ id: expect.any(String), endpointId: endpoint.id }]);
  });

  describe("when subscriber A's key is used on subscriber B's resources", () => {
    let a: CreatedSubscriber;
    let b: CreatedSubscriber;
    let bEndpoint: { id: string; secret: string };

    beforeEach(async () => {
      a = await createSubscriber('A');
      b = await createSubscriber('B');
      bEndpoint = await createEndpoint(b.id);
    });

    it.each([
      ['lists endpoints', 'GET', ''],
      ['creates an endpoint', 'POST', ''],
      ['reads an endpoint', 'GET', '/EID'],
      ['patches an endpoint', 'PATCH', '/EID'],
      ['deletes an endpoint', 'DELETE', '/EID'],
      ['reads a secret', 'GET', '/EID/secret'],
      ['rotates a secret', 'POST', '/EID/secret/rotate'],
    ])('answers 404, not 403, when A %s', async (_label, method, suffix) => {
      const body =
        method === 'PATCH'
          ? { description: 'hijacked', status: 'disabled' }
          : method === 'POST' && !suffix
            ? { url: receiver.url }
            : method === 'POST'
              ? {}
              : undefined;
      const res = await h.call(method, `/v1/subscribers/${b.id}/endpoints${suffix.replace('EID', bEndpoint.id)}`, { key: a.apiKey, body });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
      expect(JSON.stringify(res.body)).not.toContain(bEndpoint.secret);

      // B's endpoint is exactly as it was, and B has no new endpoint.
      const after = await h.call('GET', `/v1/subscribers/${b.id}/endpoints`);
      expect(after.body.data).toEqual([
        expect.objectContaining({ id: bEndpoint.id, description: '', status: 'active', secretRotation: null }),
      ]);
      expect((await h.call('GET', `/v1/subscribers/${b.id}/endpoints/${bEndpoint.id}/secret`)).body.secret).toBe(bEndpoint.secret);
    });

    it("answers 404 when A names B's endpoint under A's own subscriber path", async () => {
      for (const [method, suffix] of [
        ['GET', ''],
        ['GET', '/secret'],
        ['PATCH', ''],
        ['DELETE', ''],
        ['POST', '/secret/rotate'],
      ] as const) {
        const res = await h.call(method, `/v1/subscribers/${a.id}/endpoints/${bEndpoint.id}${suffix}`, {
          key: a.apiKey,
          body: method === 'GET' || method === 'DELETE' ? undefined : {},
        });
        expect([method, suffix, res.status]).toEqual([method, suffix, 404]);
      }
      expect((await h.call('GET', `/v1/subscribers/${b.id}/endpoints/${bEndpoint.id}`)).status).toBe(200);
    });

    it("answers 404 when A publishes single or batched events as B, and B's endpoint receives nothing", async () => {
      const single = await h.call('POST', `/v1/subscribers/${b.id}/events`, { key: a.apiKey, body: CUSTOM_EVENT });
      const batch = await h.call('POST', `/v1/subscribers/${b.id}/events/batch`, { key: a.apiKey, body: { events: [CUSTOM_EVENT] } });
      expect([single.status, batch.status]).toEqual([404, 404]);
      await waitForDrain(h.worker!);
      expect(receiver.requests).toHaveLength(0);
      expect(await h.redis.keys(`${h.prefix}:ev:*`)).toEqual([]);
    });
  });

  describe('key management', () => {
    it('tells a key who it is (GET /v1/whoami)', async () => {
      const a = (await h.call('POST', '/v1/subscribers', { body: { name: 'a' } })).body as CreatedSubscriber;
      const pub = (await h.call('POST', '/v1/api-keys', { body: { role: 'publisher' } })).body as { id: string; apiKey: string };
      expect((await h.call('GET', '/v1/whoami')).body).toEqual({ role: 'admin' });
      expect((await h.call('GET', '/v1/whoami', { key: a.apiKey })).body).toEqual({
        role: 'subscriber',
        keyId: expect.stringMatching(/^key_/),
        subscriberId: a.id,
        subscriberName: a.name,
      });
      expect((await h.call('GET', '/v1/whoami', { key: pub.apiKey })).body).toEqual({ role: 'publisher', keyId: pub.id });
      expect((await h.call('GET', '/v1/whoami', { key: 'hr_sub_wrong' })).status).toBe(401);
    });

    it('revokes a key by id: it answers 401 from then on, and a new key for the subscriber works', async () => {
      const a = (await h.call('POST', '/v1/subscribers', { body: { name: 'a' } })).body as CreatedSubscriber;
      const { keyId } = (await h.call('GET', '/v1/whoami', { key: a.apiKey })).body as { keyId: string };
      expect((await h.call('GET', `/v1/subscribers/${a.id}/endpoints`, { key: a.apiKey })).status).toBe(200);
      expect((await h.call('DELETE', `/v1/api-keys/${keyId}`, { key: a.apiKey })).status).toBe(403);
      expect((await h.call('DELETE', `/v1/api-keys/${keyId}`)).status).toBe(204);
      expect((await h.call('GET', `/v1/subscribers/${a.id}/endpoints`, { key: a.apiKey })).status).toBe(401);
      expect((await h.call('DELETE', '/v1/api-keys/key_nobody')).status).toBe(404);

      const listed = (await h.call('GET', '/v1/api-keys')).body.data as Array<{ id: string; revokedAt?: number }>;
      expect(listed.find((k) => k.id === keyId)?.revokedAt).toEqual(expect.any(Number));
      expect(JSON.stringify(listed)).not.toContain(a.apiKey);

      const fresh = await h.call('POST', `/v1/subscribers/${a.id}/api-keys`);
      expect(fresh.status).toBe(201);
      expect(fresh.body).toMatchObject({ role: 'subscriber', subscriberId: a.id, apiKey: expect.stringMatching(/^hr_sub_/) });
      expect((await h.call('GET', `/v1/subscribers/${a.id}/endpoints`, { key: fresh.body.apiKey })).status).toBe(200);
      expect((await h.call('POST', '/v1/subscribers/sub_nobody/api-keys')).status).toBe(404);
    });
  });

  describe('with a publisher key', () => {
    let publisherKey: string;
    let a: CreatedSubscriber;
    let b: CreatedSubscriber;

    beforeEach(async () => {
      const res = await h.call('POST', '/v1/api-keys', { body: { role: 'publisher' } });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ id: expect.stringMatching(/^key_/), role: 'publisher', apiKey: expect.stringMatching(/^hr_pub_/) });
      publisherKey = res.body.apiKey;
      a = await createSubscriber('A');
      b = await createSubscriber('B');
    });

    it('publishes events for any subscriber', async () => {
      const aEndpoint = await createEndpoint(a.id);
      const bEndpoint = await createEndpoint(b.id);
      const toA = await h.call('POST', `/v1/subscribers/${a.id}/events`, { key: publisherKey, body: CUSTOM_EVENT });
      const toB = await h.call('POST', `/v1/subscribers/${b.id}/events/batch`, { key: publisherKey, body: { events: [CUSTOM_EVENT] } });
      expect(toA.status).toBe(202);
      expect(toA.body.deliveries.map((d: { endpointId: string }) => d.endpointId)).toEqual([aEndpoint.id]);
      expect(toB.status).toBe(202);
      expect(toB.body.events[0].deliveries.map((d: { endpointId: string }) => d.endpointId)).toEqual([bEndpoint.id]);
      const got = await receiver.waitForRequests(2);
      expect(got.map((r) => r.url).sort()).toEqual([`/${a.id}`, `/${b.id}`].sort());
    });

    it('answers 404 when publishing for a subscriber that does not exist', async () => {
      const res = await h.call('POST', '/v1/subscribers/sub_missing/events', { key: publisherKey, body: CUSTOM_EVENT });
      expect(res.status).toBe(404);
    });

    it.each([
      ['GET', ''],
      ['POST', ''],
      ['GET', '/EID'],
      ['PATCH', '/EID'],
      ['DELETE', '/EID'],
      ['GET', '/EID/secret'],
      ['POST', '/EID/secret/rotate'],
    ])('is refused with 403 on %s endpoints%s', async (method, suffix) => {
      const endpoint = await createEndpoint(a.id);
      const body = method === 'POST' && !suffix ? { url: receiver.url } : method === 'GET' || method === 'DELETE' ? undefined : {};
      const res = await h.call(method, `/v1/subscribers/${a.id}/endpoints${suffix.replace('EID', endpoint.id)}`, {
        key: publisherKey,
        body,
      });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
      expect(JSON.stringify(res.body)).not.toContain(endpoint.secret);
      expect((await h.call('GET', `/v1/subscribers/${a.id}/endpoints`)).body.data).toHaveLength(1);
    });
  });

  it.each([
    ['GET', '/v1/subscribers', undefined],
    ['POST', '/v1/subscribers', { name: 'Mallory' }],
    ['POST', '/v1/api-keys', { role: 'publisher' }],
  ])('answers 403 to subscriber and publisher keys on the admin route %s %s', async (method, path, body) => {
    const sub = await createSubscriber('A');
    const publisher = (await h.call('POST', '/v1/api-keys', { body: { role: 'publisher' } })).body.apiKey as string;
    for (const key of [sub.apiKey, publisher]) {
      const res = await h.call(method, path, { key, body });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
    expect((await h.call('GET', '/v1/subscribers')).body.data).toHaveLength(1);
  });

  it('stores API keys only as hashes: no Redis key or value under the prefix holds a plain key', async () => {
    const a = await createSubscriber('A');
    const publisher = (await h.call('POST', '/v1/api-keys', { body: { role: 'publisher' } })).body.apiKey as string;
    // Leave some events, deliveries and queue jobs behind too, so the scan covers every kind of key.
    await createEndpoint(a.id, a.apiKey);
    await h.call('POST', `/v1/subscribers/${a.id}/events`, { key: a.apiKey, body: CUSTOM_EVENT });
    await h.call('POST', `/v1/subscribers/${a.id}/events`, { key: publisher, body: CUSTOM_EVENT });
    await receiver.waitForRequests(2);

    const stored = await everythingStoredUnder(h.redis, h.prefix);
    expect(stored.length).toBeGreaterThan(10);
    for (const plain of [a.apiKey, publisher]) {
      expect(stored.filter((s) => s.includes(plain))).toEqual([]);
      // The scan does see the keys' hashes, so it looked in the right place.
      expect(stored.some((s) => s.includes(hashApiKey(plain)))).toBe(true);
    }
  });
});
