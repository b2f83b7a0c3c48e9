import { useRedisPrefix } from '@hookrelay/testing';
import { appendToLog, defineHistoryLogCommands, isCursor, pageLogNewestFirst, type TimeWindow } from './history-log';

describe('pageLogNewestFirst', () => {
  const db = useRedisPrefix('log');
  let key: string;

  beforeEach(() => {
    key = `${db.prefix}:x`;
  });

  /** Appends ids at the given milliseconds (which must not go down), as create-event.lua does. */
  async function fill(entries: Array<[ms: number, id: string]>): Promise<void> {
    for (let i = 0; i < entries.length; i += 1000) {
      const pipeline = db.redis.pipeline();
      for (const [ms, id] of entries.slice(i, i + 1000)) pipeline.xadd(key, `${ms}-*`, 'i', id);
      await pipeline.exec();
    }
  }

  async function walk(
    opts: TimeWindow & { limit: number },
    keep: (m: string) => boolean = () => true,
  ): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let cursor: string | undefined;
    for (let pages = 1; pages < 10_000; pages++) {
      const page = await pageLogNewestFirst<string>(db.redis, key, { ...opts, cursor }, async (found) => found, keep);
      expect(page.items.length).toBeLessThanOrEqual(opts.limit);
      ids.push(...page.items);
      if (!page.nextCursor) return { ids, pages };
      expect(isCursor(page.nextCursor)).toBe(true);
      cursor = page.nextCursor;
    }
    throw new Error('the cursor never ran out');
  }

  it('returns each entry once, newest first, when hundreds share one millisecond across chunk boundaries', async () => {
    const entries: Array<[number, string]> = [];
    for (let i = 0; i < 30; i++) entries.push([4000 + i, `old${i}`]);
    for (let i = 0; i < 450; i++) entries.push([5000, `m${String(i).padStart(4, '0')}`]);
    for (let i = 0; i < 30; i++) entries.push([6000 + i, `new${i}`]);
    await fill(entries);
    const all = entries.map(([, id]) => id).reverse();
    for (const limit of [1, 7, 199, 200, 201, 1000]) {
      const { ids } = await walk({ limit });
      expect([limit, ids.length, new Set(ids).size]).toEqual([limit, 510, 510]);
      expect(ids).toEqual(all);
    }
  });

  it('keeps since and until inclusive, also across pages', async () => {
    await fill(Array.from({ length: 60 }, (_, i) => [100 + Math.floor(i / 3), `e${String(i).padStart(2, '0')}`] as [number, string]));
    const { ids } = await walk({ since: 105, until: 110, limit: 4 });
    expect(ids).toEqual(Array.from({ length: 18 }, (_, i) => `e${String(32 - i).padStart(2, '0')}`));
    expect((await walk({ since: 110, until: 110, limit: 1 })).ids).toEqual(['e32', 'e31', 'e30']);
    expect((await walk({ since: 200, limit: 5 })).ids).toEqual([]);
    expect((await walk({ until: 99, limit: 5 })).ids).toEqual([]);
    // Windows reaching before 1970 (which entry ids cannot name) are valid, and mostly empty.
    expect((await walk({ until: -47, limit: 5 })).ids).toEqual([]);
    expect((await walk({ since: -1000, until: 100.5, limit: 5 })).ids).toEqual(['e02', 'e01', 'e00']);
  });

  it('stops a sparse filtered scan with a cursor and picks up where it left off', async () => {
    await fill(Array.from({ length: 12_000 }, (_, i) => [i, `k${String(i).padStart(5, '0')}`] as [number, string]));
    const keep = (m: string) => Number(m.slice(1)) % 2500 === 0;
    const first = await pageLogNewestFirst<string>(db.redis, key, { limit: 10 }, async (ids) => ids, keep);
    // Bounded work per request: not all 12000 entries read for one page.
    expect(first.items).toEqual(['k10000', 'k07500']);
    expect(first.nextCursor).toBeDefined();
    const { ids, pages } = await walk({ limit: 10 }, keep);
    expect(ids).toEqual(['k10000', 'k07500', 'k05000', 'k02500', 'k00000']);
    expect(pages).toBeGreaterThan(1);
  });

  it('skips entries whose record is gone (expired) without ending the listing early', async () => {
    await fill(Array.from({ length: 10 }, (_, i) => [i, `r${i}`] as [number, string]));
    const load = async (ids: string[]) => ids.map((id) => (['r9', 'r7', 'r6', 'r2'].includes(id) ? null : id));
    const first = await pageLogNewestFirst<string>(db.redis, key, { limit: 3 }, load, () => true);
    expect(first.items).toEqual(['r8', 'r5', 'r4']);
    const second = await pageLogNewestFirst<string>(db.redis, key, { limit: 3, cursor: first.nextCursor }, load, () => true);
    expect(second.items).toEqual(['r3', 'r1', 'r0']);
  });

  it('loads only what an unfiltered page shows, and doubles its reads while a filter keeps too few', async () => {
    await fill(Array.from({ length: 1000 }, (_, i) => [i, `u${i}`] as [number, string]));
    const loads: number[] = [];
    const load = async (ids: string[]) => {
      loads.push(ids.length);
      return ids;
    };
    const one = await pageLogNewestFirst<string>(db.redis, key, { limit: 1 }, load, () => true);
    expect([one.items, one.scanned, loads]).toEqual([['u999'], 1, [1]]);

    loads.length = 0;
    const fifty = await pageLogNewestFirst<string>(db.redis, key, { limit: 50 }, load, () => true);
    expect([fifty.items.length, fifty.scanned, loads]).toEqual([50, 50, [50]]);

    // One entry in a hundred kept: 10, 20, 40, 80, 160, then 200 a read, until ten are found.
    loads.length = 0;
    const sparse = await pageLogNewestFirst<string>(db.redis, key, { limit: 10 }, load, (id) => Number(id.slice(1)) % 100 === 0);
    expect(sparse.items).toEqual(['u900', 'u800', 'u700', 'u600', 'u500', 'u400', 'u300', 'u200', 'u100', 'u0']);
    expect(loads).toEqual([10, 20, 40, 80, 160, 200, 200, 200, 90]);
  });

  it('tells its cursors from garbage', () => {
    expect(isCursor(Buffer.from('1795472014728-3').toString('base64url'))).toBe(true);
    expect(isCursor(Buffer.from('1-18446744073709551615').toString('base64url'))).toBe(true);
    const refusedByRedis = ['0-0', '1-18446744073709551616'].map((raw) => Buffer.from(raw).toString('base64url'));
    for (const bad of [
      '',
      'null',
      Buffer.from('1795472014728').toString('base64url'),
      Buffer.from('a-1').toString('base64url'),
      ...refusedByRedis,
    ])
      expect([bad, isCursor(bad)]).toEqual([bad, false]);
  });

  describe('appendToLog', () => {
    const at = (ms: number, nowMs = ms) => ({ ms, retentionMs: 10_000, nowMs });
    beforeAll(() => defineHistoryLogCommands(db.redis));

    it("keeps entries in append order, also when the writer's clock is behind the log, and trims by age and count", async () => {
      await appendToLog(db.redis, key, at(50_000), 'a');
      await appendToLog(db.redis, key, at(40_000), 'b'); // a clock 10 s behind: lands after 'a', not before
      await appendToLog(db.redis, key, at(50_000), 'c');
      expect((await walk({ limit: 10 })).ids).toEqual(['c', 'b', 'a']);
      expect((await walk({ since: 50_000, until: 50_000, limit: 10 })).ids).toEqual(['c', 'b', 'a']);
      expect(await db.redis.pttl(key)).toBeGreaterThan(9_000);

      for (let i = 0; i < 5; i++) await appendToLog(db.redis, key, { ...at(60_000 + i), maxLen: 3 }, `n${i}`);
      expect((await walk({ limit: 10 })).ids).toEqual(['n4', 'n3', 'n2']);
    });

    it('drops entries older than the retention period as new ones arrive', async () => {
      // MINID trimming is approximate per stream node: fill more than one node (100 entries).
      for (let i = 0; i < 300; i++) await appendToLog(db.redis, key, at(1000 + i), `old${i}`);
      await appendToLog(db.redis, key, at(100_000), 'new');
      const left = (await walk({ limit: 1000 })).ids;
      expect(left[0]).toBe('new');
      expect(left.length).toBeLessThan(200);
    });
  });
});
