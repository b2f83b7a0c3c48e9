import type { DeliveryRecord, Endpoint, StoredEvent } from '@hookrelay/contracts';
import { Publisher } from '@hookrelay/publishing';
import { pendingDelivery } from '@hookrelay/store';
import { useTestStore } from '@hookrelay/store/src/test-store';
import { buildEndpoint, buildEvent, watchCommands } from '@hookrelay/testing';
import { EndpointGuard } from './endpoint-guard';
import { testObservability } from './engine-harness';

/** Ended deliveries in the endpoint's history: the old clean-up read each of them twice, ~1.5 MB here. */
const HISTORY = 2000;
/** What one disable of an endpoint with a handful open may move over its connection. */
const DISABLE_BYTES = 32 * 1024;

describe('EndpointGuard: disabling ends what the endpoint has open, whatever its history holds', () => {
  const db = useTestStore('guard');
  const sid = 'sub_guard';
  let endpoint: Endpoint;
  let guard: EndpointGuard;

  beforeEach(async () => {
    const { logger, metrics } = testObservability();
    guard = new EndpointGuard({ store: db.store, publisher: new Publisher({ store: db.store }), logger, metrics, now: Date.now });
    // ioredis sends a script whole the first time Redis has not seen it (~40 KB of Lua here), which
    // a running service did long before: one disable of another endpoint first.
    const warmUp = buildEndpoint({ subscriberId: sid, url: 'http://127.0.0.1:9/' });
    await db.store.endpoints.save(warmUp);
    await db.store.deliveries.createForEvents([{ event: buildEvent({ subscriberId: sid }), endpoints: [warmUp] }]);
    await guard.disable(warmUp, 'manual', 'warming up');
    endpoint = buildEndpoint({ subscriberId: sid, url: 'http://127.0.0.1:9/', eventTypes: ['custom.*'] });
    await db.store.endpoints.save(endpoint);
  });

  /** Bytes the store's connection wrote and read while `fn` ran (its own socket: other suites share the Redis). */
  async function bytesMoved<T>(fn: () => Promise<T>): Promise<{ result: T; bytes: number }> {
    const stream = (db.redis as unknown as { stream: { bytesRead: number; bytesWritten: number } }).stream;
    const before = stream.bytesRead + stream.bytesWritten;
    const result = await fn();
    return { result, bytes: stream.bytesRead + stream.bytesWritten - before };
  }

  function newEvents(count: number): StoredEvent[] {
    return Array.from({ length: count }, () => buildEvent({ subscriberId: sid, type: 'custom.order.paid' }));
  }

  /** `count` deliveries to the endpoint, already delivered: its history, written through the store without the scheduler. */
  async function deliveredHistory(count: number): Promise<string[]> {
    const events = newEvents(count);
    const created = await db.store.deliveries.createForEvents(
      events.map((event) => ({ event, endpoints: [endpoint] })),
      { schedule: false },
    );
    const ids = created.map(([d]) => d!.id);
    await Promise.all(
      ids.map((id, i) =>
        db.store.deliveries.patch(
          { ...pendingDelivery(id, events[i]!, endpoint.id, events[i]!.createdAt), state: 'delivered', attempts: 1 },
          {},
        ),
      ),
    );
    return ids;
  }

  /** Publishes `count` deliveries to the endpoint's lane. */
  async function publish(count: number): Promise<string[]> {
    const created = await db.store.deliveries.createForEvents(newEvents(count).map((event) => ({ event, endpoints: [endpoint] })));
    return created.map(([d]) => d!.id);
  }

  /** Admits up to `max` and adds their jobs (removes the leases), as the admission pump does. */
  async function admit(max: number) {
    const { admitted } = await db.store.lanes.admit({
      laneClass: 'fast',
      waitKey: `${db.prefix}:test-wait`,
      target: 1000,
      max,
      capEndpoint: 1000,
      capSubscriber: 1000,
      leaseMs: 10_000,
      capSleepMs: 30_000,
      heldMaxMs: 600_000,
    });
    if (admitted.length > 0) await db.redis.zrem(db.store.lanes.leasesKey('fast'), ...admitted.map((a) => a.jobId));
    return admitted;
  }

  /** An hour-long retry of each of `count` new deliveries, as a worker records a 503 with Retry-After. */
  async function retrying(count: number): Promise<string[]> {
    const ids = await publish(count);
    for (const a of await admit(count)) {
      const delivery = (await db.store.deliveries.get(a.deliveryId))!;
      await db.store.deliveries.recordAttempt(
        delivery,
        { attempt: 1, startedAt: Date.now(), durationMs: 1, outcome: 'retry', statusCode: 503, requestHeaders: {} },
        { state: 'retrying', attempts: 1, nextAttemptAt: Date.now() + 3_600_000, lastStatusCode: 503 },
        undefined,
        { ticket: a.ticket, lane: 'fast', pace: 'prompt' },
      );
    }
    return ids;
  }

  async function expectEndedByDisable(ids: readonly string[]): Promise<void> {
    const found = await db.store.deliveries.getMany(ids);
    expect(found).toHaveLength(ids.length);
    for (const d of found) {
      expect(d).toMatchObject<Partial<DeliveryRecord>>({ state: 'failed', failureReason: 'endpoint_disabled' });
      expect(d.nextAttemptAt).toBeUndefined();
    }
  }

  async function enable(): Promise<void> {
    await db.store.endpoints.update(endpoint.id, { status: 'active', disabledReason: undefined, disabledAt: undefined });
    await db.store.endpoints.releaseDisable(endpoint.id);
  }

  it('fails the retries, admitted and waiting deliveries of an endpoint with a long history, reading none of its history', async () => {
    const history = await deliveredHistory(HISTORY);
    const open = [...(await retrying(2)), ...(await publish(1))];
    await admit(1); // the newest waits in BullMQ now, its place held
    open.push(...(await publish(2)));
    const bystander = buildEndpoint({ subscriberId: sid, url: 'http://127.0.0.1:9/', eventTypes: ['custom.*'] });
    await db.store.endpoints.save(bystander);
    const [[other] = []] = await db.store.deliveries.createForEvents([{ event: newEvents(1)[0]!, endpoints: [bystander] }]);

    const { result, bytes } = await bytesMoved(() => guard.disable(endpoint, 'gone', 'the receiver answered 410 Gone'));
    expect(result).toEqual({ disabled: true, read: open.length, ended: open.length });
    expect(bytes).toBeLessThan(DISABLE_BYTES);
    await expectEndedByDisable(open);
    expect(await db.store.lanes.liveFor(endpoint.id)).toEqual([]);
    expect(await db.redis.exists(`${db.store.keys.sched()}:due:e:${endpoint.id}`)).toBe(0);
    // The history is as it was, and another endpoint's delivery is still waiting.
    expect((await db.store.deliveries.getMany([history[0]!, history[HISTORY - 1]!])).map((d) => d.state)).toEqual([
      'delivered',
      'delivered',
    ]);
    expect(await db.store.lanes.entry(other!.id)).not.toBeNull();
  });

  it('costs each disable of a disable/enable loop only what was opened since the last one', async () => {
    await deliveredHistory(HISTORY);
    for (let cycle = 0; cycle < 5; cycle++) {
      const open = [...(await retrying(1)), ...(await publish(2))];
      const { result, bytes } = await bytesMoved(() => guard.disable(endpoint, 'manual', 'disabled through the API'));
      expect(result).toEqual({ disabled: true, read: open.length, ended: open.length });
      expect(bytes).toBeLessThan(DISABLE_BYTES);
      await expectEndedByDisable(open);
      await enable();
    }
  });

  it('ends many open deliveries in batches, one script call at a time, with a few commands a delivery', async () => {
    const open = [...(await retrying(200)), ...(await publish(1000))];
    await admit(100);
    const watch = watchCommands(db.redis);
    const ended = await guard.disable(endpoint, 'manual', 'disabled through the API');
    watch.stop();
    expect(ended).toEqual({ disabled: true, read: open.length, ended: open.length });
    await expectEndedByDisable(open);
    expect(await db.store.lanes.liveFor(endpoint.id)).toEqual([]);
    // It was a transaction of five commands to fail each and a script call to forget each, 500 at once.
    expect(watch.maxScriptsAtOnce).toBe(1);
    expect(watch.sent / open.length).toBeLessThan(7);
  });
});
