import { createHash, randomBytes } from 'node:crypto';
import type { SourceBase } from './index';
import { useTestStore } from './test-store';

describe("a source's request history", () => {
  const db = useTestStore('source-history');
  const record = (id: string) => ({ id, at: Date.now(), method: 'POST', status: 202, outcome: 'published' as const, bytes: 2 });

  it('is written while its source exists, and not again once the source is deleted', async () => {
    const source: SourceBase & { name: string } = {
      id: `src_${randomBytes(6).toString('hex')}`,
      subscriberId: 'sub_history',
      token: randomBytes(32).toString('base64url'),
      createdAt: Date.now(),
      name: 'alerts',
    };
    expect(await db.store.sources.create(source, 10)).toBe(true);
    await db.store.sources.recordRequest(source.id, record('req_1'));
    expect((await db.store.sources.listRequests(source.id, { limit: 10 })).items.map((r) => r.id)).toEqual(['req_1']);

    // A request read before the delete ends after it: its record must not make the history again
    // (with a fresh expiry, where nothing could read or delete it).
    await db.store.sources.delete(source);
    const history = db.store.keys.sourceRequests(source.id);
    expect(await db.redis.exists(history)).toBe(0);
    await db.store.sources.recordRequest(source.id, record('req_2'));
    expect(await db.redis.exists(history)).toBe(0);
  });
});

describe("a source's replay claims", () => {
  const db = useTestStore('source-replay', { retentionMs: 60_000 });

  it('last the window, or the retention period when that is shorter', async () => {
    const short = await db.store.sources.claimReplay('src_replay', 'sig-1', 10_000);
    expect(short.claimed).toBe(true);
    if (!short.claimed) return;
    await short.confirm('evt_1');
    const long = await db.store.sources.claimReplay('src_replay', 'sig-2', 7 * 86_400_000);
    expect(long.claimed).toBe(true);
    if (!long.claimed) return;
    await long.confirm('evt_2');
    const claimKey = (replayKey: string) => db.store.keys.sourceReplay('src_replay', createHash('sha256').update(replayKey).digest('hex'));
    const ttls = [await db.redis.pttl(claimKey('sig-1')), await db.redis.pttl(claimKey('sig-2'))];
    expect(ttls[0]).toBeGreaterThan(9_000);
    expect(ttls[0]).toBeLessThanOrEqual(10_000);
    expect(ttls[1]).toBeGreaterThan(59_000);
    expect(ttls[1]).toBeLessThanOrEqual(60_000);
  });
});
