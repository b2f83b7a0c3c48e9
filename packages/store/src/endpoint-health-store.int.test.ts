import { buildEndpoint, buildEvent } from '@hookrelay/testing';
import { pendingDelivery, type FailureStreak } from './index';
import { useTestStore } from './test-store';

describe('endpoint health, written with each attempt', () => {
  let clock: number;
  const db = useTestStore('health', { now: () => clock });
  beforeEach(() => {
    clock = 1000;
  });

  /** Records one attempt of a fresh delivery to `endpointId` at `at`; returns the streak after it. */
  async function attempt(endpointId: string, at: number, ok: boolean, final: 'delivered' | 'failed' | 'none'): Promise<FailureStreak> {
    clock = at;
    const event = buildEvent();
    const [[d] = []] = await db.store.deliveries.createForEvents([
      { event, endpoints: [buildEndpoint({ id: endpointId, url: 'http://127.0.0.1:9/' })] },
    ]);
    const state = final === 'none' ? 'retrying' : final;
    const record = {
      attempt: 1,
      startedAt: at,
      durationMs: 1,
      outcome: ok ? 'delivered' : final === 'none' ? 'retry' : 'failed',
      requestHeaders: {},
    } as const;
    return (
      await db.store.deliveries.recordAttempt(
        pendingDelivery(d!.id, event, endpointId, at),
        record,
        { state, attempts: 1 },
        { endpointId, ok, final },
      )
    ).streak;
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

  it('starts the streak afresh on reset and forgets everything on delete', async () => {
    await attempt('ep3', 1, false, 'failed');
    await attempt('ep3', 2, false, 'failed');
    await db.store.health.resetStreak('ep3');
    expect(await db.store.health.get('ep3')).toMatchObject({ consecutiveFailures: 0, failingSince: null, lastFailureAt: 2, sampleSize: 2 });
    expect(await attempt('ep3', 3, false, 'failed')).toEqual({ consecutiveFailures: 1, failingSince: 3 });
    await db.store.health.delete('ep3');
    expect(await db.store.health.get('ep3')).toEqual({
      lastSuccessAt: null,
      lastFailureAt: null,
      consecutiveFailures: 0,
      failingSince: null,
      successRate: null,
      sampleSize: 0,
    });
    expect(await db.redis.exists(db.store.keys.endpointHealth('ep3'), db.store.keys.endpointOutcomes('ep3'))).toBe(0);
  });
});
