import { watchCommands } from '@hookrelay/testing';
import { useApiHarness } from '../api-harness';
import { MAX_FILTERED_LISTINGS_IN_FLIGHT } from '../subscriber-limits';
import { createSource, ingest, newSubscriber } from './source-test-kit';

const TOKEN = { type: 'header', headers: { 'x-source-token': 'listing-secret-value-1' } };

/** The largest `matches` a source may have: 20 paths of 500 characters, 16 KB of expected values. */
function largestMatches(): Record<string, string> {
  return Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`$.${String(i).padStart(2, '0')}${'a'.repeat(495)}`, 'x'.repeat(816)]));
}

describe('GET .../sources', () => {
  const h = useApiHarness({ worker: false });

  it('reads every source and its verified mark in a number of Redis commands that does not grow with the sources', async () => {
    const { sid } = await newSubscriber(h);
    const sources = [];
    for (let i = 0; i < 12; i++) sources.push(await createSource(h, sid, { eventType: 'source.listed', verification: TOKEN }));
    // Two of them verified, by a request that passed.
    for (const s of [sources[3]!, sources[7]!])
      expect((await ingest(h, s.ingestUrl, { body: '{}', headers: { 'x-source-token': 'listing-secret-value-1' } })).status).toBe(202);

    const watch = watchCommands(h.redis);
    const res = await h.call('GET', `/v1/subscribers/${sid}/sources`);
    watch.stop();
    expect(res.status).toBe(200);
    expect(res.body.data.map((s: { id: string }) => s.id)).toEqual(sources.map((s) => s.id));
    expect(res.body.data.map((s: { status: string }) => s.status)).toEqual(
      sources.map((_s, i) => (i === 3 || i === 7 ? 'verified' : 'unverified')),
    );
    expect(res.body.data[3].verifiedAt).toEqual(expect.any(Number));
    // The index, then the records with their marks, ten sources a read: a mark read apart was one more each.
    expect(watch.count('get')).toBe(0);
    expect(watch.count('mget')).toBe(2);
  });

  it(`takes one of the ${MAX_FILTERED_LISTINGS_IN_FLIGHT} places heavy listings share: more at once are 429 listings_in_flight naming the sources`, async () => {
    const { sid } = await newSubscriber(h);
    const { sid: other } = await newSubscriber(h);
    // The quota's 50 sources, each with the largest matches: 1.3 MB a listing.
    for (let i = 0; i < 50; i++) await createSource(h, sid, { eventType: 'source.heavy', verification: TOKEN, matches: largestMatches() });
    await createSource(h, other, { eventType: 'source.light', verification: TOKEN });

    const answers = await Promise.all([
      ...Array.from({ length: 8 }, () => h.call('GET', `/v1/subscribers/${sid}/sources`)),
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
    expect(refused[0]!.body.error.details).toEqual([{ path: 'sources', message: `at most ${MAX_FILTERED_LISTINGS_IN_FLIGHT} at once` }]);
    // Another subscriber's listing is not counted against this one's places.
    expect(answers[8]!.status).toBe(200);
    // Once they end, the places are free again.
    expect((await h.call('GET', `/v1/subscribers/${sid}/sources`)).status).toBe(200);
  });
});
