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
  ] as const;

  type Outcome = 'delivered' | 'failed' | 'retry';
  /**
   * One attempt: the admitted delivery's index (deliveries 0, 2, 4, ... are endpoint a's, 1, 3, 5,
   * ... endpoint b's), how it went, its pace, when it ends (ms after `start`), and whether it
   * repeats an attempt recorded before (it goes in a call of its own, after the others).
   */
  type Step = { n: number; outcome: Outcome; pace?: 'slow' | 'prompt'; at?: number; repeat?: boolean };

  /** Publishes `events` to both endpoints' stores alike and admits every delivery (places held). */
  async function prepare(db: TestStore, events: StoredEvent[]): Promise<AdmittedDelivery[]> {
    for (const endpoint of endpoints) await db.store.endpoints.save(endpoint);
    await db.store.deliveries.createForEvents(events.map((event, i) => ({ event, endpoints: [endpoints[i % 2]!] })));
    const { admitted } = await db.store.lanes.admit({
      laneClass: 'fast',
      waitKey: `${db.prefix}:wait`,
      target: 1000,
      max: 1000,
      capEndpoint: 1000,
      capSubscriber: 1000,
      leaseMs: 60_000,
      capSleepMs: 30_000,
      heldMaxMs: 600_000,
    });
    await db.redis.zrem(db.store.lanes.leasesKey('fast'), ...admitted.map((a) => a.jobId));
    return admitted.sort((x, y) => x.eventId.localeCompare(y.eventId));
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

  async function compare(steps: Step[], deliveries: number) {
    const events = Array.from({ length: deliveries }, (_, i) =>
      buildEvent({ subscriberId, id: `evt_together_${String(i).padStart(3, '0')}`, createdAt: start - 1000 }),
    );
    const byId = new Map(events.map((e) => [e.id, e]));
    const admittedTogether = await prepare(together, events);
    const admittedAlone = await prepare(alone, events);
    expect(admittedAlone.map((a) => a.jobId)).toEqual(admittedTogether.map((a) => a.jobId));

    // One event-loop turn: one record-attempts.lua call. A repeat comes in a call of its own after.
    const firstRun = steps.filter((s) => !s.repeat);
    const repliesTogether = await Promise.all(
      firstRun.map((s) => record(together, admittedTogether[s.n]!, byId.get(admittedTogether[s.n]!.eventId)!, s)),
    );
    const repeatsTogether = await Promise.all(
      steps.filter((s) => s.repeat).map((s) => record(together, admittedTogether[s.n]!, byId.get(admittedTogether[s.n]!.eventId)!, s)),
    );
    const repliesAlone = [];
    for (const s of firstRun) repliesAlone.push(await record(alone, admittedAlone[s.n]!, byId.get(admittedAlone[s.n]!.eventId)!, s));
    const repeatsAlone = [];
    for (const s of steps.filter((x) => x.repeat))
      repeatsAlone.push(await record(alone, admittedAlone[s.n]!, byId.get(admittedAlone[s.n]!.eventId)!, s));

    expect(repliesTogether).toEqual(repliesAlone);
    expect(repeatsTogether).toEqual(repeatsAlone);
    expect(await snapshot(together)).toEqual(await snapshot(alone));
    return { replies: repliesTogether, admitted: admittedTogether };
  }

  it('leaves the scheduler, health, outcomes and counts as one call per attempt does, streaks and lane moves included', async () => {
    const { replies, admitted } = await compare(
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
    expect(await together.store.lanes.entry(admitted[0]!.deliveryId)).toBeNull();
    expect(await together.store.lanes.entry(admitted[4]!.deliveryId)).not.toBeNull();
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
});
