import { buildEndpoint, buildEvent } from '@hookrelay/testing';
import { pendingDelivery, type FailureStreak } from './index';
import { useTestStore } from './test-store';

describe('endpoint health, written with each attempt', () => {
  let clock: number;
  const db = useTestStore('health', { now: () => clock });
  beforeEach(() => {
    clock = 1000;
  });

  type Final = 'delivered' | 'failed' | 'none';
  /** Records attempt `n` of the delivery at `at` (with its health outcome unless `health` is false); returns the streak after it. */
  type RecordAttempt = (n: number, at: number, ok: boolean, final: Final, health?: boolean) => Promise<FailureStreak>;

  /** A fresh delivery to `endpointId`, and how to record its attempts through the store. */
  async function deliveryTo(endpointId: string): Promise<RecordAttempt> {
    const event = buildEvent();
    const [[d] = []] = await db.store.deliveries.createForEvents([
      { event, endpoints: [buildEndpoint({ id: endpointId, url: 'http://127.0.0.1:9/' })] },
    ]);
    const delivery = pendingDelivery(d!.id, event, endpointId, clock);
    return async (n, at, ok, final, health = true) => {
      clock = at;
      const state = final === 'none' ? 'retrying' : final;
      const record = {
        attempt: n,
        startedAt: at,
        durationMs: 1,
        outcome: ok ? 'delivered' : final === 'none' ? 'retry' : 'failed',
        requestHeaders: {},
      } as const;
      const outcome = health ? { endpointId, ok, final } : undefined;
      return (await db.store.deliveries.recordAttempt(delivery, record, { state, attempts: n }, outcome)).streak;
    };
  }

  /** Records one attempt of a fresh delivery to `endpointId` at `at`; returns the streak after it. */
  async function attempt(endpointId: string, at: number, ok: boolean, final: Final): Promise<FailureStreak> {
    return (await deliveryTo(endpointId))(1, at, ok, final);
  }

  it('counts failed deliveries in the streak, not failed attempts that will be retried, and dates the streak from its first failure', async () => {
    expect(await attempt('ep1', 1000, false, 'none')).toEqual({ consecutiveFailures: 0, failingSince: null });
    expect(await attempt('ep1', 2000, false, 'failed')).toEqual({ consecutiveFailures: 1, failingSince: 2000 });
    expect(await attempt('ep1', 3000, false, 'failed')).toEqual({ consecutiveFailures: 2, failingSince: 2000 });
    expect(await db.store.health.get('ep1')).toEqual({
      lastSuccessAt: null,
      lastFailureAt: 3000,
      consecutiveFailures: 2,
      failingSince: 2000,
      successRate: 0,
      sampleSize: 3,
    });
    expect(await attempt('ep1', 4000, true, 'delivered')).toEqual({ consecutiveFailures: 0, failingSince: null });
    expect(await db.store.health.get('ep1')).toEqual({
      lastSuccessAt: 4000,
      lastFailureAt: 3000,
      consecutiveFailures: 0,
      failingSince: null,
      successRate: 0.25,
      sampleSize: 4,
    });
    expect(await db.store.health.get('ep-other')).toMatchObject({ sampleSize: 0, successRate: null });
  });

  it('rates only the last 100 attempts', async () => {
    for (let i = 0; i < 30; i++) await attempt('ep2', 10 + i, false, 'failed');
    for (let i = 0; i < 100; i++) await attempt('ep2', 100 + i, i % 4 !== 0, i % 4 !== 0 ? 'delivered' : 'failed');
    expect(await db.store.health.get('ep2')).toMatchObject({ successRate: 0.75, sampleSize: 100, lastSuccessAt: 199, lastFailureAt: 196 });
    expect(await db.redis.llen(db.store.keys.endpointOutcomes('ep2'))).toBe(100);
  });

  it('starts the streak afresh on reset, forgets everything when the endpoint is deleted, and records nothing after', async () => {
    await attempt('ep3', 1, false, 'failed');
    await attempt('ep3', 2, false, 'failed');
    await db.store.health.resetStreak('ep3');
    expect(await db.store.health.get('ep3')).toMatchObject({ consecutiveFailures: 0, failingSince: null, lastFailureAt: 2, sampleSize: 2 });
    expect(await attempt('ep3', 3, false, 'failed')).toEqual({ consecutiveFailures: 1, failingSince: 3 });
    // An attempt in flight at the delete ends after it (or a test send does).
    const inFlight = await deliveryTo('ep3');
    await db.store.endpoints.delete({ id: 'ep3', subscriberId: 'sub_health' });
    const forgotten = {
      lastSuccessAt: null,
      lastFailureAt: null,
      consecutiveFailures: 0,
      failingSince: null,
      successRate: null,
      sampleSize: 0,
    };
    expect(await db.store.health.get('ep3')).toEqual(forgotten);
    expect(await inFlight(1, 4, false, 'failed')).toEqual({ consecutiveFailures: 0, failingSince: null });
    expect(await attempt('ep3', 5, true, 'delivered')).toEqual({ consecutiveFailures: 0, failingSince: null });
    expect(await db.store.health.get('ep3')).toEqual(forgotten);
    // Before, those attempts brought both keys back with no expiry: only the tombstone is left, expiring.
    expect(await db.redis.exists(db.store.keys.endpointOutcomes('ep3'))).toBe(0);
    expect(await db.redis.hgetall(db.store.keys.endpointHealth('ep3'))).toEqual({ deleted: '1' });
    expect(await db.redis.pttl(db.store.keys.endpointHealth('ep3'))).toBeGreaterThan(0);
  });

  it('counts a delivery once in a streak however often it fails again, and once more in the next streak', async () => {
    const retried = await deliveryTo('ep4');
    expect(await retried(1, 1000, false, 'failed')).toEqual({ consecutiveFailures: 1, failingSince: 1000 });
    // A person's retry of the same delivery fails too: still one failed delivery.
    expect(await retried(2, 2000, false, 'failed')).toEqual({ consecutiveFailures: 1, failingSince: 1000 });
    expect(await attempt('ep4', 3000, false, 'failed')).toEqual({ consecutiveFailures: 2, failingSince: 1000 });
    await db.store.health.resetStreak('ep4');
    expect(await retried(3, 4000, false, 'failed')).toEqual({ consecutiveFailures: 1, failingSince: 4000 });
    expect(await db.store.health.get('ep4')).toEqual({
      lastSuccessAt: null,
      lastFailureAt: 4000,
      consecutiveFailures: 1,
      failingSince: 4000,
      successRate: 0,
      sampleSize: 4,
    });
  });

  it('ends the streak on a delivered attempt: the next failed delivery, an old one included, starts a new streak dated from then', async () => {
    const early = await deliveryTo('ep5');
    expect(await early(1, 1000, false, 'failed')).toEqual({ consecutiveFailures: 1, failingSince: 1000 });
    expect(await attempt('ep5', 2000, true, 'delivered')).toEqual({ consecutiveFailures: 0, failingSince: null });
    expect(await early(2, 3000, false, 'failed')).toEqual({ consecutiveFailures: 1, failingSince: 3000 });
    expect(await attempt('ep5', 4000, false, 'failed')).toEqual({ consecutiveFailures: 2, failingSince: 3000 });
    expect(await db.store.health.get('ep5')).toMatchObject({ lastSuccessAt: 2000, lastFailureAt: 4000, successRate: 0.25, sampleSize: 4 });
  });

  it('keeps the streak ended through a run of delivered attempts: an old failed delivery counts once in the next streak', async () => {
    const early = await deliveryTo('ep7');
    expect(await early(1, 1000, false, 'failed')).toEqual({ consecutiveFailures: 1, failingSince: 1000 });
    for (const at of [2000, 2100, 2200])
      expect(await attempt('ep7', at, true, 'delivered')).toEqual({ consecutiveFailures: 0, failingSince: null });
    expect(await early(2, 3000, false, 'failed')).toEqual({ consecutiveFailures: 1, failingSince: 3000 });
    // Retried once more in the same streak: still one failed delivery.
    expect(await early(3, 3100, false, 'failed')).toEqual({ consecutiveFailures: 1, failingSince: 3000 });
    expect(await attempt('ep7', 3200, true, 'delivered')).toEqual({ consecutiveFailures: 0, failingSince: null });
    expect(await early(4, 4000, false, 'failed')).toEqual({ consecutiveFailures: 1, failingSince: 4000 });
    expect(await db.store.health.get('ep7')).toMatchObject({
      lastSuccessAt: 3200,
      lastFailureAt: 4000,
      consecutiveFailures: 1,
      failingSince: 4000,
    });
  });

  it('takes an attempt into the health once: the same attempt recorded again changes nothing and answers the streak as it stands', async () => {
    const d = await deliveryTo('ep6');
    expect(await d(1, 1000, false, 'failed')).toEqual({ consecutiveFailures: 1, failingSince: 1000 });
    expect(await d(1, 2000, false, 'failed')).toEqual({ consecutiveFailures: 1, failingSince: 1000 });
    const delivered = await deliveryTo('ep6');
    expect(await delivered(1, 3000, true, 'delivered')).toEqual({ consecutiveFailures: 0, failingSince: null });
    expect(await delivered(1, 4000, true, 'delivered')).toEqual({ consecutiveFailures: 0, failingSince: null });
    expect(await db.store.health.get('ep6')).toEqual({
      lastSuccessAt: 3000,
      lastFailureAt: 1000,
      consecutiveFailures: 0,
      failingSince: null,
      successRate: 0.5,
      sampleSize: 2,
    });
  });

  it('leaves the health alone for an attempt recorded without an outcome (one that could not be made)', async () => {
    expect(await attempt('ep7', 1000, false, 'failed')).toEqual({ consecutiveFailures: 1, failingSince: 1000 });
    const abandoned = await deliveryTo('ep7');
    await abandoned(1, 2000, false, 'failed', false);
    expect(await db.store.health.get('ep7')).toEqual({
      lastSuccessAt: null,
      lastFailureAt: 1000,
      consecutiveFailures: 1,
      failingSince: 1000,
      successRate: 0,
      sampleSize: 1,
    });
  });
});
