import { watchCommands } from '@hookrelay/testing';
import { useApiHarness, type ApiHarness } from '../api-harness';
import { MAX_FILTERED_LISTINGS_IN_FLIGHT } from '../subscriber-limits';
import { createSource, ingest, newSubscriber } from './source-test-kit';

const TOKEN = { type: 'header', headers: { 'x-source-token': 'listing-secret-value-1' } };
const CURSOR_REFUSED = { path: 'cursor', message: 'not a cursor from a previous page (omit it for the first page)' };

/** The largest `matches` a source may have: 20 paths of 499 characters and their expected values, 16 KB together. */
function largestMatches(): Record<string, string> {
  return Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`$.${String(i).padStart(2, '0')}${'a'.repeat(495)}`, 'x'.repeat(318)]));
}

type Created = { id: string; body: { createdAt: number } };

/** `n` sources of `sid`, one after another, in the listing's order: creation time, then id. */
async function createSources(h: ApiHarness, sid: string, n: number): Promise<string[]> {
  const created: Created[] = [];
  for (let i = 0; i < n; i++)
    created.push(await createSource(h, sid, { name: `source ${i}`, eventType: 'source.listed', verification: TOKEN }));
  return inListingOrder(created);
}

function inListingOrder(created: Created[]): string[] {
  return [...created].sort((a, b) => a.body.createdAt - b.body.createdAt || (a.id < b.id ? -1 : 1)).map((s) => s.id);
}

/**
 * Every page of the listing at `limit`, following nextCursor to the end: each page's ids.
 * `between(i)` runs after page i is read, before the next one is asked for.
 */
