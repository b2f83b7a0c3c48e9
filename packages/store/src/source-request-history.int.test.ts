import { randomBytes } from 'node:crypto';
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
