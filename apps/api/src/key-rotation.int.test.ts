import { execFile } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { EncryptionKey } from '@hookrelay/secrets';
import { verifyStandardWebhook } from '@hookrelay/signing';
import { requireRedisUrl, TestReceiver, useTestReceiver, uniquePrefix, type ReceivedRequest, waitUntil } from '@hookrelay/testing';
import { startApiHarness, type ApiHarness, useApiHarness } from './api-harness';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');

const k1: EncryptionKey = { id: 'k1', key: randomBytes(32) };
const k2: EncryptionKey = { id: 'k2', key: randomBytes(32) };
const asEnv = (keys: EncryptionKey[]) => keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');

/** What a receiver checks of one endpoint: its signature scheme and secret, and its auth header. */
interface Expectation {
  scheme: 'x-hub-signature' | 'standard-webhooks';
  secret: string;
  authorization: (req: ReceivedRequest) => boolean;
}

/**
 * A receiver that checks every delivery's signature and credentials as the subscriber's own code
 * would, answering 401 to anything that does not verify (so a wrong secret would fail the delivery).
 */
async function verifyingReceiver(expected: Map<string, Expectation>): Promise<{ receiver: TestReceiver; verified: string[] }> {
  const verified: string[] = [];
  const receiver = await TestReceiver.start((req, res) => {
    const path = req.url.split('?')[0] as string;
    const e = expected.get(path);
    const body = req.body.toString('utf8');
    const signed =
      e?.scheme === 'x-hub-signature'
        ? req.headers['x-hub-signature'] === createHmac('sha256', e.secret).update(body).digest('hex')
        : e !== undefined &&
          verifyStandardWebhook({
            secret: e.secret,
            body,
            headers: {
              'webhook-id': String(req.headers['webhook-id']),
              'webhook-timestamp': String(req.headers['webhook-timestamp']),
              'webhook-signature': String(req.headers['webhook-signature']),
            },
            nowSeconds: Math.floor(Date.now() / 1000),
          });
    const ok = !!e && signed && e.authorization(req);
    if (ok) verified.push(`${path} ${String(req.headers['x-hookrelay-event-id'])}`);
    res.writeHead(ok ? 200 : 401).end();
  });
  return { receiver, verified };
}