async function pagesOf(h: ApiHarness, sid: string, limit: number, between?: (page: number) => Promise<void>): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const res = await h.call('GET', `/v1/subscribers/${sid}/sources?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status).toBe(200);
    pages.push(res.body.data.map((s: { id: string }) => s.id));
    cursor = res.body.nextCursor;
    if (cursor) await between?.(pages.length - 1);
  } while (cursor && pages.length < 100);
  return pages;
}

describe('GET .../sources', () => {
  const h = useApiHarness({ worker: false });

  it('reads a page of sources and their verified marks in a number of Redis commands that does not grow with the sources', async () => {
    const { sid } = await newSubscriber(h);
    const sources: Array<Awaited<ReturnType<typeof createSource>>> = [];
    for (let i = 0; i < 12; i++) sources.push(await createSource(h, sid, { eventType: 'source.listed', verification: TOKEN }));
    // Two of them verified, by a request that passed.
    for (const s of [sources[3]!, sources[7]!])
      expect((await ingest(h, s.ingestUrl, { body: '{}', headers: { 'x-source-token': 'listing-secret-value-1' } })).status).toBe(202);

    const watch = watchCommands(h.redis);
    const res = await h.call('GET', `/v1/subscribers/${sid}/sources`);
    watch.stop();
    expect(res.status).toBe(200);
    expect(res.body.data.map((s: { id: string }) => s.id)).toEqual(inListingOrder(sources));
    expect(res.body.nextCursor).toBeNull();
    const statusOf = new Map(res.body.data.map((s: { id: string; status: string }) => [s.id, s.status]));
    expect(sources.map((s) => statusOf.get(s.id))).toEqual(sources.map((_s, i) => (i === 3 || i === 7 ? 'verified' : 'unverified')));
    expect(res.body.data.find((s: { id: string }) => s.id === sources[3]!.id).verifiedAt).toEqual(expect.any(Number));
    // The index, then the records with their marks, ten sources a read: a mark read apart was one more each.
    expect(watch.count('get')).toBe(0);
    expect(watch.count('zrangebyscore')).toBe(1);
    expect(watch.count('mget')).toBe(2);
  });

  it('pages oldest first with limit and cursor, each source exactly once, 20 a page by default', async () => {
    const { sid } = await newSubscriber(h);
    const ids = await createSources(h, sid, 23);

    const pages = await pagesOf(h, sid, 7);
    expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 2]);
    expect(pages.flat()).toEqual(ids);

    const first = await h.call('GET', `/v1/subscribers/${sid}/sources`);
    expect(first.body.data.map((s: { id: string }) => s.id)).toEqual(ids.slice(0, 20));
    const rest = await h.call('GET', `/v1/subscribers/${sid}/sources?cursor=${first.body.nextCursor}`);
    expect(rest.body).toEqual({ data: expect.any(Array), nextCursor: null });
    expect(rest.body.data.map((s: { id: string }) => s.id)).toEqual(ids.slice(20));
  });

  it('repeats and skips nothing when sources are deleted or created between pages', async () => {
    const { sid } = await newSubscriber(h);
    const ids = await createSources(h, sid, 10);
    const deleted: string[] = [];
    const added: Created[] = [];
    const del = async (id: string) => {
      expect((await h.call('DELETE', `/v1/subscribers/${sid}/sources/${id}`)).status).toBe(204);
      deleted.push(id);
    };

    const pages = await pagesOf(h, sid, 4, async (page) => {
      if (page !== 0) return;
      // The source the cursor names, one already listed, one not listed yet; and a new one.
      await del(ids[3]!);
      await del(ids[0]!);
      await del(ids[6]!);
      added.push(await createSource(h, sid, { name: 'added', eventType: 'source.listed', verification: TOKEN }));
    });

    const listed = pages.flat();
    expect(new Set(listed).size).toBe(listed.length);
    // Page one as it was read, then everything after it that still exists, the new one last.
    expect(listed).toEqual([...ids.slice(0, 4), ...ids.slice(4).filter((id) => !deleted.includes(id)), added[0]!.id]);
  });

  it.each(['0', '101', '2.5', 'many', ''])('refuses limit=%s with 400 naming limit', async (limit) => {
    const { sid } = await newSubscriber(h);
    const res = await h.call('GET', `/v1/subscribers/${sid}/sources?limit=${limit}`);
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'limit' })]);
  });

  it.each(['garbage', 'MTIzOg', 'eDplcF8x', Buffer.from('12:src_x\n').toString('base64url'), 'x'.repeat(201)])(
    'refuses cursor=%s with 400 naming cursor',
    async (cursor) => {
      const { sid } = await newSubscriber(h);
      const res = await h.call('GET', `/v1/subscribers/${sid}/sources?cursor=${cursor}`);
      expect(res.status).toBe(400);
      if (cursor.length <= 200) expect(res.body.error.details).toEqual([CURSOR_REFUSED]);
      else expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(['cursor', 'cursor']);
    },
  );

  it("never lists another subscriber's sources, and another subscriber's cursor shows nothing of theirs", async () => {
    const { sid: mine } = await newSubscriber(h);
    const { sid: theirs, key: theirKey } = await newSubscriber(h);
    // Created in turns, so each subscriber's sources fall between the other's in time.
    const own: Created[] = [];
    const other: Created[] = [];
    for (let i = 0; i < 6; i++) {
      own.push(await createSource(h, mine, { name: `mine ${i}`, eventType: 'source.listed', verification: TOKEN }));
      other.push(await createSource(h, theirs, { name: `theirs ${i}`, eventType: 'source.listed', verification: TOKEN }));
    }
    expect((await pagesOf(h, mine, 4)).flat()).toEqual(inListingOrder(own));
    expect((await pagesOf(h, theirs, 4)).flat()).toEqual(inListingOrder(other));

    // Their cursor on my listing is only a position in time: it answers my sources after it, never theirs.
    const theirPage = await h.call('GET', `/v1/subscribers/${theirs}/sources?limit=2`, { key: theirKey });
    const crossed = await h.call('GET', `/v1/subscribers/${mine}/sources?limit=100&cursor=${theirPage.body.nextCursor}`);
    expect(crossed.status).toBe(200);
    const at = other.find((s) => s.id === theirPage.body.data[1].id)!.body.createdAt;
    const mineAfter = inListingOrder(
      own.filter((s) => s.body.createdAt > at || (s.body.createdAt === at && s.id > theirPage.body.data[1].id)),
    );
    expect(crossed.body).toEqual({ data: expect.any(Array), nextCursor: null });
    expect(crossed.body.data.map((s: { id: string }) => s.id)).toEqual(mineAfter);
    expect(JSON.stringify(crossed.body)).not.toMatch(/theirs/);
    // Their key cannot list mine, with any cursor: as if I did not exist.
    expect((await h.call('GET', `/v1/subscribers/${mine}/sources?cursor=${theirPage.body.nextCursor}`, { key: theirKey })).status).toBe(
      404,
    );
  });

  it(`takes one of the ${MAX_FILTERED_LISTINGS_IN_FLIGHT} places heavy listings share: more at once are 429 listings_in_flight naming limit`, async () => {
    const { sid } = await newSubscriber(h);
    const { sid: other } = await newSubscriber(h);
    // The quota's 50 sources, each with the largest matches: ~0.85 MB a listing of them all.
    for (let i = 0; i < 50; i++) await createSource(h, sid, { eventType: 'source.heavy', verification: TOKEN, matches: largestMatches() });
    await createSource(h, other, { eventType: 'source.light', verification: TOKEN });

    const answers = await Promise.all([
      ...Array.from({ length: 8 }, () => h.call('GET', `/v1/subscribers/${sid}/sources?limit=100`)),
      h.call('GET', `/v1/subscribers/${other}/sources`),
    ]);
    const mine = answers.slice(0, 8);
    const refused = mine.filter((a) => a.status === 429);
    const served = mine.filter((a) => a.status === 200);
    expect(refused.length + served.length).toBe(8);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(served.length).toBeGreaterThanOrEqual(1);
    for (const a of served) expect(a.body.data).toHaveLength(50);
    expect([refused[0]!.body.error.code, refused[0]!.headers.get('retry-after')]).toEqual(['listings_in_flight', '1']);
    expect(refused[0]!.body.error.details).toEqual([{ path: 'limit', message: `at most ${MAX_FILTERED_LISTINGS_IN_FLIGHT} at once` }]);
    // Another subscriber's listing is not counted against this one's places.
    expect(answers[8]!.status).toBe(200);
    // Once they end, the places are free again.
    expect((await h.call('GET', `/v1/subscribers/${sid}/sources`)).status).toBe(200);
  });
});

describe('GET .../sources, of sources created in the same millisecond', () => {
  const h = useApiHarness({ worker: false, now: () => 1_715_678_467_000 });

  it('pages them by id, and repeats and skips nothing when the source its cursor names is deleted', async () => {
    const { sid } = await newSubscriber(h);
    const ids = await createSources(h, sid, 9);
    expect((await pagesOf(h, sid, 2)).flat()).toEqual(ids);

    const pages = await pagesOf(h, sid, 3, async (page) => {
      if (page === 0) expect((await h.call('DELETE', `/v1/subscribers/${sid}/sources/${ids[2]}`)).status).toBe(204);
    });
    expect(pages).toEqual([ids.slice(0, 3), ids.slice(3, 6), ids.slice(6)]);
  });

  it('goes on past a page whose sources were all deleted after the index was read', async () => {
    const { sid } = await newSubscriber(h);
    const ids = await createSources(h, sid, 5);
    // What a listing sees when DELETEs land between its index read and its record read: index
    // entries whose records are gone.
    await h.redis.del(h.store.keys.source(ids[0]!), h.store.keys.source(ids[1]!));
    const first = await h.call('GET', `/v1/subscribers/${sid}/sources?limit=2`);
    expect(first.body.data).toEqual([]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    expect((await pagesOf(h, sid, 2)).flat()).toEqual(ids.slice(2));
  });
});

describe('GET .../sources, of a subscriber with 1,000 sources', () => {
  // A clock that moves on each reading: each source its own millisecond, so that a page's index
  // reads do not depend on which sources happened to be created in the same one.
  const h = useApiHarness(() => {
    let now = 1_715_678_467_000;
    return { worker: false, now: () => now++ };
  });

  it('reads a page in the same Redis commands for 1,000 sources as for 21: a page, not the subscriber', async () => {
    const { sid: many } = await newSubscriber(h);
    const { sid: few } = await newSubscriber(h);
    expect((await h.call('PATCH', `/v1/subscribers/${many}`, { body: { limits: { maxSources: 1000 } } })).status).toBe(200);
    for (let i = 0; i < 1000; i += 10)
      await Promise.all(
        Array.from({ length: 10 }, (_, j) => createSource(h, many, { name: `s${i + j}`, eventType: 'source.listed', verification: TOKEN })),
      );
    await createSources(h, few, 21);

    /** The Redis commands one listing request sends, by name, and in all. */
    const commandsOf = async (sid: string, query: string) => {
      const watch = watchCommands(h.redis);
      const res = await h.call('GET', `/v1/subscribers/${sid}/sources${query}`);
      watch.stop();
      expect(res.status).toBe(200);
      return {
        sent: watch.sent,
        zrangebyscore: watch.count('zrangebyscore'),
        mget: watch.count('mget'),
        next: res.body.nextCursor as string,
      };
    };
    const fewFirst = await commandsOf(few, '');
    const manyFirst = await commandsOf(many, '');
    const manyLater = await commandsOf(many, `?cursor=${(await commandsOf(many, `?limit=100&cursor=${manyFirst.next}`)).next}`);
    for (const c of [fewFirst, manyFirst, manyLater]) expect(c).toMatchObject({ zrangebyscore: 1, mget: 2 });
    expect(manyFirst.sent).toBe(fewFirst.sent);
    expect(manyLater.sent).toBe(fewFirst.sent);
    // The largest page reads its 100 sources ten a read.
    expect(await commandsOf(many, '?limit=100')).toMatchObject({ zrangebyscore: 1, mget: 10, sent: fewFirst.sent + 8 });
  }, 60_000);
});
