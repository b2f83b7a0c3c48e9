import { DEFAULT_MIN_RETRY_INTERVAL_MS } from '@hookrelay/contracts';
import { useTestReceiver } from '@hookrelay/testing';
import { useAcmeEndpoints, useApiHarness } from './api-harness';

describe('endpoint routes', () => {
  const receiver = useTestReceiver(undefined, 'each');
  const h = useApiHarness({ worker: false }, 'each');
  // No worker: these tests deliver nothing, and verification is covered in verification.int.test.ts.
  const acme = useAcmeEndpoints(h);

  async function create(body: Record<string, unknown> = {}) {
    const res = await h.call('POST', acme.base, { body: { url: `${receiver.url}/hook`, ...body } });
    expect(res.status).toBe(201);
    return res.body;
  }

  it('creates an endpoint with 201, its id and secret, and every default visible', async () => {
    const res = await h.call('POST', acme.base, { body: { url: `${receiver.url}/hook` } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^ep_/),
      subscriberId: acme.sid,
      url: `${receiver.url}/hook`,
      description: '',
      eventTypes: ['*'],
      signature: { scheme: 'x-hub-signature', algorithm: 'sha256', prefix: false },
      secret: expect.stringMatching(/^[A-Za-z0-9_-]{40,}$/),
      headers: {},
      retry: { maxRetries: 3, intervalMs: 60000, backoff: 'fixed' },
      timeoutMs: 10000,
      status: 'active',
    });
  });

  it('keeps the given fields, fills unspecified retry fields with defaults', async () => {
    const body = await create({
      description: 'pager',
      eventTypes: ['incident.*'],
      signature: { scheme: 'standard-webhooks' },
      headers: { 'X-Tenant': 'acme' },
      retry: { maxRetries: 5 },
      timeoutMs: 2500,
    });
    expect(body).toMatchObject({
      description: 'pager',
      eventTypes: ['incident.*'],
      signature: { scheme: 'standard-webhooks' },
      headers: { 'X-Tenant': 'acme' },
      timeoutMs: 2500,
    });
    expect(body.retry).toEqual({ maxRetries: 5, intervalMs: 60000, backoff: 'fixed' });
    expect(body.secret).toMatch(/^whsec_/);
  });

  describe('rateLimit', () => {
    it('is null by default, set on create, changed and removed by PATCH, and shown by GET', async () => {
      expect((await create()).rateLimit).toBeNull();
      const limited = await create({ rateLimit: { perSecond: 20 } });
      expect(limited.rateLimit).toEqual({ perSecond: 20 });
      expect((await h.call('GET', `${acme.base}/${limited.id}`)).body.rateLimit).toEqual({ perSecond: 20 });
      const halved = await h.call('PATCH', `${acme.base}/${limited.id}`, { body: { rateLimit: { perSecond: 0.5 } } });
      expect(halved.body.rateLimit).toEqual({ perSecond: 0.5 });
      // Other changes leave it alone; null removes it.
      expect((await h.call('PATCH', `${acme.base}/${limited.id}`, { body: { description: 'x' } })).body.rateLimit).toEqual({
        perSecond: 0.5,
      });
      expect((await h.call('PATCH', `${acme.base}/${limited.id}`, { body: { rateLimit: null } })).body.rateLimit).toBeNull();
      expect((await h.call('GET', acme.base)).body.data.map((e: { rateLimit: unknown }) => e.rateLimit)).toEqual([null, null]);
    });

    it('reaches the scheduler with the endpoint, so waiting deliveries are paced by the current limit', async () => {
      const limited = await create({ rateLimit: { perSecond: 20 } });
      const settings = h.deps.store.keys.laneEndpoint(limited.id);
      expect(await h.deps.redis.hmget(settings, 'sid', 'rate')).toEqual([acme.sid, '20']);
      await h.call('PATCH', `${acme.base}/${limited.id}`, { body: { rateLimit: null } });
      expect(await h.deps.redis.hget(settings, 'rate')).toBeNull();
    });

    it.each([
      [{ perSecond: 0 }, 'rateLimit.perSecond'],
      [{ perSecond: -1 }, 'rateLimit.perSecond'],
      [{ perSecond: 10_001 }, 'rateLimit.perSecond'],
      [{ perSecond: '5' }, 'rateLimit.perSecond'],
      [{}, 'rateLimit.perSecond'],
      [{ perSecond: 5, burst: 10 }, 'rateLimit'],
      [5, 'rateLimit'],
    ])('refuses %j with a 400 naming %s', async (rateLimit, path) => {
      const res = await h.call('POST', acme.base, { body: { url: `${receiver.url}/hook`, rateLimit } });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain(path);
      const ep = await create();
      const patched = await h.call('PATCH', `${acme.base}/${ep.id}`, { body: { rateLimit } });
      expect(patched.status).toBe(400);
      expect((await h.call('GET', `${acme.base}/${ep.id}`)).body.rateLimit).toBeNull();
    });
  });

  it('never shows the secret in GET or in the list', async () => {
    const created = await create();
    const one = await h.call('GET', `${acme.base}/${created.id}`);
    const list = await h.call('GET', acme.base);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: created.id, url: created.url, secretRotation: null });
    expect(list.body.data).toEqual([one.body]);
    for (const shown of [one.body, list.body.data[0]]) {
      expect(shown).not.toHaveProperty('secret');
      expect(shown).not.toHaveProperty('previousSecrets');
    }
    expect(JSON.stringify([one.body, list.body])).not.toContain(created.secret);
  });

  it('pages through the list with limit and cursor, each endpoint once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create({ description: `n${i}` })).id);
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await h.call('GET', `${acme.base}${query}`);
      expect(res.status).toBe(200);
      pages.push(res.body.data.map((e: { id: string }) => e.id));
      cursor = res.body.nextCursor;
    } while (cursor && pages.length < 10);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat().sort()).toEqual([...ids].sort());
  });

  it('continues after the cursor even when the endpoint it names was deleted', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await create({ description: `n${i}` })).id);
    const first = await h.call('GET', `${acme.base}?limit=2`);
    expect(first.body.data.map((e: { id: string }) => e.id)).toEqual(ids.slice(0, 2));
    expect((await h.call('DELETE', `${acme.base}/${ids[1]}`)).status).toBe(204);
    const second = await h.call('GET', `${acme.base}?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.data.map((e: { id: string }) => e.id)).toEqual(ids.slice(2, 4));
  });

  it('goes on past a page whose endpoints were all deleted after the index was read', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create({ description: `n${i}` })).id);
    // What a listing sees when DELETEs land between its index read and its record read: index
    // entries whose records are gone. The cursor is taken from the index, so the next page follows.
    await h.redis.del(h.store.keys.endpoint(ids[0]!), h.store.keys.endpoint(ids[1]!));
    const first = await h.call('GET', `${acme.base}?limit=2`);
    expect(first.body).toEqual({ data: [], nextCursor: expect.any(String) });
    const second = await h.call('GET', `${acme.base}?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.data.map((e: { id: string }) => e.id)).toEqual(ids.slice(2, 4));
  });

  it.each(['0', '101', 'many'])('refuses limit=%s with 400 naming limit', async (limit) => {
    const res = await h.call('GET', `${acme.base}?limit=${limit}`);
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'limit' })]);
  });

  it('patches fields and keeps the rest', async () => {
    const created = await create({ description: 'old' });
    const res = await h.call('PATCH', `${acme.base}/${created.id}`, {
      body: {
        description: 'new',
        eventTypes: ['receipt.*.delivered'],
        headers: { 'X-Env': 'prod' },
        retry: { maxRetries: 0, intervalMs: 5, backoff: 'exponential' },
        timeoutMs: 3000,
      },
    });
    expect(res.status).toBe(200);
    const after = (await h.call('GET', `${acme.base}/${created.id}`)).body;
    expect(after).toEqual(res.body);
    expect(after).toMatchObject({
      description: 'new',
      eventTypes: ['receipt.*.delivered'],
      headers: { 'X-Env': 'prod' },
      retry: { maxRetries: 0, intervalMs: 5, backoff: 'exponential' },
      timeoutMs: 3000,
      url: created.url,
      signature: created.signature,
      status: 'active',
    });
    expect((await h.call('GET', `${acme.base}/${created.id}/secret`)).body.secret).toBe(created.secret);
  });

  describe('when many PATCHes to one endpoint race', () => {
    it('answers each 200 or 409 conflict (never 500), and keeps a change that was answered 200', async () => {
      const { id } = await create();
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) => h.call('PATCH', `${acme.base}/${id}`, { body: { description: `racer ${i}` } })),
      );
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s !== 200 && s !== 409)).toEqual([]);
      // Ten compare-and-set tries each, one winner a round: most of the hundred lose.
      const conflict = answers.find((a) => a.status === 409);
      expect(conflict?.body.error).toEqual({ code: 'conflict', message: `endpoint ${id} is being changed by other requests; try again` });
      const stored = (await h.call('GET', `${acme.base}/${id}`)).body.description as string;
      const won = answers.filter((a) => a.status === 200).map((a) => a.body.description as string);
      expect(won).toContain(stored);
      expect(h.logLines.filter((l) => Number(l.level) >= 50)).toEqual([]);
    });
  });

  it('disables and re-enables an endpoint with PATCH status', async () => {
    const created = await create();
    const disabled = await h.call('PATCH', `${acme.base}/${created.id}`, { body: { status: 'disabled' } });
    expect(disabled.body).toMatchObject({ status: 'disabled', disabledReason: expect.any(String) });
    expect((await h.call('GET', `${acme.base}/${created.id}`)).body.status).toBe('disabled');
    const enabled = await h.call('PATCH', `${acme.base}/${created.id}`, { body: { status: 'active' } });
    expect(enabled.body.status).toBe('active');
    expect(enabled.body).not.toHaveProperty('disabledReason');
    const bad = await h.call('PATCH', `${acme.base}/${created.id}`, { body: { status: 'paused' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([expect.objectContaining({ path: 'status' })]);
  });

  it('deletes an endpoint: 204, then 404 on every route for it, and gone from the list', async () => {
    const created = await create();
    const kept = await create();
    const del = await h.call('DELETE', `${acme.base}/${created.id}`);
    expect(del.status).toBe(204);
    expect(del.body).toBeNull();
    for (const [method, suffix] of [
      ['GET', ''],
      ['PATCH', ''],
      ['DELETE', ''],
      ['GET', '/secret'],
      ['POST', '/secret/rotate'],
    ] as const) {
      const res = await h.call(method, `${acme.base}/${created.id}${suffix}`, {
        body: method === 'PATCH' || method === 'POST' ? {} : undefined,
      });
      expect([method, suffix, res.status, res.body?.error?.code]).toEqual([method, suffix, 404, 'not_found']);
    }
    expect((await h.call('GET', acme.base)).body.data.map((e: { id: string }) => e.id)).toEqual([kept.id]);
  });

  describe('refuses invalid input with 400 naming the field', () => {
    it.each<[string, Record<string, unknown>, string]>([
      ['a URL that is not a URL', { url: 'not a url' }, 'url'],
      ['a non-http URL', { url: 'ftp://127.0.0.1/x' }, 'url'],
      ['an event type pattern with an empty segment', { eventTypes: ['incident..triggered'] }, 'eventTypes.0'],
      ['an event type pattern with a space', { eventTypes: ['*', 'incident triggered'] }, 'eventTypes.1'],
      ['an unknown signature scheme', { signature: { scheme: 'x-custom-hmac' } }, 'signature.scheme'],
      ['an unknown x-hub-signature algorithm', { signature: { scheme: 'x-hub-signature', algorithm: 'md5' } }, 'signature.algorithm'],
      ['sha1 while HOOKRELAY_ALLOW_SHA1 is off', { signature: { scheme: 'x-hub-signature', algorithm: 'sha1' } }, 'signature.algorithm'],
      ['a header name with a space', { headers: { 'X Tenant': 'acme' } }, 'headers.X Tenant'],
      ['a reserved header name', { headers: { 'X-Hub-Signature': 'forged' } }, 'headers.X-Hub-Signature'],
      ['a header in the X-Hookrelay- namespace', { headers: { 'x-hookrelay-event-id': 'evt_forged' } }, 'headers.x-hookrelay-event-id'],
      // Hop-by-hop and framing headers (issue 20): the HTTP client owns them.
      ...[
        'Expect',
        'Upgrade',
        'Keep-Alive',
        'TE',
        'Trailer',
        'Proxy-Connection',
        'Connection',
        'Transfer-Encoding',
        'Content-Length',
        'Content-Encoding',
      ].map((name): [string, Record<string, unknown>, string] => [
        `the hop-by-hop or framing header ${name}`,
        { headers: { 'X-Tenant': 'acme', [name]: 'x' } },
        `headers.${name}`,
      ]),
      ['a header value with CR/LF', { headers: { 'X-Tenant': 'acme\r\nX-Injected: 1' } }, 'headers.X-Tenant'],
      ['a header value with a bare LF', { headers: { 'X-Tenant': 'acme\nX-Injected: 1' } }, 'headers.X-Tenant'],
      ['a too short secret', { secret: 'short' }, 'secret'],
      [
        'a standard-webhooks secret without whsec_',
        { signature: { scheme: 'standard-webhooks' }, secret: 'plain-text-secret-0123456789' },
        'secret',
      ],
      ['a timeout over 60 s', { timeoutMs: 60001 }, 'timeoutMs'],
      ['an unknown verify mode', { verify: 'ping' }, 'verify'],
    ])('%s', async (_label, fields, path) => {
      const res = await h.call('POST', acme.base, { body: { url: `${receiver.url}/hook`, ...fields } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
      expect(res.body.error.message).toContain(path);
      expect((await h.call('GET', acme.base)).body.data).toEqual([]);
    });

    it('an unknown extra field, on create and on patch', async () => {
      const res = await h.call('POST', acme.base, { body: { url: receiver.url, colour: 'blue' } });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain('colour');
      const created = await create();
      const patch = await h.call('PATCH', `${acme.base}/${created.id}`, { body: { secret: 'patched-secret-0123456789' } });
      expect(patch.status).toBe(400);
      expect(patch.body.error.message).toContain('secret');
      expect((await h.call('GET', `${acme.base}/${created.id}/secret`)).body.secret).toBe(created.secret);
    });

    it('the same header rules on patch, leaving the endpoint unchanged', async () => {
      const created = await create({ headers: { 'X-Tenant': 'acme' } });
      const res = await h.call('PATCH', `${acme.base}/${created.id}`, { body: { headers: { 'Content-Type': 'text/plain' } } });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'headers.Content-Type' })]);
      expect((await h.call('GET', `${acme.base}/${created.id}`)).body.headers).toEqual({ 'X-Tenant': 'acme' });
    });
  });

  describe("under the server's retry floor (HOOKRELAY_MIN_RETRY_INTERVAL_MS, 1 s by default)", () => {
    const floored = useApiHarness({ worker: false, policy: { minRetryIntervalMs: DEFAULT_MIN_RETRY_INTERVAL_MS } }, 'each');
    const sub = useAcmeEndpoints(floored);

    it('refuses retry.intervalMs under it with 400 naming the field, on create and on patch, and takes it at the floor', async () => {
      const hammering = { maxRetries: 50, intervalMs: 1, backoff: 'fixed' };
      const refused = await floored.call('POST', sub.base, { body: { url: `${receiver.url}/hook`, retry: hammering } });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({
        code: 'validation_failed',
        details: [expect.objectContaining({ path: 'retry.intervalMs' })],
      });
      expect(refused.body.error.message).toBe(
        'retry.intervalMs: must be at least 1000 ms on this server (HOOKRELAY_MIN_RETRY_INTERVAL_MS)',
      );
      expect((await floored.call('GET', sub.base)).body.data).toEqual([]);

      const created = await floored.call('POST', sub.base, {
        body: { url: `${receiver.url}/hook`, retry: { ...hammering, intervalMs: 1000 } },
      });
      expect(created.status).toBe(201);
      const patch = await floored.call('PATCH', `${sub.base}/${created.body.id}`, { body: { retry: { intervalMs: 999 } } });
      expect(patch.status).toBe(400);
      expect(patch.body.error.details).toEqual([expect.objectContaining({ path: 'retry.intervalMs' })]);
      // A patch that leaves the interval alone is not checked against it.
      const other = await floored.call('PATCH', `${sub.base}/${created.body.id}`, { body: { retry: { maxRetries: 2 } } });
      expect(other.status).toBe(200);
      expect((await floored.call('GET', `${sub.base}/${created.body.id}`)).body.retry).toEqual({
        maxRetries: 2,
        intervalMs: 1000,
        backoff: 'fixed',
      });
    });
  });

  describe('answers 404', () => {
    it.each([
      ['GET', '/ep_01unknown'],
      ['PATCH', '/ep_01unknown'],
      ['DELETE', '/ep_01unknown'],
      ['GET', '/ep_01unknown/secret'],
      ['POST', '/ep_01unknown/secret/rotate'],
    ])('for %s on an unknown endpoint%s', async (method, suffix) => {
      const res = await h.call(method, `${acme.base}${suffix}`, { body: method === 'PATCH' || method === 'POST' ? {} : undefined });
      expect(res.status).toBe(404);
      expect(res.body.error).toEqual({ code: 'not_found', message: 'endpoint not found' });
    });

    it.each([
      ['GET', ''],
      ['POST', ''],
      ['GET', '/ep_01unknown'],
    ])('for %s endpoints%s of an unknown subscriber', async (method, suffix) => {
      const res = await h.call(method, `/v1/subscribers/sub_01unknown/endpoints${suffix}`, {
        body: method === 'POST' ? { url: receiver.url } : undefined,
      });
      expect(res.status).toBe(404);
      expect(res.body.error).toEqual({ code: 'not_found', message: 'subscriber not found' });
    });
  });
});
