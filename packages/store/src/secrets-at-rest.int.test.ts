import { randomBytes } from 'node:crypto';
import type { Endpoint } from '@hookrelay/contracts';
import { SecretBox, SecretUnreadableError } from '@hookrelay/secrets';
import { buildEndpoint, useRedisPrefix } from '@hookrelay/testing';
import { createStore, hashSourceToken, type SourceBase, type Store } from './index';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };

/** Every secret value an endpoint holds. */
function secretsOf(endpoint: Endpoint): string[] {
  const auth = endpoint.auth?.type === 'aws-sigv4' ? [endpoint.auth.secretAccessKey, endpoint.auth.sessionToken ?? ''] : [];
  return [endpoint.secret, ...endpoint.previousSecrets.map((s) => s.secret), ...auth];
}

/** An endpoint holding every endpoint secret: signing, retiring, and AWS auth (two secrets). */
function endpointWithSecrets(overrides: Partial<Endpoint> = {}): Endpoint {
  return buildEndpoint({
    url: 'https://receiver.example/hook',
    secret: `sign-${randomBytes(8).toString('hex')}`,
    previousSecrets: [{ secret: `old-${randomBytes(8).toString('hex')}`, expiresAt: Date.now() + 60_000 }],
    auth: {
      type: 'aws-sigv4',
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: `aws-${randomBytes(8).toString('hex')}`,
      region: 'eu-west-1',
      service: 'execute-api',
      sessionToken: `sess-${randomBytes(8).toString('hex')}`,
    },
    ...overrides,
  });
}

interface TestSource extends SourceBase {
  name: string;
  verification: { type: 'header'; headers: Record<string, string> } | { type: 'hmac'; header: string; secret: string };
}

function sourceWithSecrets(): TestSource {
  return {
    id: `src_${randomBytes(6).toString('hex')}`,
    subscriberId: 'sub_test',
    token: randomBytes(32).toString('base64url'),
    createdAt: Date.now(),
    name: 'alerts',
    verification: {
      type: 'header',
      headers: { 'x-token': `hdr-${randomBytes(8).toString('hex')}`, 'x-other': `hdr2-${randomBytes(8).toString('hex')}` },
    },
  };
}

function unreadable(promise: Promise<unknown>): Promise<SecretUnreadableError> {
  return promise.then(
    () => {
      throw new Error('expected SecretUnreadableError');
    },
    (err: unknown) => {
      if (err instanceof SecretUnreadableError) return err;
      throw err;
    },
  );
}

