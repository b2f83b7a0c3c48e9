import { useApiHarness } from '../api-harness';
import { createSource, historyOf, ingest, newSubscriber } from './source-test-kit';

const TOKEN = { type: 'header', headers: { 'x-source-token': 'ceiling-secret-value-1' } };
const WRONG = { 'x-source-token': 'not-the-secret' };
/** The start of a minute, held still: every request of a test falls in one second's window. */
const NOW = 1_900_000_000_000 - (1_900_000_000_000 % 60_000);

describe("a subscriber's ceiling on requests to all of its source URLs", () => {
  const h = useApiHarness({ worker: false, now: () => NOW, limits: { sourceRequestsPerSecond: 3, sourceRequestsPerMinute: 1000 } });

  it('counts requests before verification across its sources, refuses past it with 429, records the first refusal only, and leaves other subscribers alone', async () => {
    const { sid } = await newSubscriber(h);
    const { sid: other } = await newSubscriber(h);
    const sources = [];
    for (let i = 0; i < 4; i++) sources.push(await createSource(h, sid, { eventType: 'source.ceiling', verification: TOKEN }));
    const elsewhere = await createSource(h, other, { eventType: 'source.ceiling', verification: TOKEN });

    // Each source is far under its own 50 a second; three unverified requests spend the subscriber's 3.
    const answers = [];
    for (const s of sources.slice(0, 3)) answers.push((await ingest(h, s.ingestUrl, { body: '{}', headers: WRONG })).status);
    expect(answers).toEqual([401, 401, 401]);
    const refused = await ingest(h, sources[3]!.ingestUrl, { body: '{}', headers: WRONG });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.json.error).toEqual({
      code: 'rate_limited',
      message: "more than 3 requests per second to the subscriber's sources together",
    });
    // Refused before verification: a request that would pass is refused too.
    const right = await ingest(h, sources[0]!.ingestUrl, { body: '{}', headers: { 'x-source-token': 'ceiling-secret-value-1' } });
    expect(right.status).toBe(429);
    // Another subscriber's sources have their own count.
    expect((await ingest(h, elsewhere.ingestUrl, { body: '{}', headers: WRONG })).status).toBe(401);

    // Only the window's first refusal is recorded, at the source that got it.
    expect(await historyOf(h, sid, sources[3]!.id)).toEqual([
      expect.objectContaining({ status: 429, outcome: 'rejected', reason: expect.stringMatching(/^subscriber's source rate limit: /) }),
    ]);
    expect((await historyOf(h, sid, sources[0]!.id)).map((r) => r.status)).toEqual([401]);
  });

  it("takes the admin's limit for one subscriber over the server's, and the server's again once it is set to null", async () => {
    const { sid } = await newSubscriber(h);
    const source = await createSource(h, sid, { eventType: 'source.ceiling', verification: TOKEN });
    const wrongs = async (n: number) => {
      const statuses: number[] = [];
      for (let i = 0; i < n; i++) statuses.push((await ingest(h, source.ingestUrl, { body: '{}', headers: WRONG })).status);
      return statuses;
    };
    const setLimit = async (value: number | null) => {
      const res = await h.call('PATCH', `/v1/subscribers/${sid}`, { body: { limits: { sourceRequestsPerSecond: value } } });
      expect(res.status).toBe(200);
      return res.body.limits.sourceRequestsPerSecond as number;
    };
    // The clock stands still, so every request is in one second's window: 5 counted, then 2 more.
    expect(await setLimit(5)).toBe(5);
    expect(await wrongs(6)).toEqual([401, 401, 401, 401, 401, 429]);
    expect(await setLimit(7)).toBe(7);
    expect(await wrongs(2)).toEqual([401, 429]);
    // Back to the server's 3, which the window passed long ago.
    expect(await setLimit(null)).toBe(3);
    expect(await wrongs(1)).toEqual([429]);
    const refused = await h.call('PATCH', `/v1/subscribers/${sid}`, { body: { limits: { sourceRequestsPerMinute: 0 } } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([expect.objectContaining({ path: 'limits.sourceRequestsPerMinute' })]);
  });
});
