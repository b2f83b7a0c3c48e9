import type { DeliveryRecord, Endpoint } from '@hookrelay/contracts';
import { buildEndpoint, buildEvent, useTestReceiver, watchCommands, type CommandWatch } from '@hookrelay/testing';
import { useEngineHarness, type EngineHarness } from './engine-harness';

/** Deliveries waiting per endpoint: one is sent (and answered 410), the rest wait on the rate limit. */
const PER_ENDPOINT = 40;
/** One delivery a hundred seconds: nothing but the first is admitted while the test runs. */
const SLOW = { perSecond: 0.01 };

/**
 * A storm of disables, as an audit made it: many endpoints of one subscriber answering 410 at once,
 * each with deliveries waiting. The worker's disables end them one endpoint of a subscriber at a
 * time, in chunks (disable-endings.ts), where each used to end all of its own at once.
 */
describe('when many endpoints of one subscriber answer 410 at once', () => {
  const receiver = useTestReceiver({ status: 410 }, 'each');
  const h = useEngineHarness({ disableEndings: { chunk: 10, pauseMs: 5 } }, 'each');

  /** `count` endpoints of `subscriberId` at one delivery per 100 s, each with PER_ENDPOINT deliveries waiting. */
  async function endpointsWithBacklog(subscriberId: string, count: number): Promise<Endpoint[]> {
    const endpoints = await Promise.all(
      Array.from({ length: count }, () =>
        h.saveEndpoint(buildEndpoint({ subscriberId, url: receiver.url, rateLimit: SLOW, eventTypes: ['custom.*'] })),
      ),
    );
    for (let i = 0; i < PER_ENDPOINT; i++)
      await h.publisher.enqueue([{ event: buildEvent({ subscriberId, type: 'custom.order.paid' }), endpoints }]);
    return endpoints;
  }

  /** Every delivery of `endpoints`, once none of them is open any more. */
  async function endedDeliveries(endpoints: readonly Endpoint[], timeoutMs = 20_000): Promise<DeliveryRecord[]> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const live = await Promise.all(endpoints.map((e) => h.store.lanes.liveFor(e.id)));
      if (live.every((l) => l.length === 0)) break;
      if (Date.now() > until) throw new Error(`${live.flat().length} deliveries still open`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const ids = (await h.redis.keys(`${h.prefix}:dl:*`)).map((k) => k.slice(`${h.prefix}:dl:`.length)).filter((k) => !k.includes(':'));
    const all = await h.store.deliveries.getMany(ids);
    const mine = new Set(endpoints.map((e) => e.id));
    return all.filter((d) => mine.has(d.endpointId));
  }

  /** The ending script's calls, each with the subscriber whose deliveries it ended. */
  async function endingsBySubscriber(watch: CommandWatch, endpoints: readonly Endpoint[]) {
    const subscriberOf = new Map(endpoints.map((e) => [e.id, e.subscriberId]));
    const calls = watch.scriptCalls.filter((c) => c.name === 'hookrelayEndDeliveries' && c.keys > 0);
    return Promise.all(
      calls.map(async (c) => {
        const [first] = await h.store.deliveries.getMany([c.keyNames[0]!.slice(`${h.prefix}:dl:`.length)]);
        return { ...c, subscriberId: subscriberOf.get(first!.endpointId)! };
      }),
    );
  }

  /** The most calls of one subscriber waiting for their answers at once. */
  function mostAtOnce(calls: ReadonlyArray<{ sentAt: number; answeredAt?: number }>): number {
    let most = 0;
    for (const c of calls) most = Math.max(most, calls.filter((o) => o.sentAt <= c.sentAt && (o.answeredAt ?? Infinity) > c.sentAt).length);
    return most;
  }

  function announcements(harness: EngineHarness): string[] {
    return harness.logLines.filter((l) => l.msg === 'endpoint.disabled').map((l) => String(l.endpointId));
  }

  it('ends one endpoint of the subscriber at a time, each delivery once, announces each endpoint once, and another subscriber is not held behind', async () => {
    const crowd = await endpointsWithBacklog('sub_storm', 8);
    const other = await endpointsWithBacklog('sub_bystander', 1);
    const all = [...crowd, ...other];
    const watch = watchCommands(h.workerRedis.store);
    try {
      // The storm starts as the audit's did: the rate limits go, and every endpoint's next delivery meets a 410.
      await Promise.all(all.map((e) => h.store.endpoints.update(e.id, { rateLimit: undefined, updatedAt: Date.now() })));
      const deliveries = await endedDeliveries(all);
      await h.worker.endings.idle();

      expect(deliveries).toHaveLength(all.length * PER_ENDPOINT);
      expect(deliveries.every((d) => d.state === 'failed')).toBe(true);
      const byDisable = deliveries.filter((d) => d.failureReason === 'endpoint_disabled');
      // Those ended by the disable were never sent; the others were each sent once and answered 410.
      expect(deliveries.length - byDisable.length).toBe(receiver.requests.length);
      // Counted once each, but for an attempt in flight when its endpoint was disabled: the disable
      // ends it and counts it, then its 410 is recorded over it (a race older than the chains).
      const counted = await h.metricValue('hookrelay_deliveries_total', { outcome: 'disabled' });
      expect(counted).toBeGreaterThanOrEqual(byDisable.length);
      expect(counted).toBeLessThanOrEqual(byDisable.length + receiver.requests.length);
      expect(announcements(h).sort()).toEqual(all.map((e) => e.id).sort());

      const calls = await endingsBySubscriber(watch, all);
      const storm = calls.filter((c) => c.subscriberId === 'sub_storm');
      const bystander = calls.filter((c) => c.subscriberId === 'sub_bystander');
      expect(storm.length).toBeGreaterThan(crowd.length);
      expect(storm.every((c) => c.keys <= 10)).toBe(true);
      expect(mostAtOnce(storm)).toBe(1);
      // The bystander's endpoint was ended beside the storm's chain, not after it.
      expect(bystander.length).toBeGreaterThan(0);
      expect(Math.max(...bystander.map((c) => c.answeredAt!))).toBeLessThan(Math.max(...storm.map((c) => c.answeredAt!)));
    } finally {
      watch.stop();
    }
  });
});
