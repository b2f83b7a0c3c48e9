import { newId } from '@hookrelay/contracts';
import { useTestStore } from './test-store';

describe('the per-subscriber publish rate (GCRA in Redis)', () => {
  const sid = newId('sub');
  const t0 = 1_800_000_000_000;
  const db = useTestStore('rate');

  it('admits a second of burst, then one event per interval, with a rate that does not divide 1000', async () => {
    const verdicts = [];
    for (let i = 0; i < 4; i++) verdicts.push(await db.store.publishRate.take(sid, 1, 3, t0));
    expect(verdicts).toEqual([null, null, null, { retryAfterMs: 334 }]);
    expect(await db.store.publishRate.take(sid, 1, 3, t0 + 333)).toEqual({ retryAfterMs: 1 });
    expect(await db.store.publishRate.take(sid, 1, 3, t0 + 334)).toBeNull();
  });

  it('holds the long-run rate: 10 s of requests every 10 ms at 7/s admit 7 a second plus the first burst', async () => {
    let admitted = 0;
    for (let ms = 0; ms < 10_000; ms += 10) if ((await db.store.publishRate.take(sid, 1, 7, t0 + ms)) === null) admitted++;
    expect(admitted).toBe(7 + 69);
  });

  it('counts each event of a batch; one larger than a second passes when the budget is full, and the debt is waited out', async () => {
    expect(await db.store.publishRate.take(sid, 4, 10, t0)).toBeNull();
    expect(await db.store.publishRate.take(sid, 7, 10, t0)).toEqual({ retryAfterMs: 100 });
    expect(await db.store.publishRate.take(sid, 6, 10, t0)).toBeNull();
    expect(await db.store.publishRate.take(sid, 25, 10, t0)).toEqual({ retryAfterMs: 1000 });
    expect(await db.store.publishRate.take(sid, 25, 10, t0 + 1000)).toBeNull();
    expect(await db.store.publishRate.take(sid, 1, 10, t0 + 1000)).toEqual({ retryAfterMs: 1600 });
  });

  it('keeps each subscriber apart, and its key expires once the budget is full again', async () => {
    const other = newId('sub');
    expect(await db.store.publishRate.take(sid, 5, 5, t0)).toBeNull();
    expect(await db.store.publishRate.take(other, 5, 5, t0)).toBeNull();
    expect(await db.store.publishRate.take(sid, 1, 5, t0)).not.toBeNull();
    const ttl = await db.redis.pttl(db.store.keys.subscriberPublishRate(sid));
    expect(ttl).toBeGreaterThan(1000);
    expect(ttl).toBeLessThanOrEqual(2000);
  });
});
