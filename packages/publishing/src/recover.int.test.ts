import type { Endpoint } from '@hookrelay/contracts';
import { pendingDelivery } from '@hookrelay/store';
import { useTestStore } from '@hookrelay/store/src/test-store';
import { buildEndpoint, buildEvent, watchCommands } from '@hookrelay/testing';
import { Publisher } from './publisher';

describe('Publisher.recover', () => {
  const db = useTestStore('recover');
  const sid = 'sub_recover';
  let endpoint: Endpoint;
  let publisher: Publisher;

  beforeEach(async () => {
    endpoint = buildEndpoint({ subscriberId: sid, url: 'http://127.0.0.1:9/recover' });
    await db.store.endpoints.save(endpoint);
    publisher = new Publisher({ store: db.store });
  });

  /**
   * `count` ended deliveries to the endpoint, a millisecond apart and oldest first, written through
   * the store without the scheduler; those `failed(i)` picks failed, the rest delivered. Answers the
   * failed ones' ids.
   */
  async function endedHistory(count: number, failed: (i: number) => boolean): Promise<string[]> {
    const start = Date.now() - count - 60_000;
    const events = Array.from({ length: count }, (_, i) =>
      buildEvent({ subscriberId: sid, type: 'custom.order.paid', createdAt: start + i }),
    );
    const created = await db.store.deliveries.createForEvents(
      events.map((event) => ({ event, endpoints: [endpoint] })),
      { schedule: false },
    );
    const failedIds: string[] = [];
    for (let at = 0; at < count; at += 500) {
      await Promise.all(
        created.slice(at, at + 500).map(([d], n) => {
          const i = at + n;
          const state = failed(i) ? 'failed' : 'delivered';
          if (state === 'failed') failedIds.push(d!.id);
          return db.store.deliveries.patch(
            { ...pendingDelivery(d!.id, events[i]!, endpoint.id, events[i]!.createdAt), state, attempts: 1 },
            {},
          );
        }),
      );
    }
    return failedIds;
  }

  it('reads at most its scan budget of the log, says where to go on, and recovers every failed delivery once across the calls', async () => {
    const failed = await endedHistory(1000, (i) => i % 10 === 0);
    const budget = 300;
    let recovered = 0;
    let cursor: string | undefined;
    let calls = 0;
    for (;;) {
      const watch = watchCommands(db.redis);
      const result = await publisher.recover(endpoint, { since: 0, cursor }, { scanBudget: budget });
      watch.stop();
      calls++;
      // Each log entry read loads its delivery's record once.
      expect(watch.count('hgetall')).toBeLessThanOrEqual(budget);
      recovered += result.recovered;
      if (result.complete) {
        expect(result.nextCursor).toBeUndefined();
        break;
      }
      expect(result.nextCursor).toEqual(expect.any(String));
      cursor = result.nextCursor;
    }
    expect(calls).toBe(Math.ceil(1000 / budget));
    expect(recovered).toBe(failed.length);
    expect(new Set((await db.store.deliveries.getMany(failed)).map((d) => d.state))).toEqual(new Set(['pending']));
  });

  it('reopens what it found in batches, one script call at a time, never a call per delivery all at once', async () => {
    const failed = await endedHistory(1200, () => true);
    const watch = watchCommands(db.redis);
    const result = await publisher.recover(endpoint, { since: 0 });
    watch.stop();
    expect(watch.maxScriptsAtOnce).toBe(1);
    const reopens = watch.scriptCalls.filter((c) => c.name === 'hookrelayReopenDeliveries');
    expect(reopens.length).toBeGreaterThanOrEqual(1);
    expect(reopens.length).toBeLessThanOrEqual(3);
    expect(Math.max(...reopens.map((c) => c.keys))).toBeLessThanOrEqual(500);
    // Every entry read counts, those a page re-reads after the previous one stopped mid-chunk too.
    expect(result).toEqual({ recovered: 1200, complete: true, scanned: expect.any(Number) });
    expect(result.scanned).toBeGreaterThanOrEqual(1200);
    expect(await db.store.lanes.liveFor(endpoint.id)).toHaveLength(failed.length);
  });
});