describe('secrets at rest in the store', () => {
  const db = useRedisPrefix('sealed');
  let sealing: Store;

  const storeWith = (...keys: Array<typeof k1>) => createStore({ redis: db.redis, prefix: db.prefix, secrets: new SecretBox(keys) });
  beforeEach(() => {
    sealing = storeWith(k1);
  });

  describe('endpoints', () => {
    it('stores every secret sealed under the first key, the rest as it was, and opens them on read', async () => {
      const endpoint = endpointWithSecrets();
      await sealing.endpoints.save(endpoint);
      const raw = (await db.redis.get(sealing.keys.endpoint(endpoint.id))) as string;
      expect(secretsOf(endpoint)).toHaveLength(4);
      for (const secret of secretsOf(endpoint)) expect(raw).not.toContain(secret);
      const stored = JSON.parse(raw);
      for (const sealed of [stored.secret, stored.previousSecrets[0].secret, stored.auth.secretAccessKey, stored.auth.sessionToken]) {
        expect(sealed).toEqual({ alg: 'aes-256-gcm', kid: 'k1', iv: expect.any(String), ct: expect.any(String) });
      }
      expect(stored.auth.accessKeyId).toBe('AKIDEXAMPLE');
      expect(stored.url).toBe(endpoint.url);
      expect(await sealing.endpoints.get(endpoint.id)).toEqual(endpoint);
    });

    it('reads summaries, lists and fan-out sets without any key, and only the full read needs one', async () => {
      const endpoint = endpointWithSecrets();
      await sealing.endpoints.save(endpoint);
      const keyless = storeWith();
      const summary = await keyless.endpoints.getSummary(endpoint.id);
      expect(summary).toMatchObject({
        id: endpoint.id,
        url: endpoint.url,
        previousSecrets: [{ expiresAt: endpoint.previousSecrets[0]!.expiresAt }],
        auth: { type: 'aws-sigv4', accessKeyId: 'AKIDEXAMPLE', hasSessionToken: true, configured: true },
      });
      for (const secret of secretsOf(endpoint)) expect(JSON.stringify(summary)).not.toContain(secret);
      expect(summary).not.toHaveProperty('secret');
      expect((await keyless.endpoints.list('sub_test', { limit: 10 })).items.map((e) => e.id)).toEqual([endpoint.id]);
      expect((await keyless.endpoints.listAll('sub_test')).map((e) => e.id)).toEqual([endpoint.id]);
      const err = await unreadable(keyless.endpoints.get(endpoint.id));
      expect(err).toMatchObject({
        reason: 'no_keys',
        keyId: 'k1',
        context: { record: 'endpoint', recordId: endpoint.id, field: 'secret' },
      });
    });

    it('does not decrypt a ciphertext copied from one endpoint record into another', async () => {
      const a = endpointWithSecrets();
      const b = endpointWithSecrets();
      await sealing.endpoints.save(a);
      await sealing.endpoints.save(b);
      const storedA = JSON.parse((await db.redis.get(sealing.keys.endpoint(a.id))) as string);
      const storedB = JSON.parse((await db.redis.get(sealing.keys.endpoint(b.id))) as string);
      await db.redis.set(sealing.keys.endpoint(b.id), JSON.stringify({ ...storedB, secret: storedA.secret }));
      const err = await unreadable(sealing.endpoints.get(b.id));
      expect(err).toMatchObject({ reason: 'tampered', context: { recordId: b.id, field: 'secret' } });
      expect(err.message).not.toContain(a.secret);
      expect((await sealing.endpoints.get(a.id))?.secret).toBe(a.secret);
      // Nor into another field of the same record.
      await db.redis.set(sealing.keys.endpoint(a.id), JSON.stringify({ ...storedA, secret: storedA.auth.secretAccessKey }));
      expect((await unreadable(sealing.endpoints.get(a.id))).reason).toBe('tampered');
    });

    it('updates the fields named and keeps the sealed secrets it did not touch, even without the key that sealed them', async () => {
      const endpoint = endpointWithSecrets();
      await sealing.endpoints.save(endpoint);
      const other = storeWith(k2);
      await other.endpoints.update(endpoint.id, { status: 'disabled', disabledReason: 'manual: test', description: 'paused' });
      await other.endpoints.update(endpoint.id, {
        status: 'active',
        disabledReason: undefined,
        auth: { type: 'bearer', token: 'new-bearer-token' },
      });
      const stored = JSON.parse((await db.redis.get(sealing.keys.endpoint(endpoint.id))) as string);
      expect(stored).not.toHaveProperty('disabledReason');
      expect(stored.auth.token).toMatchObject({ kid: 'k2' });
      const both = storeWith(k2, k1);
      expect(await both.endpoints.get(endpoint.id)).toEqual({
        ...endpoint,
        status: 'active',
        description: 'paused',
        auth: { type: 'bearer', token: 'new-bearer-token' },
      });
    });

    it('opens secrets stored as plain text before keys were configured', async () => {
      const endpoint = endpointWithSecrets();
      await storeWith().endpoints.save(endpoint);
      expect(await db.redis.get(sealing.keys.endpoint(endpoint.id))).toContain(endpoint.secret);
      expect(await sealing.endpoints.get(endpoint.id)).toEqual(endpoint);
    });
  });

  describe('sources', () => {
    it('stores the ingest token and every verification secret sealed, keeps the token findable by its hash, and deletes without a key', async () => {
      const source = sourceWithSecrets();
      await sealing.sources.create(source, 100);
      const raw = (await db.redis.get(sealing.keys.source(source.id))) as string;
      expect(raw).not.toContain(source.token);
      if (source.verification.type !== 'header') throw new Error('fixture');
      for (const value of Object.values(source.verification.headers)) expect(raw).not.toContain(value);
      expect(JSON.parse(raw)).toMatchObject({
        tokenHash: hashSourceToken(source.token),
        verification: { headers: { 'x-token': { kid: 'k1' }, 'x-other': { kid: 'k1' } } },
      });
      expect(await sealing.sources.findByToken<TestSource>(source.token)).toEqual(source);
      expect(await sealing.sources.list<TestSource>('sub_test', { limit: 20 })).toEqual({
        items: [{ source, unreadable: null, verifiedAt: null }],
        // What the page read, sealed: the work budget charges a page by it.
        storedChars: raw.length,
      });

      const keyless = storeWith();
      expect(await keyless.sources.getOwner(source.id)).toEqual({ id: source.id, subscriberId: 'sub_test' });
      expect((await unreadable(keyless.sources.get(source.id))).context).toMatchObject({ record: 'source', field: 'token' });
      // A list still lists it: what cannot be opened is null, and the reason comes with it.
      const {
        items: [listed],
      } = await keyless.sources.list<TestSource>('sub_test', { limit: 20 });
      expect(listed?.unreadable?.context).toMatchObject({ record: 'source', field: 'token' });
      expect(listed?.source).toMatchObject({
        id: source.id,
        name: source.name,
        token: null,
        verification: { headers: { 'x-token': null } },
      });
      await keyless.sources.delete({ id: source.id, subscriberId: 'sub_test' });
      expect(await db.redis.exists(sealing.keys.source(source.id), sealing.keys.sourceToken(hashSourceToken(source.token)))).toBe(0);
    });

    it('opens a source it read, by token, id or page, without copying it, even one saved with the largest matches before their limits', async () => {
      // What the API accepted before the limits on matches: 20 paths of 480 characters, each
      // expecting 270 empty objects (a 26 KB record of 5,400 objects, read on every ingest request).
      const matches = Object.fromEntries(
        Array.from({ length: 20 }, (_, i) => [
          `$.${String.fromCharCode(97 + i)}${'k'.repeat(477)}`,
          Array.from({ length: 270 }, () => ({})),
        ]),
      );
      const source = { ...sourceWithSecrets(), matches };
      await sealing.sources.create(source, 100);
      const copies = jest.spyOn(globalThis, 'structuredClone');
      try {
        expect(await sealing.sources.findByToken(source.token)).toEqual(source);
        expect(await sealing.sources.get(source.id)).toEqual(source);
        expect((await sealing.sources.list('sub_test', { limit: 20 })).items).toEqual([{ source, unreadable: null, verifiedAt: null }]);
        expect(copies).not.toHaveBeenCalled();
      } finally {
        copies.mockRestore();
      }
    });

    it('seals hmac secrets and refuses a header value moved to another header name', async () => {
      const hmac: TestSource = {
        ...sourceWithSecrets(),
        verification: { type: 'hmac', header: 'x-hub-signature-256', secret: 'hmac-secret-value-1234' },
      };
      await sealing.sources.create(hmac, 100);
      expect(await db.redis.get(sealing.keys.source(hmac.id))).not.toContain('hmac-secret-value-1234');
      expect((await sealing.sources.get<TestSource>(hmac.id))?.verification).toEqual(hmac.verification);

      const headers = sourceWithSecrets();
      await sealing.sources.create(headers, 100);
      const stored = JSON.parse((await db.redis.get(sealing.keys.source(headers.id))) as string);
      stored.verification.headers['x-other'] = stored.verification.headers['x-token'];
      await db.redis.set(sealing.keys.source(headers.id), JSON.stringify(stored));
      expect((await unreadable(sealing.sources.get(headers.id))).context.field).toBe('verification.headers.x-other');
    });
  });
});