describe('key rotation: k1, then k2,k1, npm run rekey, then k2 alone', () => {
  const prefix = uniquePrefix('rotation');
  const expected = new Map<string, Expectation>();
  let h: ApiHarness | undefined;
  let receiver: TestReceiver;
  let verified: string[];
  let sid: string;
  const ids: Record<'a' | 'b' | 'late', string> = { a: '', b: '', late: '' };

  /** A restart: the API and worker again on the same data, with another key list. */
  async function restart(keys: EncryptionKey[]): Promise<ApiHarness> {
    await h?.close();
    h = await startApiHarness({ prefix, keepData: true, encryptionKeys: keys });
    return h;
  }

  async function createEndpoint(
    api: ApiHarness,
    name: string,
    body: Record<string, unknown>,
    authorization: Expectation['authorization'],
  ): Promise<string> {
    const res = await api.call('POST', `/v1/subscribers/${sid}/endpoints`, {
      body: { url: `${receiver.url}/${name}`, eventTypes: ['custom.*'], ...body },
    });
    expect(res.status).toBe(201);
    expected.set(`/${name}`, { scheme: res.body.signature.scheme, secret: res.body.secret, authorization });
    return res.body.id;
  }

  /** Publishes an event and waits for each endpoint's delivery of it to end; returns their states. */
  async function publish(api: ApiHarness): Promise<{ eventId: string; states: Record<string, { state: string; attempts: any[] }> }> {
    const published = await api.call('POST', `/v1/subscribers/${sid}/events`, {
      body: { type: 'custom.rotation.check', payload: { at: Date.now() } },
    });
    expect(published.status).toBe(202);
    const states: Record<string, { state: string; attempts: any[] }> = {};
    for (const d of published.body.deliveries as Array<{ id: string; endpointId: string }>) {
      await waitUntil(
        async () => ['delivered', 'failed'].includes((await api.call('GET', `/v1/subscribers/${sid}/deliveries/${d.id}`)).body.state),
        `delivery ${d.id}`,
        15_000,
      );
      const detail = (await api.call('GET', `/v1/subscribers/${sid}/deliveries/${d.id}`)).body;
      states[d.endpointId] = { state: detail.state, attempts: detail.attempts };
    }
    return { eventId: published.body.id, states };
  }

  function verifiedFor(eventId: string): string[] {
    return verified
      .filter((v) => v.endsWith(` ${eventId}`))
      .map((v) => v.split(' ')[0] as string)
      .sort();
  }

  async function rekey(keys: EncryptionKey[]): Promise<string> {
    const { stdout } = await run('npm', ['run', '--silent', 'rekey'], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: requireRedisUrl(), QUEUE_PREFIX: prefix, HOOKRELAY_ENCRYPTION_KEYS: asEnv(keys) },
    });
    return stdout;
  }

  beforeAll(async () => {
    ({ receiver, verified } = await verifyingReceiver(expected));
  });
  afterAll(async () => {
    if (h) {
      const keys = await h.redis.keys(`${prefix}*`);
      if (keys.length) await h.redis.del(...keys);
      await h.close();
    }
    await receiver.close();
  });

  it('signs and authenticates with secrets written under k1 under k1', async () => {
    const api = await restart([k1]);
    sid = (await api.call('POST', '/v1/subscribers', { body: { name: 'Acme' } })).body.id;
    const bearer = `bearer-${randomBytes(8).toString('hex')}`;
    const password = `pw-${randomBytes(8).toString('hex')}`;
    ids.a = await createEndpoint(
      api,
      'a',
      { auth: { type: 'bearer', token: bearer } },
      (req) => req.headers.authorization === `Bearer ${bearer}`,
    );
    ids.b = await createEndpoint(
      api,
      'b',
      { signature: { scheme: 'standard-webhooks' }, auth: { type: 'basic', username: 'relay', password } },
      (req) => req.headers.authorization === `Basic ${Buffer.from(`relay:${password}`).toString('base64')}`,
    );
    const { eventId, states } = await publish(api);
    expect(verifiedFor(eventId)).toEqual(['/a', '/b']);
    expect(Object.values(states).map((s) => s.state)).toEqual(['delivered', 'delivered']);
  });

  it('still verifies after a restart with k2,k1, and an endpoint created now is sealed under k2', async () => {
    const api = await restart([k2, k1]);
    const apiKey = `key-${randomBytes(8).toString('hex')}`;
    ids.late = await createEndpoint(
      api,
      'late',
      { auth: { type: 'api-key', header: 'X-Api-Key', value: apiKey } },
      (req) => req.headers['x-api-key'] === apiKey,
    );
    expect(JSON.parse((await api.redis.get(api.store.keys.endpoint(ids.late))) as string).secret.kid).toBe('k2');
    expect(JSON.parse((await api.redis.get(api.store.keys.endpoint(ids.a))) as string).secret.kid).toBe('k1');
    const { eventId } = await publish(api);
    expect(verifiedFor(eventId)).toEqual(['/a', '/b', '/late']);
  });

  it('before rekey, a restart with k2 alone fails the k1 endpoints with secret_unreadable and delivers to the k2 one', async () => {
    const api = await restart([k2]);
    const { eventId, states } = await publish(api);
    expect(verifiedFor(eventId)).toEqual(['/late']);
    expect(states[ids.late]?.state).toBe('delivered');
    for (const id of [ids.a, ids.b]) {
      // One attempt, recorded, and the delivery over: not retried forever.
      expect(states[id]).toEqual({
        state: 'failed',
        attempts: [expect.objectContaining({ attempt: 1, outcome: 'failed', errorKind: 'secret_unreadable', durationMs: 0 })],
      });
      const logged = api.logLines.find((l) => l.msg === 'endpoint.secret_unreadable' && l.endpointId === id);
      expect(logged).toMatchObject({ level: 'error', keyId: 'k1', reason: 'unknown_key' });
    }
    expect(receiver.requests.filter((r) => String(r.headers['x-hookrelay-event-id']) === eventId).map((r) => r.url)).toEqual(['/late']);

    // The API: 500 secret_unreadable only where the secret is needed; everything else works.
    const ep = `/v1/subscribers/${sid}/endpoints`;
    for (const [method, path] of [
      ['GET', `${ep}/${ids.a}/secret`],
      ['POST', `${ep}/${ids.a}/secret/rotate`],
      ['POST', `${ep}/${ids.a}/test`],
    ] as const) {
      const res = await api.call(method, path);
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 500, code: 'secret_unreadable' });
      expect(JSON.stringify(res.body)).not.toMatch(/k1|HOOKRELAY_ENCRYPTION_KEYS/);
    }
    expect((await api.call('GET', `${ep}/${ids.a}`)).body).toMatchObject({ id: ids.a, auth: { type: 'bearer', configured: true } });
    expect((await api.call('GET', ep)).body.data).toHaveLength(3);
    expect((await api.call('PATCH', `${ep}/${ids.a}`, { body: { description: 'renamed while unreadable' } })).status).toBe(200);
    expect((await api.call('GET', `${ep}/${ids.late}/secret`)).status).toBe(200);
    expect(api.logLines.filter((l) => l.msg === 'secret.unreadable')).toHaveLength(3);
  });

  it('npm run rekey re-encrypts under k2 while naming counts; run again, it changes nothing', async () => {
    const api = await restart([k2, k1]);
    const first = await rekey([k2, k1]);
    expect(first).toContain('rekey: sealing every stored secret under key "k2" (opening with "k1" too)');
    expect(first).toContain('rekey: 3 records read: 2 changed, 1 already under "k2", 0 unreadable');
    const second = await rekey([k2, k1]);
    expect(second).toContain('rekey: 3 records read: 0 changed, 3 already under "k2", 0 unreadable');
    expect(second).toContain('the other keys may be removed from the list');
    // The running service (k2,k1) keeps delivering, before and after.
    const { eventId } = await publish(api);
    expect(verifiedFor(eventId)).toEqual(['/a', '/b', '/late']);
  });

  it('after rekey, a restart with k2 alone signs and authenticates every endpoint again', async () => {
    const api = await restart([k2]);
    const { eventId, states } = await publish(api);
    expect(verifiedFor(eventId)).toEqual(['/a', '/b', '/late']);
    expect(Object.values(states).every((s) => s.state === 'delivered')).toBe(true);
    expect((await api.call('GET', `/v1/subscribers/${sid}/endpoints/${ids.a}`)).body.description).toBe('renamed while unreadable');
  });
});

