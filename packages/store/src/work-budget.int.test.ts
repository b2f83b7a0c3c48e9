import { newId } from '@hookrelay/contracts';
import { useTestStore } from './test-store';

describe('the per-subscriber work budget (a token bucket in Redis, charged after the work)', () => {
  const sid = newId('sub');
  const t0 = 1_800_000_000_000;
  const rate = { perSecond: 100, burst: 500 };
  const db = useTestStore('work');

  it('lets a full bucket through, charges into debt, and says how long until the balance is positive again', async () => {
    expect(await db.store.workBudgets.check(sid, rate, t0)).toBeNull();
    // 499 of 500: one unit left.
    expect(await db.store.workBudgets.charge(sid, 499, rate, t0)).toBeNull();
    expect(await db.store.workBudgets.check(sid, rate, t0)).toBeNull();
    // A large request is never cut short: 2,000 units leave a debt of 1,999, paid in 20 s at 100 a second.
    expect(await db.store.workBudgets.charge(sid, 2000, rate, t0)).toEqual({ retryAfterMs: 19_991 });
    expect(await db.store.workBudgets.check(sid, rate, t0 + 19_990)).toEqual({ retryAfterMs: 1 });
    expect(await db.store.workBudgets.check(sid, rate, t0 + 19_991)).toBeNull();
  });

  it('refills at its rate up to the burst, no further', async () => {
    expect(await db.store.workBudgets.charge(sid, 500, rate, t0)).toEqual({ retryAfterMs: 1 });
    // After a minute idle the bucket holds 500 again, not 6,000.
    expect(await db.store.workBudgets.charge(sid, 500, rate, t0 + 60_000)).toEqual({ retryAfterMs: 1 });
  });

  it('owes units, not time: a higher rate (the admin raising it) shortens a debt', async () => {
    expect(await db.store.workBudgets.charge(sid, 1500, rate, t0)).toEqual({ retryAfterMs: 10_001 });
    expect(await db.store.workBudgets.check(sid, { perSecond: 1000, burst: 500 }, t0)).toEqual({ retryAfterMs: 1001 });
    expect(await db.store.workBudgets.check(sid, { perSecond: 1000, burst: 500 }, t0 + 1001)).toBeNull();
  });

  it('a check charges nothing, and a charge of 0 writes no key', async () => {
    for (let i = 0; i < 10; i++) expect(await db.store.workBudgets.check(sid, rate, t0)).toBeNull();
    expect(await db.redis.exists(db.store.keys.subscriberWorkBudget(sid))).toBe(0);
  });

  it('keeps each subscriber apart, and its key expires once the bucket is full again', async () => {
    const other = newId('sub');
    expect(await db.store.workBudgets.charge(sid, 700, rate, t0)).not.toBeNull();
    expect(await db.store.workBudgets.check(other, rate, t0)).toBeNull();
    const ttl = await db.redis.pttl(db.store.keys.subscriberWorkBudget(sid));
    // Full 7 s after now (700 units at 100 a second), kept a second beyond.
    expect(ttl).toBeGreaterThan(7000);
    expect(ttl).toBeLessThanOrEqual(8000);
  });
});
