import { buildEvent } from '@hookrelay/testing';
import { HOUR_MS, HOURS_KEPT, pendingDelivery } from './index';
import { useTestStore } from './test-store';

const T0 = Date.UTC(2026, 11, 1, 10); // 10:00 UTC

describe("an endpoint's attempts per hour, counted with each attempt", () => {
  let clock: number;
  const db = useTestStore('hourly', { now: () => clock });
  beforeEach(() => {
    clock = T0;
  });

  let deliveries = 0;
  /** Records attempt `n` of delivery `id` to `endpointId` at `at`: ok a 2xx; `final` as the worker decides; without `health` as an attempt never sent. */
  async function attempt(
    endpointId: string,
    at: number,
    ok: boolean,
    opts: { id?: string; n?: number; final?: 'delivered' | 'failed' | 'none'; health?: boolean } = {},
  ): Promise<void> {
    clock = at;
    const final = opts.final ?? (ok ? 'delivered' : 'failed');
    const delivery = pendingDelivery(opts.id ?? `dlv_hourly${deliveries++}`, buildEvent(), endpointId, at);
    const n = opts.n ?? 1;
    await db.store.deliveries.recordAttempt(
      delivery,
      { attempt: n, startedAt: at, durationMs: 1, outcome: ok ? 'delivered' : final === 'none' ? 'retry' : 'failed', requestHeaders: {} },
      { state: final === 'none' ? 'retrying' : final, attempts: n },
      opts.health === false ? undefined : { endpointId, ok, final },
    );
  }

  it('counts delivered and failed attempts (retried or not) in the hour each ended, a second either side of the hour apart', async () => {
    await attempt('ep1', T0 + 5 * 60_000, true);
    await attempt('ep1', T0 + 10 * 60_000, false, { id: 'dlv_retried', final: 'none' });
    await attempt('ep1', T0 + HOUR_MS - 1000, false, { id: 'dlv_retried', n: 2, final: 'none' });
    await attempt('ep1', T0 + HOUR_MS + 1000, true, { id: 'dlv_retried', n: 3 });
    await attempt('ep1', T0 + HOUR_MS + 2000, false);
    expect(await db.store.hourlyCounts.read('ep1', T0 - HOUR_MS, T0 + 2 * HOUR_MS)).toEqual([
      { start: T0 - HOUR_MS, delivered: 0, failed: 0 },
      { start: T0, delivered: 1, failed: 2 },
      { start: T0 + HOUR_MS, delivered: 1, failed: 1 },
    ]);
    expect(await db.store.hourlyCounts.read('ep-other', T0, T0 + HOUR_MS)).toEqual([{ start: T0, delivered: 0, failed: 0 }]);
  });

  it('counts an attempt once: the same attempt recorded again (a script call run twice) counts nothing more', async () => {
    await attempt('ep2', T0, false, { id: 'dlv_twice', final: 'none' });
    await attempt('ep2', T0 + 1, false, { id: 'dlv_twice', final: 'none' });
    expect(await db.store.hourlyCounts.read('ep2', T0, T0 + HOUR_MS)).toEqual([{ start: T0, delivered: 0, failed: 1 }]);
  });

  it('does not count an attempt that was never sent (endpoint deleted or disabled, event expired)', async () => {
    await attempt('ep3', T0, false, { health: false });
    expect(await db.redis.exists(db.store.keys.endpointHourlyCounts('ep3'))).toBe(0);
  });

  it(`keeps the last ${HOURS_KEPT} hours only, however many hours are written, and expires with them`, async () => {
    for (let h = 0; h < 3 * HOURS_KEPT; h++) {
      await attempt('ep4', T0 + h * HOUR_MS, true);
      await attempt('ep4', T0 + h * HOUR_MS + 1, false);
    }
    const key = db.store.keys.endpointHourlyCounts('ep4');
    const fields = await db.redis.hkeys(key);
    expect(fields.filter((f) => /^\d+[df]$/.test(f))).toHaveLength(2 * HOURS_KEPT);
    expect(fields.length).toBeLessThanOrEqual(2 * HOURS_KEPT + 1);
    const pttl = await db.redis.pttl(key);
    expect(pttl).toBeGreaterThan((HOURS_KEPT - 1) * HOUR_MS);
    expect(pttl).toBeLessThanOrEqual(HOURS_KEPT * HOUR_MS);
    const last = T0 + (3 * HOURS_KEPT - 1) * HOUR_MS;
    const kept = await db.store.hourlyCounts.read('ep4', last - HOURS_KEPT * HOUR_MS, last + HOUR_MS);
    expect(kept[0]).toEqual({ start: last - HOURS_KEPT * HOUR_MS, delivered: 0, failed: 0 });
    expect(kept.slice(1).every((h) => h.delivered === 1 && h.failed === 1)).toBe(true);
  });

  it('forgets the counts when the endpoint is deleted, and an attempt ending after the delete does not bring them back', async () => {
    await attempt('ep5', T0, true);
    await db.store.endpoints.delete({ id: 'ep5', subscriberId: 'sub_hourly' });
    const key = db.store.keys.endpointHourlyCounts('ep5');
    expect(await db.redis.exists(key)).toBe(0);
    // An attempt in flight at the delete (or a test send) ends after it.
    await attempt('ep5', T0 + 1000, false);
    await attempt('ep5', T0 + HOUR_MS, true);
    expect(await db.redis.exists(key)).toBe(0);
  });
});
