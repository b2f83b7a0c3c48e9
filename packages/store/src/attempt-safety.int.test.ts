import Redis from 'ioredis';
import type { AttemptRecord, DeliveryRecord, Endpoint, StoredEvent } from '@hookrelay/contracts';
import { buildEndpoint, buildEvent, CuttingProxy, requireRedisUrl } from '@hookrelay/testing';
import { createStore, pendingDelivery } from './index';
import { useTestStore } from './test-store';

// Issue 20, items 5, 6 and 8: reopening is one step; a batched attempt call that fails part-way can
// run again without recording anything twice; the failure streak counts deliveries, not attempts.
describe('delivery state under failures', () => {
  let event: StoredEvent;
  let endpoint: Endpoint;
  const db = useTestStore('attempt-safety');
  beforeEach(() => {
    event = buildEvent({ subscriberId: 'sub_safety' });
    endpoint = buildEndpoint({ subscriberId: 'sub_safety', url: 'http://127.0.0.1:9/' });
  });

  async function newDelivery(e: StoredEvent = event, to: Endpoint = endpoint): Promise<DeliveryRecord> {
    const [[d] = []] = await db.store.deliveries.createForEvents([{ event: e, endpoints: [to] }]);
    return pendingDelivery(d!.id, e, to.id, e.createdAt);
  }

  const attemptOf = (n: number, outcome: AttemptRecord['outcome']): AttemptRecord => ({
    attempt: n,
    startedAt: n,
    durationMs: 1,
    outcome,
    statusCode: outcome === 'delivered' ? 200 : 500,
    requestHeaders: {},
  });

  /** Records the next attempt of `d` as the worker does, under `ticket` (the delivery's, read beforehand), at `pace`. */
  function record(d: DeliveryRecord, outcome: 'delivered' | 'failed', ticket: number | undefined, pace: 'slow' | 'prompt' | '' = '') {
    const n = d.attempts + 1;
    return db.store.deliveries.recordAttempt(
      d,
      attemptOf(n, outcome),
      { state: outcome, attempts: n, failureReason: outcome === 'failed' ? 'HTTP 500' : undefined },
      { endpointId: d.endpointId, ok: outcome === 'delivered', final: outcome },
      ticket === undefined ? undefined : { ticket, lane: 'fast' as const, pace },
    );
  }

  /** One attempt as the worker records it: under the delivery's current ticket. */
  async function attempt(d: DeliveryRecord, outcome: 'delivered' | 'failed') {
    return record(d, outcome, (await db.store.lanes.entry(d.id))?.ticket);
  }

  /** Waits (at most 5 s) until no connection named `name` is open on Redis. */
  async function untilDisconnected(name: string): Promise<void> {
    for (const until = Date.now() + 5000; Date.now() < until;) {
      const clients = (await db.redis.client('LIST')) as string;
      if (!clients.split('\n').some((line) => line.includes(` name=${name} `))) return;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`Redis still lists connection ${name}`);
  }

  describe('reopening a delivery when the connection fails at any point (item 5)', () => {
    it('leaves it either failed and out of the scheduler, or pending and in its lane: never pending with nothing to attempt it', async () => {
      const url = new URL(requireRedisUrl());
      const proxy = await CuttingProxy.start({ host: url.hostname, port: Number(url.port) });
      try {
        const { id } = await newDelivery();
        await attempt((await db.store.deliveries.get(id))!, 'failed');
        let reopened = false;
        for (let cut = 0; !reopened && cut < 20; cut++) {
          const d = (await db.store.deliveries.get(id))!;
          const name = `attempt-safety-cut-${cut}`;
          const cutting = new Redis(proxy.url, {
            maxRetriesPerRequest: 0,
            retryStrategy: () => null,
            enableOfflineQueue: false,
            lazyConnect: true,
            connectionName: name,
          });
          cutting.on('error', () => undefined);
          await cutting.connect();
          proxy.cutAfter(cut);
          const moved = await createStore({ redis: cutting, prefix: db.prefix })
            .deliveries.reopen([d], ['failed'])
            .catch(() => undefined);
          proxy.heal();
          cutting.disconnect();
          reopened = moved?.length === 1;
          // The last command the proxy let through may reach Redis after the client saw the cut:
          // once Redis has dropped that connection it has run everything it received on it.
          await untilDisconnected(name);

          const after = (await db.store.deliveries.get(d.id))!;
          const entry = await db.store.lanes.entry(d.id);
          const lane = await db.redis.lrange(`${db.store.keys.sched()}:lane:${endpoint.id}`, 0, -1);
          if (after.state === 'pending') {
            expect({ cut, queued: entry !== null && lane.includes(`${d.id}-${entry.ticket}`) }).toEqual({ cut, queued: true });
            // Back to failed (an attempt under its new ticket) for the next cut.
            await attempt(after, 'failed');
          } else {
            expect({ cut, state: after.state, entry }).toEqual({ cut, state: 'failed', entry: null });
          }
        }
        expect(reopened).toBe(true);
      } finally {
        await proxy.close();
      }
    });
  });

  // A part of a call that fails is answered with its own error and its caller runs again; the
  // call's other parts are written and answered, as if each had been called alone.
  describe('a batched attempt call that fails part-way (item 6)', () => {
    /**
     * Two deliveries whose attempts (the first's `outcome`, the second delivered) are recorded in one
     * event-loop turn, so in one record-attempts.lua call; the second's attempt list is not a list,
     * so its part of the call fails after the first's was written (Redis does not roll a script back).
     */
    async function secondPartFails(outcome: 'delivered' | 'failed') {
      const first = await newDelivery();
      const second = await newDelivery(buildEvent({ subscriberId: 'sub_safety' }));
      await db.redis.set(db.store.keys.deliveryAttempts(second.id), 'not a list');
      const tickets = [(await db.store.lanes.entry(first.id))?.ticket, (await db.store.lanes.entry(second.id))?.ticket];
      const both = () => Promise.allSettled([record(first, outcome, tickets[0]), record(second, 'delivered', tickets[1])]);
      return { first, second, both };
    }

    it('records every attempt exactly once when all its callers run again', async () => {
      const { first, second, both } = await secondPartFails('failed');
      const failed = await both();
      expect(failed.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);

      // Every caller runs again (the worker's jobs are retried), once the fault is gone.
      await db.redis.del(db.store.keys.deliveryAttempts(second.id));
      const again = await both();
      expect(again.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
      expect((await db.store.deliveries.attempts(first.id)).map((a) => a.attempt)).toEqual([1]);
      expect((await db.store.deliveries.attempts(second.id)).map((a) => a.attempt)).toEqual([1]);
      expect((await db.store.deliveries.getMany([first.id, second.id])).map((d) => [d.state, d.attempts])).toEqual([
        ['failed', 1],
        ['delivered', 1],
      ]);
      // The first delivery's failure counted once, and the success after it ended the streak.
      expect(await db.redis.lrange(db.store.keys.endpointOutcomes(endpoint.id), 0, -1)).toEqual(['1', '0']);
      expect((await db.store.health.get(endpoint.id)).consecutiveFailures).toBe(0);
    });

    it('writes and answers the parts beside the failing one: a delivered one is out of the scheduler and counted', async () => {
      const { first, second, both } = await secondPartFails('delivered');
      const failed = await both();
      expect(failed.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
      expect(String((failed[1] as PromiseRejectedResult).reason)).toMatch(/^ReplyError: WRONGTYPE /);
      // The first part's end is written with it.
      expect(await db.store.lanes.entry(first.id)).toBeNull();
      expect(await db.redis.lrange(db.store.keys.endpointOutcomes(endpoint.id), 0, -1)).toEqual(['1']);
      expect(await db.store.lanes.entry(second.id)).not.toBeNull();

      await db.redis.del(db.store.keys.deliveryAttempts(second.id));
      const again = await both();
      expect(again.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
      expect(await db.redis.lrange(db.store.keys.endpointOutcomes(endpoint.id), 0, -1)).toEqual(['1', '1']);
      expect(await db.store.lanes.entry(second.id)).toBeNull();
      expect((await db.store.health.get(endpoint.id)).lastSuccessAt).not.toBeNull();
    });

    it("fails only that endpoint's parts when its health key has the wrong type", async () => {
      const other = buildEndpoint({ subscriberId: 'sub_safety', url: 'http://127.0.0.1:9/' });
      const broken = await newDelivery(buildEvent({ subscriberId: 'sub_safety' }), other);
      const fine = await newDelivery();
      await db.redis.set(db.store.keys.endpointHealth(other.id), 'not a hash');
      const tickets = [(await db.store.lanes.entry(broken.id))?.ticket, (await db.store.lanes.entry(fine.id))?.ticket];
      const failed = await Promise.allSettled([record(broken, 'delivered', tickets[0]), record(fine, 'delivered', tickets[1])]);
      expect(failed.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
      expect(String((failed[0] as PromiseRejectedResult).reason)).toMatch(/^ReplyError: WRONGTYPE /);
      // Both attempts are recorded and out of the scheduler; the other endpoint's health is counted.
      expect(await db.store.lanes.entry(broken.id)).toBeNull();
      expect(await db.store.lanes.entry(fine.id)).toBeNull();
      expect(await db.redis.lrange(db.store.keys.endpointOutcomes(endpoint.id), 0, -1)).toEqual(['1']);
      expect((await db.store.health.get(endpoint.id)).lastSuccessAt).not.toBeNull();
    });

    it("fails only the parts whose ends could not be written, even when another part's lane move writes them", async () => {
      const other = buildEndpoint({ subscriberId: 'sub_safety', url: 'http://127.0.0.1:9/' });
      const broken = await newDelivery();
      const fine = await newDelivery(buildEvent({ subscriberId: 'sub_safety' }), other);
      const entries = [await db.store.lanes.entry(broken.id), await db.store.lanes.entry(fine.id)];
      // The first endpoint's places held are not a sorted set: ending its delivery fails. The second
      // part's slow pace is counted towards a lane move, which writes the ends queued before it.
      await db.redis.set(`${db.prefix}:sched:held:e:${endpoint.id}`, 'not a zset');
      const settled = await Promise.allSettled([
        record(broken, 'delivered', entries[0]?.ticket),
        record(fine, 'delivered', entries[1]?.ticket, 'slow'),
      ]);
      expect(settled.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
      expect(await db.redis.hget(`${db.prefix}:sched:ep:${other.id}`, 'run')).toBe('1');
      expect(await db.redis.lrange(db.store.keys.endpointOutcomes(other.id), 0, -1)).toEqual(['1']);
      // The failed part's delivery is still live and its attempt not counted: its caller's rerun counts it, once.
      expect(await db.store.lanes.entry(broken.id)).not.toBeNull();
      expect(await db.redis.lrange(db.store.keys.endpointOutcomes(endpoint.id), 0, -1)).toEqual([]);
      await db.redis.del(`${db.prefix}:sched:held:e:${endpoint.id}`);
      await record(broken, 'delivered', entries[0]?.ticket);
      expect(await db.store.lanes.entry(broken.id)).toBeNull();
      expect(await db.redis.lrange(db.store.keys.endpointOutcomes(endpoint.id), 0, -1)).toEqual(['1']);
    });

    it('writes nothing when one part is malformed, and says which', async () => {
      const first = await newDelivery();
      const other = await newDelivery(buildEvent({ subscriberId: 'sub_safety' }));
      const entry = await db.store.lanes.entry(other.id);
      // In one event-loop turn, so in one call: a good part, then one with no attempt number.
      const results = await Promise.allSettled([
        db.store.deliveries.recordAttempt(
          other,
          attemptOf(1, 'failed'),
          { state: 'failed', attempts: 1 },
          { endpointId: endpoint.id, ok: false, final: 'failed' },
          { ticket: entry!.ticket, lane: 'fast', pace: '' },
        ),
        db.store.deliveries.recordAttempt(
          first,
          attemptOf(1, 'failed'),
          { state: 'failed', attempts: 0 },
          { endpointId: endpoint.id, ok: false, final: 'failed' },
        ),
      ]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/record-attempts: delivery 2: attempt number missing/);
      expect(await db.redis.keys(`${db.prefix}:dl:*`)).toEqual([]);
      expect(await db.redis.exists(db.store.keys.endpointHealth(endpoint.id))).toBe(0);
    });

    it('records an attempt number once, however often it is recorded', async () => {
      const d = await newDelivery();
      const entry = await db.store.lanes.entry(d.id);
      const record = () =>
        db.store.deliveries.recordAttempt(
          d,
          attemptOf(1, 'failed'),
          { state: 'failed', attempts: 1 },
          { endpointId: endpoint.id, ok: false, final: 'failed' },
          { ticket: entry!.ticket, lane: 'fast', pace: '' },
        );
      const together = await Promise.all([record(), record()]);
      const later = await record();
      // Only the first counts how the delivery ended; the repeats (a job run twice) say it was counted.
      expect([...together, later].map((r) => r.countedElsewhere)).toEqual([false, true, true]);
      expect(await db.store.deliveries.attempts(d.id)).toHaveLength(1);
      expect(await db.redis.lrange(db.store.keys.endpointOutcomes(endpoint.id), 0, -1)).toEqual(['0']);
      expect((await db.store.health.get(endpoint.id)).consecutiveFailures).toBe(1);
    });
  });

  describe('the failure streak (item 8)', () => {
    it('counts failed deliveries, however often each is retried or recovered, and a success ends it', async () => {
      const deliveries = [];
      for (let i = 0; i < 3; i++) {
        const d = await newDelivery(buildEvent({ subscriberId: 'sub_safety' }));
        await attempt(d, 'failed');
        deliveries.push(d.id);
      }
      expect((await db.store.health.get(endpoint.id)).consecutiveFailures).toBe(3);

      // One retry and two recovers of all three: seven more failed attempts, no more failed deliveries.
      const failAgain = async (ids: string[]) => {
        const records = await db.store.deliveries.getMany(ids);
        expect(await db.store.deliveries.reopen(records, ['failed'])).toEqual(ids);
        for (const r of await db.store.deliveries.getMany(ids)) await attempt(r, 'failed');
      };
      await failAgain([deliveries[0]!]);
      await failAgain(deliveries);
      await failAgain(deliveries);
      expect((await db.store.deliveries.attempts(deliveries[0]!)).length).toBe(4);
      const health = await db.store.health.get(endpoint.id);
      expect(health.consecutiveFailures).toBe(3);
      expect(health.successRate).toBe(0);

      // A delivered one ends the streak; a delivery that fails again after it starts the next one.
      await attempt(await newDelivery(buildEvent({ subscriberId: 'sub_safety' })), 'delivered');
      expect((await db.store.health.get(endpoint.id)).consecutiveFailures).toBe(0);
      await failAgain([deliveries[1]!]);
      expect((await db.store.health.get(endpoint.id)).consecutiveFailures).toBe(1);
      // Re-enabling the endpoint starts afresh too.
      await db.store.health.resetStreak(endpoint.id);
      await failAgain([deliveries[1]!]);
      expect((await db.store.health.get(endpoint.id)).consecutiveFailures).toBe(1);
    });

    it('keeps its bookkeeping out of the delivery record', async () => {
      const d = await newDelivery();
      await attempt(d, 'failed');
      expect(await db.redis.hget(db.store.keys.delivery(d.id), '_streak')).toBe('0');
      expect(await db.store.deliveries.get(d.id)).not.toHaveProperty('_streak');
    });
  });
});
