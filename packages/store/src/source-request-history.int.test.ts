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
  const claimKey = (replayKey: string) => db.store.keys.sourceReplay('src_replay', createHash('sha256').update(replayKey).digest('hex'));

  async function claimedFor(replayKey: string, windowMs: number, endsWithRetention: boolean): Promise<number> {
    const claim = await db.store.sources.claimReplay('src_replay', replayKey, windowMs, { endsWithRetention });
    expect(claim.claimed).toBe(true);
    if (claim.claimed) await claim.confirm('evt_1');
    return db.redis.pttl(claimKey(replayKey));
  }

  it("last a dedupe header's window, or the retention period when that is shorter", async () => {
    const short = await claimedFor('header:x-delivery:1', 10_000, true);
    expect(short).toBeGreaterThan(9_000);
    expect(short).toBeLessThanOrEqual(10_000);
    const week = await claimedFor('header:x-delivery:2', 7 * 86_400_000, true);
    expect(week).toBeGreaterThan(59_000);
    expect(week).toBeLessThanOrEqual(60_000);
  });

  it("last a signature's whole window, beyond the retention period: a replay is refused while its timestamp passes", async () => {
    const day = await claimedFor('sig:stripe:abc', 86_400_000, false);
    expect(day).toBeGreaterThan(86_399_000);
  });
});
