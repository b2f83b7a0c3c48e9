import type Redis from 'ioredis';
import type { StoredEvent } from '@hookrelay/contracts';
import { buildEndpoint, buildEvent } from '@hookrelay/testing';
import { pendingDelivery } from './index';
import type { AdmittedDelivery } from './lanes/lane-store';
import { useTestStore, type TestStore } from './test-store';

/**
 * record-attempts.lua writes what the attempts of one call leave in common (the deliveries that
 * end leaving the scheduler, each endpoint's health, outcomes and hourly counts) once at the end of
 * the call. These tests hold it to what recording the same attempts one call each leaves.
 */
describe('attempts recorded in one call', () => {
  // 100 ms before an hour: a step's `at` may stamp its attempt in the next one.
  const start = Date.UTC(2026, 11, 7, 10, 59, 59, 900);
  let clock = start;
  const together = useTestStore('together', { now: () => clock });
  const alone = useTestStore('alone', { now: () => clock });
  const subscriberId = 'sub_together';
  const endpoints = [
    buildEndpoint({ id: 'ep_together_a', subscriberId, url: 'http://127.0.0.1:9/' }),
    buildEndpoint({ id: 'ep_together_b', subscriberId, url: 'http://127.0.0.1:9/' }),
    buildEndpoint({ id: 'ep_together_c', subscriberId, url: 'http://127.0.0.1:9/' }),
  ] as const;

  type Outcome = 'delivered' | 'failed' | 'retry';
  /**
   * One attempt: its event's index (the events go to the endpoints as the plan says; by default
   * 0, 2, 4, ... to endpoint a and 1, 3, 5, ... to b), how it went, its pace, when it ends (ms after
   * `start`), and whether it repeats an attempt recorded before (it goes in a call of its own, after
   * the others).
   */
  type Step = { n: number; outcome: Outcome; pace?: 'slow' | 'prompt'; at?: number; repeat?: boolean };
  /**
   * Which endpoint each event goes to, and the admission's caps: all admitted by default. `before`
   * runs in each store after the admission, before the steps compared (attempts recorded one call
   * each, more admissions).
   */
  type Plan = {
    endpointOf: (n: number) => number;
    capEndpoint: number;
    quantum: number;
    before?: (db: TestStore, attempt: (s: Step) => Promise<unknown>, admit: (max: number) => Promise<void>) => Promise<void>;
  };
  const ALL_ADMITTED: Plan = { endpointOf: (n) => n % 2, capEndpoint: 1000, quantum: 10 };

  /** Publishes `events` in both stores alike and admits them as `plan` says (places held, leases gone). */
  async function prepare(db: TestStore, events: StoredEvent[], plan: Plan): Promise<Map<string, AdmittedDelivery>> {
    clock = start;
    for (const endpoint of endpoints) await db.store.endpoints.save(endpoint);
    await db.store.deliveries.createForEvents(events.map((event, n) => ({ event, endpoints: [endpoints[plan.endpointOf(n)]!] })));
    const all = new Map<string, AdmittedDelivery>();
    const admit = async (max: number) => {
      const { admitted } = await db.store.lanes.admit({
        laneClass: 'fast',
        waitKey: `${db.prefix}:wait`,
        target: 1000,
        max,
        capEndpoint: plan.capEndpoint,
        capSubscriber: 1000,
        quantum: plan.quantum,
        leaseMs: 60_000,
        capSleepMs: 30_000,
        heldMaxMs: 600_000,
      });
      if (admitted.length > 0) await db.redis.zrem(db.store.lanes.leasesKey('fast'), ...admitted.map((a) => a.jobId));
      for (const a of admitted) all.set(a.eventId, a);
    };
    await admit(1000);
    await plan.before?.(db, (s) => attemptOf(db, all, events, s), admit);
    return all;
  }

  function attemptOf(db: TestStore, admitted: Map<string, AdmittedDelivery>, events: StoredEvent[], s: Step) {
    const event = events[s.n]!;
    const a = admitted.get(event.id);
    if (!a) throw new Error(`event ${s.n} was not admitted`);
    return record(db, a, event, s);
  }

  function record(db: TestStore, a: AdmittedDelivery, event: StoredEvent, step: Step) {
    clock = start + (step.at ?? 0);
    const retrying = step.outcome === 'retry';
    const delivery = pendingDelivery(a.deliveryId, event, a.endpointId, event.createdAt);
    return db.store.deliveries.recordAttempt(
      delivery,
      {
        attempt: 1,
        startedAt: start,
        durationMs: 1,
        outcome: step.outcome,
        statusCode: step.outcome === 'delivered' ? 200 : 500,
        requestHeaders: {},
      },
      retrying
        ? { state: 'retrying', attempts: 1, nextAttemptAt: start + 60_000 }
        : { state: step.outcome as 'delivered' | 'failed', attempts: 1 },
      { endpointId: a.endpointId, ok: step.outcome === 'delivered', final: retrying ? 'none' : (step.outcome as 'delivered' | 'failed') },
      { ticket: a.ticket, lane: 'fast', pace: step.pace ?? 'prompt' },
    );
  }

  /** Every key under the store's prefix and what it holds (streams without their time-made ids). */
  async function snapshot(db: TestStore): Promise<Record<string, unknown>> {
    const redis: Redis = db.redis;
    const keys = await redis.keys(`${db.prefix}:*`);
    const out: Record<string, unknown> = {};
    for (const key of keys.sort()) {
      const name = key.slice(db.prefix.length);
      const type = await redis.type(key);
      if (type === 'hash') out[name] = await redis.hgetall(key);
      else if (type === 'list') out[name] = await redis.lrange(key, 0, -1);
      else if (type === 'zset') out[name] = await redis.zrange(key, 0, -1, 'WITHSCORES');
      else if (type === 'set') out[name] = (await redis.smembers(key)).sort();
      else if (type === 'string') out[name] = await redis.get(key);
      else if (type === 'stream') out[name] = (await redis.xrange(key, '-', '+')).map(([, fields]) => fields);
      else out[name] = type;
    }
    return out;
  }

  async function compare(steps: Step[], deliveries: number, plan: Plan = ALL_ADMITTED) {
    const events = Array.from({ length: deliveries }, (_, i) =>
      buildEvent({ subscriberId, id: `evt_together_${String(i).padStart(3, '0')}`, createdAt: start - 1000 }),
    );
    const admittedTogether = await prepare(together, events, plan);
    const admittedAlone = await prepare(alone, events, plan);
    expect([...admittedAlone.keys()]).toEqual([...admittedTogether.keys()]);
    const attempt = (db: TestStore, admitted: Map<string, AdmittedDelivery>, s: Step) => attemptOf(db, admitted, events, s);

    // One event-loop turn: one record-attempts.lua call. A repeat comes in a call of its own after.
    const firstRun = steps.filter((s) => !s.repeat);
    const repliesTogether = await Promise.all(firstRun.map((s) => attempt(together, admittedTogether, s)));
    const repeatsTogether = await Promise.all(steps.filter((s) => s.repeat).map((s) => attempt(together, admittedTogether, s)));
    const repliesAlone = [];
    for (const s of firstRun) repliesAlone.push(await attempt(alone, admittedAlone, s));
    const repeatsAlone = [];
    for (const s of steps.filter((x) => x.repeat)) repeatsAlone.push(await attempt(alone, admittedAlone, s));

    expect(repliesTogether).toEqual(repliesAlone);
    expect(repeatsTogether).toEqual(repeatsAlone);
    expect(await snapshot(together)).toEqual(await snapshot(alone));
    return { replies: repliesTogether, deliveryOf: (n: number) => admittedTogether.get(events[n]!.id)!.deliveryId };
  }

  it('leaves the scheduler, health, outcomes and counts as one call per attempt does, streaks and lane moves included', async () => {
    const { replies, deliveryOf } = await compare(
      [
        { n: 0, outcome: 'delivered' },
        { n: 2, outcome: 'delivered' },
        { n: 1, outcome: 'failed' },
        { n: 4, outcome: 'retry' },
        { n: 6, outcome: 'failed' },
        { n: 8, outcome: 'delivered' },
        { n: 10, outcome: 'delivered' },
        { n: 3, outcome: 'delivered' },
        { n: 5, outcome: 'retry', pace: 'slow' },
        { n: 7, outcome: 'retry', pace: 'slow' },
        { n: 12, outcome: 'delivered' },
        { n: 0, outcome: 'delivered', repeat: true },
      ],
      14,
    );
    // What the comparison rests on: each endpoint's streak began and ended, b moved to the slow
    // lane, the ended deliveries left the scheduler and the retried ones did not.
    expect(replies.map((r) => r.streak.consecutiveFailures)).toEqual([0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(replies.map((r) => r.laneMove)).toEqual([null, null, null, null, null, null, null, null, null, 'to_slow', null]);
    expect(await together.store.lanes.entry(deliveryOf(0))).toBeNull();
    expect(await together.store.lanes.entry(deliveryOf(4))).not.toBeNull();
    expect(await together.redis.zcard(`${together.prefix}:sched:held:e:${endpoints[0].id}`)).toBe(0);
    // Newest first: 12, 10, 8 delivered, 6 failed, 4 retried, 2 and 0 delivered.
    expect(await together.redis.lrange(together.store.keys.endpointOutcomes(endpoints[0].id), 0, -1)).toEqual([
      '1',
      '1',
      '1',
      '0',
      '0',
      '1',
      '1',
    ]);
  });

  it('counts the attempts of one call on either side of an hour in their own hours', async () => {
    const { replies } = await compare(
      [0, 50, 99, 100, 150].map((at, i) => ({ n: i * 2, outcome: 'delivered' as const, at })),
      10,
    );
    expect(replies).toHaveLength(5);
    const hour = Math.floor(start / 3_600_000);
    const hourly = await together.redis.hgetall(together.store.keys.endpointHourlyCounts(endpoints[0].id));
    expect([hourly[`${hour}d`], hourly[`${hour + 1}d`]]).toEqual(['3', '2']);
    expect(await together.redis.hget(together.store.keys.endpointHealth(endpoints[0].id), 'lastSuccessAt')).toBe(String(start + 150));
  });

  it("keeps the rings' order when an endpoint leaves the fast lane in the call that wakes another at its cap", async () => {
    // Endpoints a (events 0-3), b (4-7) and c (8-10) get two deliveries admitted each, and sleep at
    // their cap of 2 with deliveries ready. Before the call: b's and a's first end (b's slowly),
    // waking both into the fast ring at tag 0, and a is served once more (tag 1). In the call, b's
    // second slow attempt moves it to the slow lane and c's end wakes c: alone, b leaves the ring
    // before c joins it at the head's tag (a's, 1); c must not take b's 0.
    const { replies } = await compare(
      [
        { n: 5, outcome: 'retry', pace: 'slow' },
        { n: 8, outcome: 'delivered' },
      ],
      11,
      {
        endpointOf: (n) => (n < 4 ? 0 : n < 8 ? 1 : 2),
        capEndpoint: 2,
        quantum: 2,
        before: async (_db, attempt, admit) => {
          await attempt({ n: 4, outcome: 'delivered', pace: 'slow' });
          await attempt({ n: 0, outcome: 'delivered' });
          await admit(1);
        },
      },
    );
    expect(replies.map((r) => r.laneMove)).toEqual(['to_slow', null]);
    expect(await together.redis.zrange(`${together.prefix}:sched:ring:fast:${subscriberId}`, 0, -1, 'WITHSCORES')).toEqual([
      endpoints[0].id,
      '1',
      endpoints[2].id,
      '1',
    ]);
  });
});
