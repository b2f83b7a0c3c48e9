import Redis from 'ioredis';
import { requireRedisUrl, uniquePrefix } from '@hookrelay/testing';
import { pageNewestFirst, type TimeWindow } from './newest-first';

describe('pageNewestFirst', () => {
  let redis: Redis;
  let key: string;

  beforeAll(() => {
    redis = new Redis(requireRedisUrl());
  });
  afterAll(() => redis.disconnect());
  beforeEach(() => {
    key = `${uniquePrefix('newest')}:z`;
  });
  afterEach(async () => {
    await redis.del(key);
  });

  async function fill(entries: Array<[score: number, member: string]>): Promise<void> {
    for (let i = 0; i < entries.length; i += 1000) await redis.zadd(key, ...entries.slice(i, i + 1000).flat());
  }

  /** Follows cursors to the end; returns the members in order and how many pages it took. */
  async function walk(opts: TimeWindow & { limit: number }, keep: (m: string) => boolean = () => true): Promise<{ members: string[]; pages: number }> {
    const members: string[] = [];
    let cursor: string | undefined;
    for (let pages = 1; pages < 10_000; pages++) {
      const page = await pageNewestFirst<string>(redis, key, { ...opts, cursor }, async (ids) => ids, keep);
      expect(page.items.length).toBeLessThanOrEqual(opts.limit);
      members.push(...page.items);
      if (!page.nextCursor) return { members, pages };
      cursor = page.nextCursor;
    }
    throw new Error('the cursor never ran out');
  }

  /** What a correct listing returns: score descending, then member descending (Redis's order). */
  async function expected(min = '-inf', max = '+inf'): Promise<string[]> {
    return redis.zrevrangebyscore(key, max, min);
  }

  it('returns each member once, newest first, when hundreds share one score across chunk boundaries', async () => {
    const entries: Array<[number, string]> = [];
    for (let i = 0; i < 450; i++) entries.push([5000, `m${String(i).padStart(4, '0')}`]);
    for (let i = 0; i < 30; i++) entries.push([4000 + i, `old${i}`], [6000 + i, `new${i}`]);
    await fill(entries);
    const all = await expected();
    expect(all).toHaveLength(510);
    for (const limit of [1, 7, 199, 200, 201, 1000]) {
      const { members } = await walk({ limit });
      expect([limit, members.length, new Set(members).size]).toEqual([limit, 510, 510]);
      expect(members).toEqual(all);
    }
  });

  it('keeps since and until inclusive, also across pages', async () => {
    await fill(Array.from({ length: 60 }, (_, i) => [100 + Math.floor(i / 3), `e${String(i).padStart(2, '0')}`] as [number, string]));
    const { members } = await walk({ since: 105, until: 110, limit: 4 });
    expect(members).toEqual(await expected('105', '110'));
    expect(members).toHaveLength(18);
    expect((await walk({ since: 110, until: 110, limit: 1 })).members).toEqual(['e32', 'e31', 'e30']);
    expect((await walk({ since: 200, limit: 5 })).members).toEqual([]);
  });

  it('stops a sparse filtered scan with a cursor and picks up where it left off', async () => {
    await fill(Array.from({ length: 12_000 }, (_, i) => [i, `k${String(i).padStart(5, '0')}`] as [number, string]));
    const keep = (m: string) => Number(m.slice(1)) % 2500 === 0;
    const first = await pageNewestFirst<string>(redis, key, { limit: 10 }, async (ids) => ids, keep);
    // Bounded work per request: not all 12000 entries read for one page.
    expect(first.items).toEqual(['k10000', 'k07500']);
    expect(first.nextCursor).toBeDefined();
    const { members, pages } = await walk({ limit: 10 }, keep);
    expect(members).toEqual(['k10000', 'k07500', 'k05000', 'k02500', 'k00000']);
    expect(pages).toBeGreaterThan(1);
  });

  it('skips entries whose record is gone (expired) without ending the listing early', async () => {
    await fill(Array.from({ length: 10 }, (_, i) => [i, `r${i}`] as [number, string]));
    const load = async (ids: string[]) => ids.map((id) => (['r9', 'r7', 'r6', 'r2'].includes(id) ? null : id));
    const first = await pageNewestFirst<string>(redis, key, { limit: 3 }, load, () => true);
    expect(first.items).toEqual(['r8', 'r5', 'r4']);
    const second = await pageNewestFirst<string>(redis, key, { limit: 3, cursor: first.nextCursor }, load, () => true);
    expect(second.items).toEqual(['r3', 'r1', 'r0']);
  });
});