describe('a ciphertext copied from one endpoint record into another', () => {
  const receiver = useTestReceiver({ status: 200 });
  const h = useApiHarness(() => ({ encryptionKeys: [k1] }));

  it('does not decrypt there: that endpoint fails with secret_unreadable, the original keeps working', async () => {
    const sid = (await h.call('POST', '/v1/subscribers', { body: { name: 'Acme' } })).body.id;
    const ep = `/v1/subscribers/${sid}/endpoints`;
    const from = (await h.call('POST', ep, { body: { url: `${receiver.url}/from` } })).body;
    const into = (await h.call('POST', ep, { body: { url: `${receiver.url}/into` } })).body;
    const fromRecord = JSON.parse((await h.redis.get(h.store.keys.endpoint(from.id))) as string);
    const intoRecord = JSON.parse((await h.redis.get(h.store.keys.endpoint(into.id))) as string);
    await h.redis.set(h.store.keys.endpoint(into.id), JSON.stringify({ ...intoRecord, secret: fromRecord.secret }));

    expect((await h.call('GET', `${ep}/${into.id}/secret`)).body.error.code).toBe('secret_unreadable');
    expect((await h.call('GET', `${ep}/${from.id}/secret`)).body.secret).toBe(from.secret);
    const published = (await h.call('POST', `/v1/subscribers/${sid}/events`, { body: { type: 'custom.copy.check', payload: {} } })).body;
    const [req] = await receiver.waitForRequests(1);
    expect(req?.url).toBe('/from');
    const intoDelivery = published.deliveries.find((d: { endpointId: string }) => d.endpointId === into.id).id;
    await waitUntil(
      async () => (await h.call('GET', `/v1/subscribers/${sid}/deliveries/${intoDelivery}`)).body.state === 'failed',
      'the copied-into delivery',
      15_000,
    );
    expect((await h.call('GET', `/v1/subscribers/${sid}/deliveries/${intoDelivery}`)).body.attempts).toEqual([
      expect.objectContaining({ errorKind: 'secret_unreadable' }),
    ]);
    expect(h.logLines.find((l) => l.msg === 'endpoint.secret_unreadable')).toMatchObject({
      endpointId: into.id,
      reason: 'tampered',
      field: 'secret',
    });
    expect(receiver.requests.map((r) => r.url)).toEqual(['/from']);
  });

  it('lets an unreadable auth secret be replaced with a PATCH of auth, which needs only the new value', async () => {
    const sid = (await h.call('POST', '/v1/subscribers', { body: { name: 'Beta' } })).body.id;
    const ep = `/v1/subscribers/${sid}/endpoints`;
    const donor = (
      await h.call('POST', ep, {
        body: { url: `${receiver.url}/donor`, eventTypes: ['custom.none'], auth: { type: 'bearer', token: 'donor-token-1' } },
      })
    ).body;
    const broken = (
      await h.call('POST', ep, {
        body: { url: `${receiver.url}/fixed`, eventTypes: ['custom.fix.*'], auth: { type: 'bearer', token: 'old-token-2' } },
      })
    ).body;
    const donorRecord = JSON.parse((await h.redis.get(h.store.keys.endpoint(donor.id))) as string);
    const brokenRecord = JSON.parse((await h.redis.get(h.store.keys.endpoint(broken.id))) as string);
    await h.redis.set(h.store.keys.endpoint(broken.id), JSON.stringify({ ...brokenRecord, auth: donorRecord.auth }));
    expect((await h.call('POST', `${ep}/${broken.id}/test`)).body.error.code).toBe('secret_unreadable');

    const patched = await h.call('PATCH', `${ep}/${broken.id}`, { body: { auth: { type: 'bearer', token: 'new-token-3' } } });
    expect(patched.status).toBe(200);
    const before = receiver.requests.length;
    await h.call('POST', `/v1/subscribers/${sid}/events`, { body: { type: 'custom.fix.check', payload: {} } });
    const requests = await receiver.waitForRequests(before + 1);
    expect(requests[before]).toMatchObject({ url: '/fixed', headers: expect.objectContaining({ authorization: 'Bearer new-token-3' }) });
    expect(requests[before]?.headers['x-hub-signature']).toBe(createHmac('sha256', broken.secret).update('{}').digest('hex'));
  });

  it('a source whose secret cannot be read answers 500 where its secrets are needed, and can still be read back in history and deleted', async () => {
    const sid = (await h.call('POST', '/v1/subscribers', { body: { name: 'Gamma' } })).body.id;
    const base = `/v1/subscribers/${sid}/sources`;
    const create = async (secret: string) =>
      (
        await h.call('POST', base, {
          body: { name: secret, eventType: 'source.x', verification: { type: 'hmac', header: 'x-sig', secret } },
        })
      ).body;
    const donor = await create('donor-secret-0001');
    const broken = await create('broken-secret-0002');
    const donorRecord = JSON.parse((await h.redis.get(h.store.keys.source(donor.id))) as string);
    const brokenRecord = JSON.parse((await h.redis.get(h.store.keys.source(broken.id))) as string);
    await h.redis.set(h.store.keys.source(broken.id), JSON.stringify({ ...brokenRecord, verification: donorRecord.verification }));

    const body = '{"a":1}';
    const ingest = await fetch(`${h.baseUrl}${broken.ingestUrl}`, {
      method: 'POST',
      body,
      headers: { 'x-sig': createHmac('sha256', 'broken-secret-0002').update(body).digest('hex') },
    });
    expect([ingest.status, ((await ingest.json()) as { error: { code: string } }).error.code]).toEqual([500, 'secret_unreadable']);
    expect((await h.call('GET', `${base}/${broken.id}`)).body.error.code).toBe('secret_unreadable');
    expect((await h.call('GET', `${base}/${donor.id}`)).body.ingestUrl).toBe(donor.ingestUrl);
    // The list still lists it, marked, beside the others; a source whose very token cannot be
    // decrypted is listed without a URL.
    const tokenless = await create('tokenless-secret-0003');
    const tokenlessRecord = JSON.parse((await h.redis.get(h.store.keys.source(tokenless.id))) as string);
    await h.redis.set(h.store.keys.source(tokenless.id), JSON.stringify({ ...tokenlessRecord, token: donorRecord.token }));
    const listed = await h.call('GET', base);
    expect(listed.status).toBe(200);
    expect(listed.body.data).toEqual([
      expect.objectContaining({ id: donor.id, ingestUrl: donor.ingestUrl }),
      expect.objectContaining({ id: broken.id, ingestUrl: broken.ingestUrl, secretUnreadable: true, name: broken.name }),
      expect.objectContaining({ id: tokenless.id, ingestUrl: null, secretUnreadable: true, eventType: 'source.x' }),
    ]);
    expect(listed.body.data[0]).not.toHaveProperty('secretUnreadable');
    expect((await h.call('DELETE', `${base}/${tokenless.id}`)).status).toBe(204);
    expect((await h.call('GET', `${base}/${broken.id}/requests`)).status).toBe(200);
    expect((await h.call('DELETE', `${base}/${broken.id}`)).status).toBe(204);
    expect((await h.call('GET', base)).body.data.map((s: { id: string }) => s.id)).toEqual([donor.id]);
    expect(await h.redis.exists(h.store.keys.sourceToken(brokenRecord.tokenHash))).toBe(0);
  });
});
