import type { Endpoint, StoredEvent } from '@hookrelay/contracts';
import { buildEndpoint, buildEvent } from '@hookrelay/testing';
import { pendingDelivery } from '../index';
import { DEFAULT_RETENTION_MS } from '../store-options';
import { useTestStore } from '../test-store';
import { moveDueSetsBack } from './due-sets-back';
import { endpointSleeper, type AdmitOptions, type AdmittedDelivery, type LaneClass } from './lane-store';

/**
 * The scheduler's Lua (lanes.lua and the scripts that load it) against a real Redis, with an
 * injected clock: fair order, caps, rate limits, retries, leases, parking, tickets and the slow lane.
 */
describe('LaneStore: the delivery scheduler', () => {
  let clock: number;
  /** Stands in for a lane's BullMQ wait list: admission leaves room for what it holds. */
  let waitKey: string;
  const db = useTestStore('lanes', { now: () => clock });
  beforeEach(() => {
    clock = 1_000_000;
    waitKey = `${db.prefix}:test-wait`;
  });

  function admitOptions(o: Partial<AdmitOptions> = {}): AdmitOptions {
    return {
      laneClass: 'fast',
      waitKey,
      target: 1000,
      max: 1000,
      capEndpoint: 1000,
      capSubscriber: 1000,
      leaseMs: 10_000,
      capSleepMs: 30_000,
      heldMaxMs: 600_000,
      ...o,
    };
  }

  /** Admits and at once "adds the jobs" (removes the leases), as the admission pump does. */
  async function admit(o: Partial<AdmitOptions> = {}): Promise<AdmittedDelivery[]> {
    const opts = admitOptions(o);
    const { admitted } = await db.store.lanes.admit(opts);
    if (admitted.length) await db.redis.zrem(db.store.lanes.leasesKey(opts.laneClass), ...admitted.map((a) => a.jobId));
    return admitted;
  }

  async function endpointOf(subscriberId: string, extra: Partial<Endpoint> = {}): Promise<Endpoint> {
    const endpoint = buildEndpoint({ subscriberId, url: 'http://127.0.0.1:9/', ...extra });
    await db.store.endpoints.save(endpoint);
    return endpoint;
  }

  /** Publishes `count` events to `endpoint`; returns their delivery ids in order. */
  async function publish(endpoint: Endpoint, count: number): Promise<string[]> {
    const events = Array.from({ length: count }, () => buildEvent({ subscriberId: endpoint.subscriberId }));
    const created = await db.store.deliveries.createForEvents(events.map((event) => ({ event, endpoints: [endpoint] })));
    return created.flat().map((d) => d.id);
  }

  /** Ends an admitted delivery's attempt as the worker records it. */
  type Outcome = { retryAt?: number; pace?: 'slow' | 'prompt' | ''; lane?: LaneClass };
  async function finish(a: AdmittedDelivery, outcome: Outcome = {}) {
    return record(a, (await db.store.events.get(a.eventId)) as StoredEvent, outcome);
  }

  /** Records attempts of `items` in one event-loop turn, so in one record-attempts.lua call. */
  async function finishTogether(items: ReadonlyArray<[AdmittedDelivery, Outcome]>) {
    const events = (await Promise.all(items.map(([a]) => db.store.events.get(a.eventId)))) as StoredEvent[];
    return Promise.all(items.map(([a, outcome], i) => record(a, events[i]!, outcome)));
  }

  function record(a: AdmittedDelivery, event: StoredEvent, outcome: Outcome) {
    const delivery = pendingDelivery(a.deliveryId, event, a.endpointId, 1);
    const retrying = outcome.retryAt !== undefined;
    return db.store.deliveries.recordAttempt(
      delivery,
      {
        attempt: 1,
        startedAt: clock,
        durationMs: 1,
        outcome: retrying ? 'retry' : 'delivered',
        statusCode: retrying ? 500 : 200,
        requestHeaders: {},
      },
      retrying ? { state: 'retrying', attempts: 1, nextAttemptAt: outcome.retryAt } : { state: 'delivered', attempts: 1 },
      { endpointId: a.endpointId, ok: !retrying, final: retrying ? 'none' : 'delivered' },
      { ticket: a.ticket, lane: outcome.lane ?? 'fast', pace: outcome.pace ?? 'prompt' },
    );
  }

  describe('order', () => {
    it('serves subscribers round-robin: a backlog of 1,000 is no head start over a subscriber that publishes after it', async () => {
      const big = await endpointOf('sub_big');
      const small = await endpointOf('sub_small');
      await publish(big, 1000);
      const late = await publish(small, 3);
      const order = (await admit({ max: 8, quantum: 1 })).map((a) => a.endpointId);
      expect(order).toEqual([big.id, small.id, big.id, small.id, big.id, small.id, big.id, big.id]);
      expect((await admit({ max: 1000 })).filter((a) => a.endpointId === small.id)).toEqual([]);
      expect(late).toHaveLength(3);
    });

    it("serves a subscriber's endpoints round-robin, and each endpoint's deliveries in the order they were published", async () => {
      const a = await endpointOf('sub_one');
      const b = await endpointOf('sub_one');
      const fromA = await publish(a, 5);
      const fromB = await publish(b, 2);
      const admitted = await admit({ quantum: 1 });
      // Both joined the ring at the same tag (a newcomer takes the head's), so which goes first is the
      // ring's order of equal scores (by id, random within a millisecond); then they alternate.
      const [first, second] = admitted.map((x) => x.endpointId);
      expect([first, second].sort()).toEqual([a.id, b.id].sort());
      expect(admitted.slice(0, 4).map((x) => x.endpointId)).toEqual([first, second, first, second]);
      expect(admitted.filter((x) => x.endpointId === a.id).map((x) => x.deliveryId)).toEqual(fromA);
      expect(admitted.filter((x) => x.endpointId === b.id).map((x) => x.deliveryId)).toEqual(fromB);
    });

    it('earns a subscriber no credit for having been idle', async () => {
      const busy = await endpointOf('sub_busy');
      const idle = await endpointOf('sub_idle');
      await publish(busy, 50);
      await admit({ max: 40, quantum: 1 });
      await publish(idle, 10);
      // Turn about from here, not ten of the idle one's first.
      expect((await admit({ max: 6, quantum: 1 })).map((x) => x.endpointId)).toEqual([
        busy.id,
        idle.id,
        busy.id,
        idle.id,
        busy.id,
        idle.id,
      ]);
    });

    it('admits up to `quantum` of one endpoint per turn (10 by default), in one command for the lane', async () => {
      const big = await endpointOf('sub_q1');
      const small = await endpointOf('sub_q2');
      await publish(big, 30);
      await publish(small, 30);
      const order = (await admit({ max: 40 })).map((a) => (a.endpointId === big.id ? 'b' : 's')).join('');
      expect(order).toBe('bbbbbbbbbbssssssssssbbbbbbbbbbssssssssss');
    });

    it('admits no more than the wait list has room for, and no more than asked', async () => {
      const e = await endpointOf('sub_room');
      await publish(e, 30);
      await db.redis.rpush(waitKey, 'j1', 'j2', 'j3');
      expect(await admit({ target: 10 })).toHaveLength(7);
      expect(await admit({ target: 100, max: 4 })).toHaveLength(4);
      // Leases not yet turned into jobs count as taken room too.
      expect((await db.store.lanes.admit(admitOptions({ target: 12 }))).admitted).toHaveLength(9);
      expect((await db.store.lanes.admit(admitOptions({ target: 12 }))).admitted).toHaveLength(0);
      expect(await db.store.lanes.readyCount()).toBe(10);
    });
  });

  describe('caps', () => {
    it('holds an endpoint at its cap without cycling it, and wakes it when one of its deliveries ends', async () => {
      const capped = await endpointOf('sub_cap');
      const other = await endpointOf('sub_other');
      await publish(capped, 10);
      await publish(other, 10);
      const first = await admit({ capEndpoint: 2 });
      expect(first.filter((a) => a.endpointId === capped.id)).toHaveLength(2);
      expect(first.filter((a) => a.endpointId === other.id)).toHaveLength(2);
      // Asleep, out of the ring: a call with room admits nothing of it, and walks no further than it must.
      expect(await db.redis.zscore(`${db.store.keys.sched()}:sleep`, endpointSleeper(capped.id, 'sub_cap'))).toBe(String(clock + 30_000));
      expect(await admit({ capEndpoint: 2 })).toEqual([]);

      await finish(first.find((a) => a.endpointId === capped.id)!);
      const next = await admit({ capEndpoint: 2 });
      expect(next.map((a) => a.endpointId)).toEqual([capped.id]);
    });

    it('wakes an endpoint at its cap once when one call ends several of its deliveries, and admits as many as ended', async () => {
      const capped = await endpointOf('sub_cap_call');
      await publish(capped, 10);
      const first = await admit({ capEndpoint: 3 });
      expect(first).toHaveLength(3);
      expect(await admit({ capEndpoint: 3 })).toEqual([]);
      await finishTogether(first.slice(0, 2).map((a) => [a, {}]));
      expect(await db.redis.zscore(`${db.store.keys.sched()}:sleep`, endpointSleeper(capped.id, 'sub_cap_call'))).toBeNull();
      expect(await admit({ capEndpoint: 3 })).toHaveLength(2);
      // At its cap again: asleep, and the next single end wakes it as before.
      expect(await admit({ capEndpoint: 3 })).toEqual([]);
      await finish(first[2]!);
      expect(await admit({ capEndpoint: 3 })).toHaveLength(1);
    });

    it('holds a subscriber at its cap across all its endpoints', async () => {
      const eps = await Promise.all([1, 2, 3].map(() => endpointOf('sub_many')));
      for (const e of eps) await publish(e, 5);
      const victim = await endpointOf('sub_victim');
      await publish(victim, 5);
      const admitted = await admit({ capSubscriber: 4 });
      expect(admitted.filter((a) => a.endpointId !== victim.id)).toHaveLength(4);
      expect(admitted.filter((a) => a.endpointId === victim.id)).toHaveLength(4);
      await finish(admitted.find((a) => a.endpointId !== victim.id)!);
      expect((await admit({ capSubscriber: 4 })).filter((a) => a.endpointId !== victim.id)).toHaveLength(1);
    });

    it('frees a place held longer than heldMaxMs (its job died unrecorded)', async () => {
      const e = await endpointOf('sub_lost');
      await publish(e, 3);
      expect(await admit({ capEndpoint: 1 })).toHaveLength(1);
      clock += 31_000; // past the cap sleep, not past heldMaxMs: still held
      expect(await admit({ capEndpoint: 1, heldMaxMs: 60_000 })).toHaveLength(0);
      clock += 60_000;
      expect(await admit({ capEndpoint: 1, heldMaxMs: 60_000 })).toHaveLength(1);
    });
  });

  describe("a subscriber's payload bytes (capSubscriberBytes)", () => {
    // 10,000 bytes: two events of ~4,150 stored bytes fit, a third does not.
    const BOUND = 10_000;
    const bounded = (o: Partial<AdmitOptions> = {}) => admit({ capSubscriberBytes: BOUND, ...o });

    /** Publishes `count` events of a `chars`-character payload to `endpoint`; returns their delivery ids. */
    async function publishSized(endpoint: Endpoint, count: number, chars: number): Promise<string[]> {
      const payload = JSON.stringify({ blob: 'x'.repeat(chars - 11) });
      const events = Array.from({ length: count }, () => buildEvent({ subscriberId: endpoint.subscriberId, payload }));
      const created = await db.store.deliveries.createForEvents(events.map((event) => ({ event, endpoints: [endpoint] })));
      return created.flat().map((d) => d.id);
    }
    const storedSize = (a: AdmittedDelivery) => db.redis.strlen(db.store.keys.event(a.eventId));
    const booksOf = (subscriberId: string, laneClass: LaneClass = 'fast') => db.store.lanes.heldBytes(subscriberId, laneClass);
    const asleep = async (member: string) => [
      await db.redis.zscore(`${db.store.keys.sched()}:sleep`, member),
      await db.redis.hget(`${db.store.keys.sched()}:sleep-why`, member),
    ];

    it('admits a subscriber up to its bound, then it sleeps (nothing popped, parked or admitted) while others are admitted, until one of its deliveries ends', async () => {
      const eps = await Promise.all([1, 2, 3].map(() => endpointOf('sub_big')));
      for (const e of eps) await publishSized(e, 2, 4000);
      const victim = await endpointOf('sub_victim');
      await publish(victim, 3);

      const first = await bounded({ quantum: 1 });
      const big = first.filter((a) => a.endpointId !== victim.id);
      expect(big).toHaveLength(2);
      expect(first.filter((a) => a.endpointId === victim.id)).toHaveLength(3);
      const sizes = await Promise.all(big.map(storedSize));
      expect(sizes[0]).toBeGreaterThan(4000);
      expect(await booksOf('sub_big')).toEqual({ [big[0]!.deliveryId]: sizes[0], [big[1]!.deliveryId]: sizes[1] });
      // Asleep until its bytes fall to half the bound; until then admission does not look at its lanes.
      expect(await asleep('s|fast|sub_big')).toEqual([String(clock + 30_000), 'bytes:5000']);
      expect(await db.store.lanes.readyCount()).toBe(4);
      await publish(victim, 2);
      expect((await bounded()).map((a) => a.endpointId)).toEqual([victim.id, victim.id]);

      await finish(big[0]!);
      expect(await asleep('s|fast|sub_big')).toEqual([null, null]);
      const next = await bounded();
      expect(next).toHaveLength(1);
      expect(Object.keys(await booksOf('sub_big')).sort()).toEqual([big[1]!.deliveryId, next[0]!.deliveryId].sort());
    });

    it('wakes a subscriber asleep for its bytes once half the bound is free, so that one admission takes the freed half together', async () => {
      const e = await endpointOf('sub_batch');
      await publishSized(e, 20, 1000);
      const first = await bounded();
      // ~1,150 stored bytes each: 8 fit in 10,000, the 9th would not.
      expect(first).toHaveLength(8);
      expect(await asleep('s|fast|sub_batch')).toEqual([String(clock + 30_000), 'bytes:5000']);
      await finish(first[0]!);
      expect(await asleep('s|fast|sub_batch')).toEqual([String(clock + 30_000), 'bytes:5000']);
      expect(await bounded()).toEqual([]);
      // Never starved: at capSleepMs it is looked at again, and admitted what fits.
      clock += 30_001;
      const [late, ...none] = await bounded();
      expect(none).toEqual([]);
      // Four ending in one call: the fourth brings it to ~4,600 bytes and wakes it; one admission takes four.
      await finishTogether(first.slice(1, 5).map((a) => [a, {}]));
      expect(await asleep('s|fast|sub_batch')).toEqual([null, null]);
      const batch = await bounded();
      expect(batch).toHaveLength(4);
      const held = await booksOf('sub_batch');
      expect(Object.keys(held).sort()).toEqual([...first.slice(5), late!, ...batch].map((a) => a.deliveryId).sort());
      expect(Object.values(held).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(BOUND);
    });

    it('admits a payload larger than the bound when its subscriber holds no bytes, alone', async () => {
      const e = await endpointOf('sub_huge');
      const other = await endpointOf('sub_huge');
      await publishSized(e, 2, 3 * BOUND);
      await publishSized(other, 1, 100);
      const [one, ...rest] = await bounded();
      expect(rest).toEqual([]);
      expect(await bounded()).toEqual([]);
      await finish(one!);
      expect(await bounded()).toHaveLength(1);
    });

    it('gives the bytes back once on every way a delivery leaves its place: delivered, retried, parked, lease expiry, forget, ended with its endpoint', async () => {
      const e = await endpointOf('sub_paths');
      await publishSized(e, 6, 1000);
      const admitted = await bounded({ capSubscriberBytes: 1_000_000 });
      expect(admitted).toHaveLength(6);
      expect(Object.keys(await booksOf('sub_paths'))).toHaveLength(6);
      const [delivered, retried, parked, forgotten, ended, leased] = admitted as [AdmittedDelivery, ...AdmittedDelivery[]];
      await finish(delivered);
      await finish(retried!, { retryAt: clock + 60_000 });
      expect(await db.store.lanes.park(parked!.jobId, clock + 60_000)).toBe(true);
      expect(await db.store.lanes.forget(forgotten!.deliveryId)).toBe(true);
      await db.store.deliveries.endOpen([], [ended!.deliveryId], 'endpoint deleted');
      expect(Object.keys(await booksOf('sub_paths'))).toEqual([leased!.deliveryId]);
      // Twice: a second record of the same attempt, or a forget after the delivery ended, gives back nothing more.
      await finish(delivered);
      expect(await db.store.lanes.forget(forgotten!.deliveryId)).toBe(false);
      expect(Object.keys(await booksOf('sub_paths'))).toEqual([leased!.deliveryId]);
      // The last one's job was never added (its lease kept, as if the admitting worker died).
      await db.redis.zadd(db.store.lanes.leasesKey('fast'), clock + 10_000, leased!.jobId);
      clock += 10_001;
      await bounded({ max: 0 });
      expect(await booksOf('sub_paths')).toEqual({});
    });

    it('drops the bytes of places lost (held past heldMaxMs) or freed by a release that did not know about bytes', async () => {
      const e = await endpointOf('sub_lost');
      await publishSized(e, 4, 4000);
      const [a, b] = await bounded();
      expect(await bounded()).toEqual([]);
      // A worker of the version before records b's attempt: it frees b's places, not its bytes.
      await db.redis.zrem(`${db.store.keys.sched()}:held:s:fast:sub_lost`, b!.deliveryId);
      await db.redis.zrem(`${db.store.keys.sched()}:held:e:${e.id}`, b!.deliveryId);
      clock += 30_001;
      const [c] = await bounded();
      expect(c).toBeDefined();
      expect(Object.keys(await booksOf('sub_lost')).sort()).toEqual([a!.deliveryId, c!.deliveryId].sort());
      // Both places lost (their jobs died unrecorded): the sweep that frees them frees their bytes.
      clock += 600_001;
      expect(await bounded()).toHaveLength(1);
      expect(Object.keys(await booksOf('sub_lost'))).toHaveLength(1);
    });

    it('counts deliveries admitted by the version before (no bytes in the books) as none, and releases them', async () => {
      const e = await endpointOf('sub_upgrade');
      await publishSized(e, 4, 4000);
      const old = await admit({ max: 2 });
      expect(await booksOf('sub_upgrade')).toEqual({});
      expect(await bounded()).toHaveLength(2);
      await finish(old[0]!);
      await finish(old[1]!);
      expect(Object.keys(await booksOf('sub_upgrade'))).toHaveLength(2);
    });
  });

  describe('rate limit', () => {
    it('admits at most perSecond a second, no burst, and the deliveries wait in the lane meanwhile', async () => {
      const limited = await endpointOf('sub_rate', { rateLimit: { perSecond: 10 } });
      await publish(limited, 30);
      const admittedAt: number[] = [];
      const start = clock;
      let nextDue: number | null = null;
      while (clock < start + 1000) {
        const { admitted, nextDueAt } = await db.store.lanes.admit(admitOptions());
        for (const _ of admitted) admittedAt.push(clock);
        nextDue = nextDueAt;
        clock += 7;
      }
      // One every 102 ms from the start (1000/perSecond and 2% more): 10 in the first second.
      expect(admittedAt).toHaveLength(10);
      for (let i = 1; i < admittedAt.length; i++) expect(admittedAt[i]! - admittedAt[i - 1]!).toBeGreaterThanOrEqual(102);
      expect(nextDue).not.toBeNull();
      expect(await db.store.lanes.readyCount()).toBe(20);
    });

    it('applies a changed limit to the deliveries already waiting', async () => {
      const e = await endpointOf('sub_rate2', { rateLimit: { perSecond: 1 } });
      await publish(e, 8);
      expect(await admit()).toHaveLength(1);
      // Raised: the next goes now, then one every 102 ms.
      await db.store.endpoints.save({ ...e, rateLimit: { perSecond: 10 } });
      expect(await admit()).toHaveLength(1);
      clock += 101;
      expect(await admit()).toHaveLength(0);
      clock += 1;
      expect(await admit()).toHaveLength(1);
      // Saved unchanged: the pacing goes on where it was.
      await db.store.endpoints.save({ ...e, rateLimit: { perSecond: 10 }, description: 'renamed' });
      expect(await admit()).toHaveLength(0);
      await db.store.endpoints.save({ ...e, rateLimit: undefined });
      expect(await admit()).toHaveLength(5);
    });

    it('admits deliveries older than the retention period at once, taking none of the rate, so a backlog cannot outlive its events', async () => {
      // 0.01/s cannot drain what a publisher sends: the backlog grew, lane and entries, past its events' expiry.
      const e = await endpointOf('sub_rate_old', { rateLimit: { perSecond: 0.01 } });
      const old = await publish(e, 30);
      expect(await admit()).toHaveLength(1);
      expect(await admit()).toHaveLength(0);
      clock += DEFAULT_RETENTION_MS + 1;
      const fresh = await publish(e, 5);
      const admitted = await admit();
      // The 29 left of the old ones, then the first fresh one at the rate; the other four wait for it.
      expect(admitted.map((a) => a.deliveryId)).toEqual([...old.slice(1), fresh[0]]);
      expect(await admit()).toHaveLength(0);
      expect(await db.store.lanes.readyCount()).toBe(4);
      clock += 101_999;
      expect(await admit()).toHaveLength(0);
      clock += 1;
      expect((await admit()).map((a) => a.deliveryId)).toEqual([fresh[1]]);
    });

    it("admits a deleted endpoint's waiting deliveries at once: the worker only ends them", async () => {
      const e = await endpointOf('sub_rate_deleted', { rateLimit: { perSecond: 0.01 } });
      await publish(e, 5);
      expect(await admit()).toHaveLength(1);
      await db.store.endpoints.delete(e);
      // Before, one more every 102 s, for deliveries that were only ever going to be ended.
      expect(await admit()).toHaveLength(4);
      expect(await db.store.lanes.readyCount()).toBe(0);
    });

    it('spaces the sends too, across workers: each caller waits out what the path bunched', async () => {
      const e = await endpointOf('sub_pace', { rateLimit: { perSecond: 20 } });
      const free = await endpointOf('sub_pace');
      expect([await db.store.lanes.sendWaitMs(e.id), await db.store.lanes.sendWaitMs(e.id), await db.store.lanes.sendWaitMs(e.id)]).toEqual(
        [0, 51, 102],
      );
      clock += 120;
      expect(await db.store.lanes.sendWaitMs(e.id)).toBe(33);
      clock += 1000;
      expect(await db.store.lanes.sendWaitMs(e.id)).toBe(0);
      expect(await db.store.lanes.sendWaitMs(free.id)).toBe(0);
    });

    it('does not take a turn further away than the caller will wait: it answers the wait untaken', async () => {
      const e = await endpointOf('sub_pace_max', { rateLimit: { perSecond: 20 } });
      expect(await db.store.lanes.sendWaitMs(e.id, 60)).toBe(0);
      expect(await db.store.lanes.sendWaitMs(e.id, 60)).toBe(51);
      // 102 ms away: over 60, so not taken, and the next caller is told the same.
      expect(await db.store.lanes.sendWaitMs(e.id, 60)).toBe(102);
      expect(await db.store.lanes.sendWaitMs(e.id, 60)).toBe(102);
      expect(await db.store.lanes.sendWaitMs(e.id)).toBe(102);
      expect(await db.store.lanes.sendWaitMs(e.id)).toBe(153);
    });
  });

  describe('retries, tickets and leases', () => {
    it('holds a retry in the due set until its time, under a new ticket that makes the old job stale', async () => {
      const e = await endpointOf('sub_retry');
      const [id] = await publish(e, 1);
      const [a] = await admit();
      expect(a).toMatchObject({ deliveryId: id, ticket: 1, jobId: `${id}-1` });
      await finish(a!, { retryAt: clock + 60_000 });
      expect(await admit()).toEqual([]);
      // The old job, handed out again after a crash, finds a newer ticket.
      expect(await db.store.lanes.entry(id!)).toMatchObject({ ticket: 2 });
      clock += 60_000;
      expect(await admit()).toEqual([expect.objectContaining({ deliveryId: id, ticket: 2, jobId: `${id}-2` })]);
    });

    it("moves a subscriber's due retry to its lane in the first catch-up, beside another's thousands due before it", async () => {
      const flood = await endpointOf('sub_due_flood');
      const victim = await endpointOf('sub_due_victim');
      await publish(flood, 1500);
      // Every one retried at one instant (receivers answering 503 with one Retry-After date).
      let flooded = 0;
      for (let round = 0; round < 2; round++) {
        const admitted = await admit();
        flooded += admitted.length;
        await finishTogether(admitted.map((a) => [a, { retryAt: clock + 1000 }]));
      }
      expect(flooded).toBe(1500);
      await publish(victim, 1);
      const [v] = await admit();
      await finish(v!, { retryAt: clock + 1001 });
      expect(await db.store.lanes.dueWithin(1001)).toBe(1501);

      clock += 2000;
      // One call's catch-up moves at most 1,000: the subscribers share them, so the victim's retry is
      // among them (one due set read in time order gave all 1,000 to the flood).
      const admitted = await admit();
      expect(admitted.filter((a) => a.endpointId === victim.id).map((a) => a.deliveryId)).toEqual([v!.deliveryId]);
      // 500 each, and what the victim left goes to the flood: 1,000 in all, not 501.
      expect(admitted).toHaveLength(1000);
      expect(await db.store.lanes.dueWithin(0)).toBe(1501 - admitted.length);
      expect(await db.store.lanes.sample()).toMatchObject({ due: 1501 - admitted.length });
      // The rest come due in the calls after (a subscriber left with retries due waits a
      // millisecond behind the others).
      let total = admitted.length;
      let batch = admitted;
      for (let round = 0; round < 5 && batch.length > 0; round++) {
        await finishTogether(batch.map((a) => [a, {}]));
        clock += 2;
        batch = await admit();
        total += batch.length;
      }
      expect(total).toBe(1501);
      expect(await db.store.lanes.sample()).toMatchObject({ due: 0 });
    });

    it('takes turns past the first hundred subscribers with retries due: one served goes behind the others', async () => {
      const floods = await Promise.all(Array.from({ length: 101 }, (_, i) => endpointOf(`sub_turn_${String(i).padStart(3, '0')}`)));
      for (const e of floods) await publish(e, 30);
      for (let round = 0; round < 4; round++) {
        const admitted = await admit();
        await finishTogether(admitted.map((a) => [a, { retryAt: clock + 1000 }]));
      }
      expect(await db.store.lanes.dueWithin(1000)).toBe(3030);
      const victim = await endpointOf('sub_turn_victim');
      await publish(victim, 1);
      const [v] = await admit();
      await finish(v!, { retryAt: clock + 1001 });

      clock += 2000;
      // The first hundred (by earliest retry, then name) get 10 each: the 101st and the victim none.
      const first = await admit();
      expect(first).toHaveLength(1000);
      expect(first.some((a) => a.endpointId === victim.id)).toBe(false);
      await finishTogether(first.map((a) => [a, {}]));
      clock += 2;
      // Those served went behind the others: the victim's retry comes next.
      const second = await admit();
      expect(second.filter((a) => a.endpointId === victim.id)).toHaveLength(1);
      const last = floods[100]!.id;
      expect(second.some((a) => a.endpointId === last)).toBe(true);
      await finishTogether(second.map((a) => [a, {}]));
      clock += 2;
      // And they keep their order: the 101st, served early in the second call, comes before those
      // served after it, though its name sorts last (one score for all of them took them by name).
      const third = await admit();
      expect(third.some((a) => a.endpointId === last)).toBe(true);
    });

    it('keeps the place of a subscriber the call had no room left for', async () => {
      const sched = db.store.keys.sched();
      // Members of no live delivery (dropped when they come due) still take the call's room: 995
      // in the set an earlier version wrote, then two subscribers' sets.
      const stale = (n: number, tag: string) => Array.from({ length: n }, (_, i) => [0, `dlv_${tag}${i}-1`]).flat();
      await db.redis
        .multi()
        .zadd(`${sched}:due`, ...stale(995, 'legacy'))
        .zadd(`${sched}:due:s:sub_room_a`, ...stale(20, 'a'))
        .zadd(`${sched}:due:s:sub_room_b`, 1, 'dlv_b0-1')
        .zadd(`${sched}:dueq`, 0, 'sub_room_a', 1, 'sub_room_b')
        .hincrby(`${sched}:stats`, 'due', 21)
        .exec();
      await admit();
      // 995 + 5 of the first subscriber's: the second was not reached, and keeps its earliest retry's
      // place ahead of the one served, which went behind (just after now).
      const queue = await db.redis.zrange(`${sched}:dueq`, 0, -1, 'WITHSCORES');
      expect(queue.filter((_, i) => i % 2 === 0)).toEqual(['sub_room_b', 'sub_room_a']);
      expect(Number(queue[1])).toBe(1);
      expect(Number(queue[3])).toBeCloseTo(clock + 1.001, 3);
      expect(await db.redis.zcard(`${sched}:due:s:sub_room_a`)).toBe(15);
      expect(await db.store.lanes.sample()).toMatchObject({ due: 16 });
    });

    it('moves every waiting retry back to the one due set for a rollback (npm run due-retries:back)', async () => {
      const sched = db.store.keys.sched();
      const ids: string[] = [];
      for (const sub of ['sub_back_a', 'sub_back_b']) {
        const e = await endpointOf(sub);
        const published = await publish(e, 3);
        ids.push(...published);
        for (const a of await admit()) await finish(a, { retryAt: clock + 1000 });
      }
      expect(await moveDueSetsBack(db.redis, db.store.keys)).toEqual({ subscribers: 2, retries: 6 });
      // Where an earlier version looks, each under its retry's ticket and time; nothing left of the rest.
      const shared = await db.redis.zrange(`${sched}:due`, 0, -1, 'WITHSCORES');
      expect(shared.filter((_, i) => i % 2 === 0).sort()).toEqual(ids.map((id) => `${id}-2`).sort());
      expect(shared.filter((_, i) => i % 2 === 1)).toEqual(Array(6).fill(String(clock + 1000)));
      expect(await db.redis.exists(`${sched}:due:s:sub_back_a`, `${sched}:due:s:sub_back_b`, `${sched}:dueq`)).toBe(0);
      expect(await db.redis.hexists(`${sched}:stats`, 'due')).toBe(0);
      // Nothing to move a second time; and this version still delivers them if it runs again.
      expect(await moveDueSetsBack(db.redis, db.store.keys)).toEqual({ subscribers: 0, retries: 0 });
      // A large set moves in steps of 2,000, every member kept (these are of no live delivery).
      await db.redis.zadd(
        `${sched}:due:s:sub_back_big`,
        ...Array.from({ length: 4500 }, (_, i) => [clock + 5000 + i, `dlv_big${i}-1`]).flat(),
      );
      expect(await moveDueSetsBack(db.redis, db.store.keys)).toEqual({ subscribers: 1, retries: 4500 });
      expect(await db.redis.zcard(`${sched}:due`)).toBe(6 + 4500);
      expect(await db.redis.zscore(`${sched}:due`, 'dlv_big4499-1')).toBe(String(clock + 5000 + 4499));
      await db.redis.zremrangebyscore(`${sched}:due`, clock + 5000, '+inf');
      clock += 1000;
      expect((await admit()).map((a) => a.deliveryId).sort()).toEqual([...ids].sort());
    });

    it('still moves a retry an earlier version left in the one due set for everyone', async () => {
      const e = await endpointOf('sub_due_legacy');
      const [id] = await publish(e, 1);
      const [a] = await admit();
      await finish(a!, { retryAt: clock + 1000 });
      // As an earlier version wrote it: in `due`, not in its subscriber's set nor in `dueq`.
      const sched = db.store.keys.sched();
      const member = `${id}-2`;
      expect(await db.redis.zscore(`${sched}:due:s:sub_due_legacy`, member)).toBe(String(clock + 1000));
      await db.redis
        .multi()
        .zrem(`${sched}:due:s:sub_due_legacy`, member)
        .zrem(`${sched}:dueq`, 'sub_due_legacy')
        .hincrby(`${sched}:stats`, 'due', -1)
        .zadd(`${sched}:due`, clock + 1000, member)
        .exec();
      expect(await db.store.lanes.dueWithin(1000)).toBe(1);
      expect(await admit()).toEqual([]);
      clock += 1000;
      expect(await admit()).toEqual([expect.objectContaining({ deliveryId: id, ticket: 2 })]);
      expect(await db.redis.exists(`${sched}:due`)).toBe(0);
    });

    it('puts a delivery whose job was never added back at the head of its lane when its lease runs out', async () => {
      const e = await endpointOf('sub_lease');
      const [first, second] = await publish(e, 2);
      const { admitted } = await db.store.lanes.admit(admitOptions({ max: 1, capEndpoint: 1 }));
      expect(admitted.map((a) => a.deliveryId)).toEqual([first]);
      // No job added (the admitting process died): the place stays held until the lease runs out.
      clock += 5_000;
      expect((await db.store.lanes.admit(admitOptions({ capEndpoint: 1 }))).admitted).toEqual([]);
      clock += 30_000;
      const again = await admit({ capEndpoint: 1 });
      expect(again).toEqual([expect.objectContaining({ deliveryId: first, ticket: 2 })]);
      expect(second).toBeDefined();
    });

    it('ends a delivery in the scheduler when its attempt ends it, and forgets one on request', async () => {
      const e = await endpointOf('sub_end');
      const [one, two] = await publish(e, 2);
      const [a] = await admit({ max: 1 });
      await finish(a!);
      expect(await db.store.lanes.entry(one!)).toBeNull();
      expect(await db.store.lanes.forget(two!)).toBe(true);
      expect(await db.store.lanes.forget(two!)).toBe(false);
      // Its lane element is stale now: nothing is admitted for it.
      expect(await admit()).toEqual([]);
      expect(await db.store.lanes.readyCount()).toBe(0);
    });

    it('records nothing in the scheduler for a job whose ticket is stale (the delivery moved on)', async () => {
      const e = await endpointOf('sub_stale');
      const [id] = await publish(e, 1);
      const [a] = await admit();
      await finish(a!, { retryAt: clock + 1000 });
      // A second run of the ticket-1 job moves nothing in the scheduler: the retry stays due when it was.
      await finish(a!, { retryAt: clock + 999_999 });
      expect(await db.store.lanes.entry(id!)).toMatchObject({ ticket: 2 });
      expect(await db.redis.zrange(`${db.store.keys.sched()}:due:s:sub_stale`, 0, -1, 'WITHSCORES')).toEqual([
        `${id}-2`,
        String(clock + 1000),
      ]);
      clock += 1000;
      expect(await admit()).toEqual([expect.objectContaining({ deliveryId: id, ticket: 2 })]);
    });
  });

  describe("an endpoint's open deliveries (what disabling it ends)", () => {
    it('finds them from its own keys wherever they wait: retries first, then admitted ones, then its lane', async () => {
      const e = await endpointOf('sub_open');
      const other = await endpointOf('sub_open');
      const [retried, admitted, ...ready] = await publish(e, 5);
      const [first, second] = await admit({ max: 2, quantum: 2 });
      await finish(first!, { retryAt: clock + 60_000 });
      expect(second!.deliveryId).toBe(admitted);
      // Published after the admission: two endpoints in the ring at one tag go in no set order.
      await publish(other, 2);
      expect(await db.store.lanes.openOf(e.id, 100)).toEqual([retried, admitted, ...ready]);
      expect(await db.store.lanes.openOf(e.id, 3)).toEqual([retried, admitted, ready[0]]);
      expect((await db.store.lanes.openOf(other.id, 100)).sort()).toEqual(
        (await db.store.lanes.liveFor(other.id)).map((x) => x.deliveryId).sort(),
      );
    });

    it('pops the members of deliveries an earlier disable forgot from the head of the lane, so the rest are reached', async () => {
      const e = await endpointOf('sub_open_stale');
      const ids = await publish(e, 5);
      for (const id of ids.slice(0, 3)) await db.store.lanes.forget(id);
      expect(await db.store.lanes.openOf(e.id, 3)).toEqual(ids.slice(3));
      expect(await db.redis.llen(`${db.store.keys.sched()}:lane:${e.id}`)).toBe(2);
      expect(await db.store.lanes.readyCount()).toBe(2);
      expect((await admit()).map((a) => a.deliveryId)).toEqual(ids.slice(3));
    });

    it("keeps the index of an endpoint's retries as a retry comes due, is forgotten or is reopened", async () => {
      const e = await endpointOf('sub_open_index');
      const index = `${db.store.keys.sched()}:due:e:${e.id}`;
      const ids = await publish(e, 3);
      for (const a of await admit()) await finish(a, { retryAt: clock + 1000 });
      expect((await db.redis.zrange(index, 0, -1)).sort()).toEqual([...ids].sort());

      // Forgotten (its endpoint disabled): out of the index at once, its due member left stale.
      expect(await db.store.lanes.forget(ids[0]!)).toBe(true);
      // Reopened while live: its retry member is stale, so it leaves the index too.
      const event = (await db.store.events.get((await db.store.lanes.entry(ids[1]!))!.eventId))!;
      await db.store.deliveries.patch(pendingDelivery(ids[1]!, event, e.id, 1), { state: 'failed', attempts: 1 });
      expect(await db.store.deliveries.reopen([{ id: ids[1]!, attempts: 1 }], ['failed'])).toEqual([ids[1]]);
      expect(await db.redis.zrange(index, 0, -1)).toEqual([ids[2]]);
      expect(await db.store.lanes.openOf(e.id, 100)).toEqual([ids[2], ids[1]]);

      // Come due: in its lane, out of the index.
      clock += 1000;
      expect((await admit()).map((a) => a.deliveryId).sort()).toEqual([ids[1], ids[2]].sort());
      expect(await db.redis.exists(index)).toBe(0);
    });
  });

  describe('parking', () => {
    it("puts a job's deliveries parked in one turn back in their order, ahead of what waited behind them", async () => {
      const e = await endpointOf('sub_park_order');
      const ids = await publish(e, 6);
      const job = await admit({ max: 4 });
      // One job's deliveries parked together, as a full address parks them (one event-loop turn),
      // and one of them stale: the rest come back in their order, then what was never admitted.
      const stale = job[1]!;
      expect(await db.store.lanes.park(stale.jobId, clock + 30_000)).toBe(true);
      const parked = await Promise.all(job.map((a, i) => db.store.lanes.park(a.jobId, clock + (i === 2 ? 60_000 : 30_000))));
      expect(parked).toEqual([true, false, true, true]);
      // Parked more than once in the call, the endpoint sleeps until the latest time given.
      expect(await db.redis.zscore(`${db.store.keys.sched()}:sleep`, endpointSleeper(e.id, 'sub_park_order'))).toBe(String(clock + 60_000));
      await db.store.lanes.wake([endpointSleeper(e.id, 'sub_park_order')]);
      const again = await admit();
      expect(again.map((a) => a.deliveryId)).toEqual([ids[0], ids[2], ids[3], ids[1], ids[4], ids[5]]);
    });

    it('puts a parked delivery back at the head of its lane and keeps its endpoint asleep until woken', async () => {
      const e = await endpointOf('sub_park');
      const ids = await publish(e, 3);
      const [a] = await admit({ max: 1 });
      expect(await db.store.lanes.park(a!.jobId, clock + 30_000)).toBe(true);
      expect(await db.store.lanes.park(a!.jobId, clock + 30_000)).toBe(false); // stale now
      expect(await admit()).toEqual([]);
      await db.store.lanes.wake([endpointSleeper(e.id, 'sub_park')]);
      const next = await admit();
      expect(next.map((x) => [x.deliveryId, x.ticket])).toEqual([
        [ids[0], 2],
        [ids[1], 1],
        [ids[2], 1],
      ]);
    });

    it('wakes a parked endpoint by itself at the latest time given', async () => {
      const e = await endpointOf('sub_park2');
      await publish(e, 1);
      const [a] = await admit();
      await db.store.lanes.park(a!.jobId, clock + 500);
      const { nextDueAt } = await db.store.lanes.admit(admitOptions());
      expect(nextDueAt).toBe(clock + 500);
      clock += 500;
      expect(await admit()).toHaveLength(1);
    });
  });

  describe('the slow lane', () => {
    async function laneOf(e: Endpoint): Promise<LaneClass> {
      return ((await db.redis.hget(db.store.keys.laneEndpoint(e.id), 'lane')) as LaneClass | null) ?? 'fast';
    }

    it('moves an endpoint after slowAfter slow attempts in a row, with its waiting deliveries, and back after fastAfter prompt ones', async () => {
      const e = await endpointOf('sub_slow');
      await publish(e, 10);
      const batch = await admit({ max: 5 });
      expect((await finish(batch[0]!, { pace: 'slow' })).laneMove).toBeNull();
      expect((await finish(batch[1]!, { pace: 'slow' })).laneMove).toBe('to_slow');
      expect(await laneOf(e)).toBe('slow');
      expect(await admit({ laneClass: 'fast' })).toEqual([]);
      const slow = await admit({ laneClass: 'slow' });
      expect(slow).toHaveLength(5);
      expect((await finish(batch[2]!, { pace: 'prompt' })).laneMove).toBeNull();
      expect((await finish(batch[3]!, { pace: 'prompt' })).laneMove).toBeNull();
      expect((await finish(batch[4]!, { pace: 'prompt' })).laneMove).toBe('to_fast');
      expect(await laneOf(e)).toBe('fast');
      // A prompt attempt resets the slow count: one slow attempt alone does not move it again.
      expect((await finish(slow[0]!, { pace: 'slow', lane: 'slow' })).laneMove).toBeNull();
      expect((await finish(slow[1]!, { pace: 'prompt', lane: 'slow' })).laneMove).toBeNull();
      expect((await finish(slow[2]!, { pace: 'slow', lane: 'slow' })).laneMove).toBeNull();
    });

    it('moves a deleted endpoint nowhere when its attempts in flight end slow, and a racing PATCH keeps its settings expiring', async () => {
      const e = await endpointOf('sub_slow_deleted');
      await publish(e, 2);
      const inFlight = await admit();
      await db.store.endpoints.delete(e);
      // Before, these moved it into sched:slow (no expiry) for good.
      for (const a of inFlight) expect((await finish(a, { pace: 'slow' })).laneMove).toBeNull();
      expect(await db.redis.sismember(`${db.store.keys.sched()}:slow`, e.id)).toBe(0);
      expect(await laneOf(e)).toBe('fast');
      // A PATCH that read the endpoint before the DELETE writes its scheduler settings after it.
      const multi = db.redis.multi();
      db.store.lanes.appendEndpointSettings(multi, { ...e, rateLimit: { perSecond: 5 } });
      await multi.exec();
      expect(await db.redis.pttl(db.store.keys.laneEndpoint(e.id))).toBeGreaterThan(0);
      expect(await db.redis.hget(db.store.keys.laneEndpoint(e.id), 'rate')).toBeNull();
    });

    it('counts paces in order when one call records several attempts of an endpoint', async () => {
      const e = await endpointOf('sub_pace_call');
      await publish(e, 8);
      const batch = await admit({ max: 8 });
      expect(batch).toHaveLength(8);
      const paces = ['prompt', 'prompt', 'slow', 'prompt', 'slow', 'slow', 'slow', 'prompt'] as const;
      const moves = await finishTogether(batch.map((a, i) => [a, { pace: paces[i] }]));
      // A prompt attempt between two slow ones resets the count; the 2nd slow one in a row moves it,
      // and from then on a slow attempt agrees with the lane and a prompt one counts towards the way back.
      expect(moves.map((m) => m.laneMove)).toEqual([null, null, null, null, null, 'to_slow', null, null]);
      expect(await laneOf(e)).toBe('slow');
      expect(await db.redis.hget(db.store.keys.laneEndpoint(e.id), 'run')).toBe('1');
    });

    it("signals only the class whose lanes got deliveries, so a publish never runs the other class's admission", async () => {
      const fast = await endpointOf('sub_signal');
      const slowed = await endpointOf('sub_signal');
      await publish(slowed, 2);
      for (const a of await admit()) await finish(a, { pace: 'slow' });
      expect(await laneOf(slowed)).toBe('slow');
      const fastKey = db.store.keys.laneSignal('fast');
      const slowKey = db.store.keys.laneSignal('slow');
      const pending = async () => [await db.redis.llen(fastKey), await db.redis.llen(slowKey)];
      await db.redis.del(fastKey, slowKey);
      const blocking = db.redis.duplicate();
      try {
        await publish(fast, 3);
        expect(await pending()).toEqual([1, 0]);
        expect(await db.store.lanes.waitForWork(blocking, 1000)).toBe('fast');
        await publish(slowed, 3);
        expect(await pending()).toEqual([0, 1]);
        expect(await db.store.lanes.waitForWork(blocking, 1000)).toBe('slow');
        // A signal only says "look now": publishes before a worker looks leave one.
        await publish(fast, 1);
        await publish(fast, 1);
        expect(await pending()).toEqual([1, 0]);
        expect(await db.store.lanes.waitForWork(blocking, 1000)).toBe('fast');
        expect(await db.store.lanes.waitForWork(blocking, 20)).toBeNull();
      } finally {
        blocking.disconnect();
      }
    });
  });

  it('samples what it holds: lanes, retries, sleepers, the slow lane and the oldest waiting delivery', async () => {
    const e = await endpointOf('sub_sample');
    const f = await endpointOf('sub_sample2');
    await publish(e, 3);
    clock += 10;
    await publish(f, 2);
    const [a] = await admit({ max: 1 });
    await finish(a!, { retryAt: clock + 5000 });
    expect(await db.store.lanes.sample()).toEqual({ ready: 4, due: 1, sleeping: 0, slowEndpoints: 0, oldestCreatedAt: clock - 10 });
    // One each, then both endpoints asleep at their cap.
    expect(await admit({ capEndpoint: 1 })).toHaveLength(2);
    expect(await db.store.lanes.sample()).toMatchObject({ ready: 2, due: 1, sleeping: 2 });
  });
});
