import { randomBytes } from 'node:crypto';
import type { Endpoint } from '@hookrelay/contracts';
import { SecretBox } from '@hookrelay/secrets';
import { buildEndpoint, useRedisPrefix } from '@hookrelay/testing';
import { createStore, hashSourceToken, rekeyStoredSecrets, type SourceBase } from './index';

const k0 = { id: 'k0', key: randomBytes(32) };
const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };

function endpoint(subscriberId = 'sub_rekey'): Endpoint {
  return buildEndpoint({
    subscriberId,
    url: 'https://receiver.example/hook',
    secret: `s-${randomBytes(12).toString('hex')}`,
    auth: { type: 'basic', username: 'relay', password: `p-${randomBytes(8).toString('hex')}` },
  });
}

function source(): SourceBase & { verification: { type: 'slack'; signingSecret: string } } {
  return {
    id: `src_${randomBytes(6).toString('hex')}`,
    subscriberId: 'sub_rekey',
    token: randomBytes(32).toString('base64url'),
    createdAt: Date.now(),
    verification: { type: 'slack', signingSecret: `slack-${randomBytes(8).toString('hex')}` },
  };
}

describe('rekeyStoredSecrets (npm run rekey)', () => {
  const db = useRedisPrefix('rekey');
  const storeWith = (...keys: Array<typeof k1>) => createStore({ redis: db.redis, prefix: db.prefix, secrets: new SecretBox(keys) });
  const rekey = (keys: Array<typeof k1>, more: Partial<Parameters<typeof rekeyStoredSecrets>[0]> = {}) =>
    rekeyStoredSecrets({ redis: db.redis, prefix: db.prefix, secrets: new SecretBox(keys), batchSize: 7, ...more });
  /** The key ids the stored record's sealed secrets name, or 'plain' for plain text. */
  async function sealedWith(key: string): Promise<string[]> {
    const found: string[] = [];
    JSON.stringify(JSON.parse((await db.redis.get(key)) as string), (k, v: unknown) => {
      if (v && typeof v === 'object' && 'kid' in v) found.push(String((v as { kid: string }).kid));
      else if (['secret', 'password', 'token', 'signingSecret'].includes(k) && typeof v === 'string') found.push('plain');
      return v;
    });
    return found.sort();
  }

  it('seals secrets under an old key and plain-text ones under the first key, in batches, so the old key can go; a second run changes nothing', async () => {
    const underK1 = Array.from({ length: 12 }, () => endpoint());
    const plain = Array.from({ length: 5 }, () => endpoint());
    const sources = [source(), source()];
    for (const e of underK1) await storeWith(k1).endpoints.save(e);
    for (const e of plain) await storeWith().endpoints.save(e);
    for (const s of sources) await storeWith(k1).sources.create(s, 100);
    // Keys beside the records that hold no secret are left alone.
    await storeWith(k1).health.get(underK1[0]!.id);
    await db.redis.set(`${db.prefix}:ep:${underK1[0]!.id}:disabling`, '1');

    const progress: string[] = [];
    const report = await rekey([k2, k1], { onProgress: (p) => progress.push(p.position) });
    expect(report).toEqual({ read: 19, changed: 19, current: 0, unreadable: [], busy: [] });
    expect(progress.length).toBeGreaterThan(2);
    expect(progress[progress.length - 1]).toBe('done');
    for (const e of [...underK1, ...plain]) expect(await sealedWith(`${db.prefix}:ep:${e.id}`)).toEqual(['k2', 'k2']);
    for (const s of sources) expect(await sealedWith(`${db.prefix}:src:${s.id}`)).toEqual(['k2', 'k2']);
    expect(await db.redis.get(`${db.prefix}:ep:${underK1[0]!.id}:disabling`)).toBe('1');

    const k2Only = storeWith(k2);
    for (const e of [...underK1, ...plain]) expect(await k2Only.endpoints.get(e.id)).toEqual(e);
    for (const s of sources) expect(await k2Only.sources.findByToken(s.token)).toEqual(s);

    expect(await rekey([k2, k1])).toEqual({ read: 19, changed: 0, current: 19, unreadable: [], busy: [] });
  });

  it('names the records it cannot read and re-encrypts every other one', async () => {
    const lost = endpoint();
    const fine = endpoint();
    await storeWith(k0).endpoints.save(lost);
    await storeWith(k1).endpoints.save(fine);
    const report = await rekey([k2, k1]);
    expect(report.changed).toBe(1);
    expect(report.unreadable).toEqual([
      {
        key: `${db.prefix}:ep:${lost.id}`,
        record: 'endpoint',
        id: lost.id,
        problem: `a secret of endpoint ${lost.id} (secret) cannot be decrypted: it was encrypted with key "k0", which is not in HOOKRELAY_ENCRYPTION_KEYS`,
      },
    ]);
    expect(await sealedWith(`${db.prefix}:ep:${lost.id}`)).toEqual(['k0', 'k0']);
    expect(await storeWith(k2).endpoints.get(fine.id)).toEqual(fine);
  });

  it('never overwrites a change made between its read and its write: it reads the record again', async () => {
    const target = endpoint();
    await storeWith(k1).endpoints.save(target);
    const service = storeWith(k2, k1);
    let changed = 0;
    const report = await rekey([k2, k1], {
      betweenReadAndWrite: async () => {
        // The running service changes the endpoint (a PATCH) while rekey holds the old copy, twice.
        if (changed++ < 2)
          await service.endpoints.update(target.id, {
            description: `changed ${changed}`,
            auth: { type: 'bearer', token: `tok-${changed}` },
          });
      },
    });
    expect(report).toMatchObject({ read: 1, changed: 1, busy: [] });
    expect(await storeWith(k2).endpoints.get(target.id)).toEqual({
      ...target,
      description: 'changed 2',
      auth: { type: 'bearer', token: 'tok-2' },
    });
  });

  it('reports a record that changes under every attempt as busy instead of overwriting it', async () => {
    const target = endpoint();
    await storeWith(k1).endpoints.save(target);
    const service = storeWith(k1);
    let n = 0;
    const report = await rekey([k2, k1], {
      betweenReadAndWrite: async () => void (await service.endpoints.update(target.id, { description: `edit ${++n}` })),
    });
    expect(report).toMatchObject({ changed: 0, busy: [`${db.prefix}:ep:${target.id}`] });
    expect((await service.endpoints.get(target.id))?.description).toBe(`edit ${n}`);
  });

  it('resumes from a printed position, skipping what was done before it', async () => {
    await storeWith(k1).endpoints.save(endpoint());
    await storeWith(k1).sources.create(source(), 100);
    expect(await rekey([k2, k1], { resumeFrom: 'src:0:0' })).toMatchObject({ read: 1, changed: 1 });
    expect(await rekey([k2, k1], { resumeFrom: 'done' })).toMatchObject({ read: 0 });
    await expect(rekey([k2, k1], { resumeFrom: 'nonsense' })).rejects.toThrow('not a rekey position');
  });

  it('gives sources written before the token hash was stored their hash, so they can be deleted unopened', async () => {
    const s = source();
    await storeWith(k1).sources.create(s, 100);
    const stored = JSON.parse((await db.redis.get(`${db.prefix}:src:${s.id}`)) as string);
    delete stored.tokenHash;
    stored.token = s.token;
    await db.redis.set(`${db.prefix}:src:${s.id}`, JSON.stringify(stored));
    await rekey([k2, k1]);
    expect(JSON.parse((await db.redis.get(`${db.prefix}:src:${s.id}`)) as string).tokenHash).toBe(hashSourceToken(s.token));
  });

  it('refuses to run without a key to seal with', async () => {
    await expect(rekey([])).rejects.toThrow('HOOKRELAY_ENCRYPTION_KEYS is not set');
  });
});
