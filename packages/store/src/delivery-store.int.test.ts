import { newId } from '@hookrelay/contracts';
import { createDeliveryQueue } from '@hookrelay/queue';
import { buildEndpoint, buildEvent, watchCommands } from '@hookrelay/testing';
import { ATTEMPT_LIMITS, createStore, pendingDelivery } from './index';
import { useTestStore } from './test-store';

describe('DeliveryStore re-opening and patching', () => {
  const db = useTestStore('deliveries');

  /** A delivery's job as a version before the scheduler queued it (job id = delivery id): such a job is still read. */
  async function queueJob(d: { id: string; eventId: string; endpointId: string }, timestamp = 1234): Promise<void> {
    const queue = createDeliveryQueue({ connection: db.redis, keyPrefix: db.prefix });
    try {
      await queue.add('deliver', { eventId: d.eventId, endpointId: d.endpointId }, { jobId: d.id, timestamp });
    } finally {
      await queue.close();
    }
  }

  async function endedDelivery(state: 'failed' | 'delivered', attempts = 1): Promise<string> {
    const event = buildEvent();
    const endpoint = buildEndpoint({ url: 'http://127.0.0.1:9/' });
    const [[d] = []] = await db.store.deliveries.createForEvents([{ event, endpoints: [endpoint] }]);
    await db.store.deliveries.recordAttempt(
      pendingDelivery(d!.id, event, endpoint.id, event.createdAt),
      { attempt: attempts, startedAt: 1, durationMs: 1, outcome: state === 'failed' ? 'failed' : 'delivered', requestHeaders: {} },
      { state, attempts, failureReason: state === 'failed' ? 'HTTP 500' : undefined },
    );
    return d!.id;
  }

  it('re-opens an ended delivery once, from the states asked for, at the attempt count the caller read', async () => {
    const failed = await endedDelivery('failed', 2);
    const delivered = await endedDelivery('delivered');
    expect(await db.store.deliveries.reopen([{ id: failed, attempts: 1 }], ['failed'])).toEqual([]);
    expect(await db.store.deliveries.reopen([{ id: delivered, attempts: 1 }], ['failed'])).toEqual([]);
    const racing = await Promise.all(
      [0, 1, 2].map(() =>
        db.store.deliveries.reopen(
          [
            { id: failed, attempts: 2 },
            { id: delivered, attempts: 1 },
          ],
          ['failed', 'delivered'],
        ),
      ),
    );
    expect(racing.flat().sort()).toEqual([failed, delivered].sort());
    expect(await db.store.deliveries.get(failed)).toMatchObject({ state: 'pending', attempts: 2 });
    expect((await db.store.deliveries.get(failed))!.failureReason).toBeUndefined();
    expect(await db.store.deliveries.reopen([{ id: 'dlv_gone', attempts: 0 }], ['failed'])).toEqual([]);
    expect(await db.redis.exists(db.store.keys.delivery('dlv_gone'))).toBe(0);
  });

  it('keeps the newest ATTEMPT_LIMITS.attemptsPerDelivery attempts of a delivery, while its record counts them all', async () => {
    const kept = ATTEMPT_LIMITS.attemptsPerDelivery;
    expect(kept).toBe(60);
    const event = buildEvent();
    const endpoint = buildEndpoint({ url: 'http://127.0.0.1:9/' });
    const [[d] = []] = await db.store.deliveries.createForEvents([{ event, endpoints: [endpoint] }]);
    let delivery = pendingDelivery(d!.id, event, endpoint.id, event.createdAt);
    const total = kept + 5;
    for (let attempt = 1; attempt <= total; attempt++) {
      await db.store.deliveries.recordAttempt(
        delivery,
        { attempt, startedAt: attempt, durationMs: 1, outcome: 'failed', requestHeaders: {} },
        { state: 'failed', attempts: attempt, failureReason: 'HTTP 500' },
      );
      delivery = (await db.store.deliveries.get(d!.id))!;
    }
    const attempts = await db.store.deliveries.attempts(d!.id);
    expect(attempts.map((a) => a.attempt)).toEqual(Array.from({ length: kept }, (_, i) => total - kept + 1 + i));
    expect(delivery.attempts).toBe(total);
    // Trimmed, the list keeps the expiry its first attempt gave it.
    expect(await db.redis.pttl(db.store.keys.deliveryAttempts(d!.id))).toBeGreaterThan(0);
  });

  it('patches fields and clears the ones named, keeping the record expiry', async () => {
    const id = await endedDelivery('failed');
    await db.redis.hset(db.store.keys.delivery(id), 'state', 'retrying', 'nextAttemptAt', 99);
    const ttl = await db.redis.pttl(db.store.keys.delivery(id));
    await db.store.deliveries.patch((await db.store.deliveries.get(id))!, { state: 'failed', failureReason: 'endpoint_disabled' }, [
      'nextAttemptAt',
    ]);
    const d = (await db.store.deliveries.get(id))!;
    expect(d).toMatchObject({ state: 'failed', failureReason: 'endpoint_disabled' });
    expect(d.nextAttemptAt).toBeUndefined();
    expect(await db.redis.pttl(db.store.keys.delivery(id))).toBeGreaterThan(ttl - 1000);
  });

  it("records an event and its deliveries with their history entries even when this process's clock is behind the log", async () => {
    const sid = 'sub_clock';
    const endpoint = buildEndpoint({ subscriberId: sid, url: 'http://127.0.0.1:9/' });
    await db.store.endpoints.save(endpoint);
    let clock = 2_000_000_000_000;
    const ahead = createStore({ redis: db.redis, prefix: db.prefix, now: () => clock });
    const behind = createStore({ redis: db.redis, prefix: db.prefix, now: () => clock - 60_000 });
    const first = buildEvent({ subscriberId: sid, createdAt: clock });
    const second = buildEvent({ subscriberId: sid, createdAt: clock - 60_000 });
    const [[early] = []] = await ahead.deliveries.createForEvents([{ event: first, endpoints: [endpoint] }]);
    clock += 1;
    const [[late] = []] = await behind.deliveries.createForEvents([{ event: second, endpoints: [endpoint] }]);
    await queueJob(early!);
    await queueJob(late!);
    expect(late).toMatchObject({ created: true });
    expect(await db.store.events.get(second.id)).toMatchObject({ id: second.id });
    expect((await db.store.history.deliveriesOfEvent(second)).map((d) => d.id)).toEqual([late!.id]);
    const listed = await ahead.history.listDeliveries(sid, { limit: 10, since: 0 });
    expect(listed.items.map((d) => d.eventId)).toEqual([second.id, first.id]);
    expect((await ahead.history.listEvents(sid, { limit: 10, since: 0 })).items.map((e) => e.id)).toEqual([second.id, first.id]);
  });

  it("finds every delivery of an event once, oldest first: replays, endpoints deleted since, not other events' deliveries", async () => {
    const event = buildEvent();
    const endpoints = Array.from({ length: 150 }, (_, i) =>
      buildEndpoint({ id: `ep_order${String(i).padStart(3, '0')}`, url: 'http://127.0.0.1:9/' }),
    );
    for (const e of endpoints) await db.store.endpoints.save(e);
    let clock = 1000;
    const clocked = createStore({ redis: db.redis, prefix: db.prefix, now: () => clock });
    const [created] = await clocked.deliveries.createForEvents([{ event, endpoints: endpoints.slice(0, 140) }]);
    clock = 2000;
    const [again] = await clocked.deliveries.createForEvents([{ event, endpoints: endpoints.slice(130) }]);
    expect(again!.map((d) => d.created)).toEqual([...Array(10).fill(false), ...Array(10).fill(true)]);
    clock = 1500;
    await clocked.deliveries.createForEvents([{ event: buildEvent(), endpoints }]);
    await db.store.endpoints.delete(endpoints[0]!);
    await db.store.endpoints.delete(endpoints[149]!);

    const found = await db.store.history.deliveriesOfEvent(event);
    expect(found.map((d) => d.id)).toHaveLength(150);
    expect(new Set(found.map((d) => d.id))).toEqual(new Set([...created!, ...again!.slice(10)].map((d) => d.id)));
    expect(found.map((d) => d.createdAt)).toEqual([...Array(140).fill(1000), ...Array(10).fill(2000)]);
  });

  it("records a batch too big for one script call (split at ~24,000 keys and arguments) completely, and renews each log's expiry", async () => {
    const sid = 'sub_big';
    const endpoint = buildEndpoint({ subscriberId: sid, url: 'http://127.0.0.1:9/' });
    const events = Array.from({ length: 2100 }, () => buildEvent({ subscriberId: sid }));
    const created = await db.store.deliveries.createForEvents(events.map((event) => ({ event, endpoints: [endpoint] })));
    expect(created.map((ds) => ds.map((d) => [d.eventId, d.created]))).toEqual(events.map((e) => [[e.id, true]]));
    expect(await db.redis.xlen(db.store.keys.subscriberEvents(sid))).toBe(2100);
    expect(await db.redis.xlen(db.store.keys.endpointDeliveries(endpoint.id))).toBe(2100);
    for (const log of [
      db.store.keys.subscriberEvents(sid),
      db.store.keys.subscriberDeliveries(sid),
      db.store.keys.endpointDeliveries(endpoint.id),
    ]) {
      expect(await db.redis.pttl(log)).toBeGreaterThan(0);
    }
    const again = await db.store.deliveries.createForEvents(events.slice(0, 3).map((event) => ({ event, endpoints: [endpoint] })));
    // The pairs have deliveries (waiting in their lane) and the events exist: nothing is written twice.
    expect(again.flat().map((d) => d.created)).toEqual([false, false, false]);
    expect(await db.store.lanes.readyCount()).toBe(2100);
    expect(await db.redis.xlen(db.store.keys.subscriberEvents(sid))).toBe(2100);
  });

  it('writes the events after one given an idempotency key without a digest as their own (the key is not taken)', async () => {
    const sid = 'sub_empty_digest';
    const endpoint = buildEndpoint({ subscriberId: sid, url: 'http://127.0.0.1:9/' });
    const [first, second] = [buildEvent({ subscriberId: sid }), buildEvent({ subscriberId: sid })];
    const key = db.store.idempotency.keyOf(sid, 'k-empty');
    const written = await db.store.deliveries.writeEvents([
      { event: first, endpoints: [endpoint], idempotency: { key, digest: '' } },
      { event: second, endpoints: [endpoint], idempotency: { key: db.store.idempotency.keyOf(sid, 'k-2'), digest: 'd2' } },
    ]);
    expect(written.map((w) => w.kind)).toEqual(['new', 'new']);
    expect((await db.store.events.get(second.id))?.id).toBe(second.id);
    expect(await db.redis.exists(key)).toBe(0);
    expect(await db.redis.get(db.store.idempotency.keyOf(sid, 'k-2'))).toBe(`${second.id}|d2`);
  });

  it('reads many deliveries one script call after another, never building them all at once', async () => {
    // Transactions this store has sent and not yet had answered, at most, over one getMany.
    let open = 0;
    let mostOpen = 0;
    let calls = 0;
    const counted = new Proxy(db.redis, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== 'hookrelayReadDeliveries' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          calls++;
          mostOpen = Math.max(mostOpen, ++open);
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } finally {
            open--;
          }
        };
      },
    });
    const store = createStore({ redis: counted, prefix: db.prefix });
    const delivered = await endedDelivery('delivered');
    // 1,000 ids: four calls of up to 300 deliveries each.
    const ids = [...Array.from({ length: 999 }, () => newId('dlv')), delivered];
    const found = await store.deliveries.getMany(ids);
    expect(found.map((d) => d.id)).toEqual([delivered]);
    expect(calls).toBe(4);
    expect(mostOpen).toBe(1);
  });

  describe('a delivery not attempted yet', () => {
    it('has no record of its own: it reads as pending from its scheduler entry and its event, and its first attempt writes the record', async () => {
      const event = buildEvent({ type: 'custom.order.paid', subscriberId: 'sub_lazy' });
      const endpoint = buildEndpoint({ subscriberId: 'sub_lazy', url: 'http://127.0.0.1:9/' });
      const clocked = createStore({ redis: db.redis, prefix: db.prefix, now: () => 1234 });
      const [[d] = []] = await clocked.deliveries.createForEvents([{ event, endpoints: [endpoint] }]);
      expect(await db.redis.exists(db.store.keys.delivery(d!.id))).toBe(0);
      const pending = {
        id: d!.id,
        eventId: event.id,
        eventType: 'custom.order.paid',
        endpointId: endpoint.id,
        subscriberId: 'sub_lazy',
        state: 'pending',
        attempts: 0,
        createdAt: 1234,
        updatedAt: 1234,
      };
      expect(await db.store.deliveries.get(d!.id)).toEqual(pending);
      expect((await db.store.history.listDeliveries('sub_lazy', { limit: 5, status: 'pending' })).items).toEqual([pending]);
      // The pair has a delivery now: creating it again writes nothing.
      const [[twice] = []] = await db.store.deliveries.createForEvents([{ event, endpoints: [endpoint] }]);
      expect(twice!.created).toBe(false);
      expect(await db.store.lanes.entry(d!.id)).toMatchObject({ ticket: 1 });

      await db.store.deliveries.recordAttempt(
        pending as never,
        { attempt: 1, startedAt: 2000, durationMs: 5, outcome: 'retry', statusCode: 500, requestHeaders: {} },
        { state: 'retrying', attempts: 1, nextAttemptAt: 9000, lastStatusCode: 500 },
        undefined,
        { ticket: 1, lane: 'fast', pace: '' },
      );
      const record = await db.store.deliveries.get(d!.id);
      expect(record).toEqual({
        ...pending,
        state: 'retrying',
        attempts: 1,
        nextAttemptAt: 9000,
        lastStatusCode: 500,
        updatedAt: expect.any(Number),
      });
      expect(await db.redis.pttl(db.store.keys.delivery(d!.id))).toBeGreaterThan(0);
      expect(await db.store.deliveries.attempts(d!.id)).toHaveLength(1);
      // Waiting for its retry under a new ticket: a job still holding ticket 1 is stale.
      expect(await db.store.lanes.entry(d!.id)).toMatchObject({ ticket: 2 });
      expect(await db.redis.zscore(`${db.store.keys.sched()}:due:s:sub_lazy`, `${d!.id}-2`)).toBe('9000');
    });

    it('made on the spot (out of the lanes) shows nothing until its attempt; one queued by an earlier version reads from its job', async () => {
      const event = buildEvent({ subscriberId: 'sub_spot' });
      const endpoint = buildEndpoint({ subscriberId: 'sub_spot', url: 'http://127.0.0.1:9/' });
      const [[d] = []] = await db.store.deliveries.createForEvents([{ event, endpoints: [endpoint] }], { schedule: false });
      expect(d!.created).toBe(true);
      expect(await db.store.deliveries.get(d!.id)).toBeNull();
      expect(await db.store.lanes.entry(d!.id)).toBeNull();
      expect(await db.store.lanes.readyCount()).toBe(0);

      await queueJob(d!, 1234);
      expect(await db.store.deliveries.get(d!.id)).toMatchObject({ id: d!.id, state: 'pending', createdAt: 1234 });
      // The pair has a delivery (its job): not created again.
      expect((await db.store.deliveries.createForEvents([{ event, endpoints: [endpoint] }]))[0]![0]!.created).toBe(false);
    });

    it('is not listed once its event has expired, and a patch gives it a record with the retention expiry', async () => {
      const event = buildEvent({ subscriberId: 'sub_lazy2' });
      const endpoint = buildEndpoint({ subscriberId: 'sub_lazy2', url: 'http://127.0.0.1:9/' });
      const [[d] = []] = await db.store.deliveries.createForEvents([{ event, endpoints: [endpoint] }]);
      const pending = (await db.store.deliveries.get(d!.id))!;
      await db.store.deliveries.patch(pending, { state: 'failed', failureReason: 'endpoint_disabled' });
      expect(await db.store.deliveries.get(d!.id)).toMatchObject({
        id: d!.id,
        eventId: event.id,
        subscriberId: 'sub_lazy2',
        state: 'failed',
        failureReason: 'endpoint_disabled',
        attempts: 0,
      });
      expect(await db.redis.pttl(db.store.keys.delivery(d!.id))).toBeGreaterThan(0);

      const [[other] = []] = await db.store.deliveries.createForEvents([
        { event: buildEvent({ subscriberId: 'sub_lazy2' }), endpoints: [endpoint] },
      ]);
      const otherEvent = (await db.redis.keys(`${db.prefix}:ev:*`)).find((k) => !k.includes(event.id) && !k.endsWith(':dl'))!;
      expect(await db.store.deliveries.get(other!.id)).not.toBeNull();
      await db.redis.del(otherEvent);
      expect(await db.store.deliveries.get(other!.id)).toBeNull();
    });
  });

  describe('attempts that start and end in one event-loop turn', () => {
    it('are read and recorded in one Redis call each, every delivery getting its own answer', async () => {
      const event = buildEvent({ subscriberId: 'sub_turn' });
      const ok = buildEndpoint({ subscriberId: 'sub_turn', url: 'http://127.0.0.1:9/ok' });
      const failing = buildEndpoint({ subscriberId: 'sub_turn', url: 'http://127.0.0.1:9/failing' });
      const [created = []] = await db.store.deliveries.createForEvents([{ event, endpoints: [ok, failing] }]);
      const [first, second] = created;
      // `second` was attempted once already: its record exists, and its endpoint has failed before.
      const secondPending = pendingDelivery(second!.id, event, failing.id, 1000);
      await db.store.deliveries.recordAttempt(
        secondPending,
        { attempt: 1, startedAt: 1, durationMs: 1, outcome: 'retry', statusCode: 500, requestHeaders: {} },
        { state: 'retrying', attempts: 1, nextAttemptAt: 5, lastStatusCode: 500 },
        { endpointId: failing.id, ok: false, final: 'none' },
      );
      const gone = 'dlv_gone_' + db.prefix;

      const scripted = db.redis as unknown as Record<string, (...args: unknown[]) => unknown>;
      const loads = jest.spyOn(scripted, 'hookrelayLoadForAttempts');
      const writes = jest.spyOn(scripted, 'hookrelayRecordAttempts');
      try {
        const [a, b, c] = await Promise.all([
          db.store.deliveries.loadForAttempt({ deliveryId: first!.id, eventId: event.id, endpointId: ok.id, createdAt: 1000 }),
          db.store.deliveries.loadForAttempt({ deliveryId: second!.id, eventId: event.id, endpointId: failing.id, createdAt: 1000 }),
          db.store.deliveries.loadForAttempt({ deliveryId: gone, eventId: 'evt_expired', endpointId: ok.id, createdAt: 1000 }),
        ]);
        expect(loads).toHaveBeenCalledTimes(1);
        expect(a).toEqual({
          delivery: pendingDelivery(first!.id, event, ok.id, a.entry!.createdAt),
          event,
          entry: {
            ticket: 1,
            eventId: event.id,
            endpointId: ok.id,
            subscriberId: 'sub_turn',
            createdAt: expect.any(Number),
            manual: false,
          },
          endpointVersion: 0,
        });
        expect(b.delivery).toMatchObject({ id: second!.id, state: 'retrying', attempts: 1, nextAttemptAt: 5 });
        expect(c).toEqual({ delivery: null, event: null, entry: null, endpointVersion: 0 });

        const [okStreak, failStreak] = await Promise.all([
          db.store.deliveries.recordAttempt(
            a.delivery!,
            { attempt: 1, startedAt: 2, durationMs: 1, outcome: 'delivered', statusCode: 200, requestHeaders: {} },
            { state: 'delivered', attempts: 1, lastStatusCode: 200 },
            { endpointId: ok.id, ok: true, final: 'delivered' },
          ),
          db.store.deliveries.recordAttempt(
            b.delivery!,
            { attempt: 2, startedAt: 2, durationMs: 1, outcome: 'failed', statusCode: 500, requestHeaders: {} },
            { state: 'failed', attempts: 2, lastStatusCode: 500, failureReason: 'gave up after 2 attempts' },
            { endpointId: failing.id, ok: false, final: 'failed' },
          ),
        ]);
        expect(writes).toHaveBeenCalledTimes(1);
        expect(okStreak.streak).toEqual({ consecutiveFailures: 0, failingSince: null });
        expect(failStreak.streak).toEqual({ consecutiveFailures: 1, failingSince: expect.any(Number) });
      } finally {
        loads.mockRestore();
        writes.mockRestore();
      }
      const records = await db.store.deliveries.getMany([first!.id, second!.id]);
      expect(records.map((d) => [d.state, d.attempts])).toEqual([
        ['delivered', 1],
        ['failed', 2],
      ]);
      // The retry's nextAttemptAt does not linger on the ended record.
      expect(records[1]).not.toHaveProperty('nextAttemptAt');
      expect((await db.store.deliveries.attempts(second!.id)).map((x) => x.outcome)).toEqual(['retry', 'failed']);
      expect(await db.redis.lrange(db.store.keys.endpointOutcomes(failing.id), 0, -1)).toEqual(['0', '0']);
      expect(await db.redis.lrange(db.store.keys.endpointOutcomes(ok.id), 0, -1)).toEqual(['1']);
    });
  });

  describe("a subscriber's endpoints, kept parsed by each process", () => {
    it('sees every save and delete made through another process at the next call', async () => {
      const other = createStore({ redis: db.redis, prefix: db.prefix }); // another API process on the same Redis
      const sid = 'sub_fanout';
      const first = buildEndpoint({ subscriberId: sid, url: 'http://127.0.0.1:9/1' });
      await other.endpoints.save(first);
      expect((await db.store.endpoints.listAll(sid)).map((e) => e.url)).toEqual(['http://127.0.0.1:9/1']);
      const same = await db.store.endpoints.listAll(sid);
      expect(await db.store.endpoints.listAll(sid)).toBe(same); // kept, not re-read
      expect(Object.isFrozen(same[0])).toBe(true);

      await other.endpoints.save({ ...first, url: 'http://127.0.0.1:9/changed', status: 'disabled' });
      expect((await db.store.endpoints.listAll(sid)).map((e) => [e.url, e.status])).toEqual([['http://127.0.0.1:9/changed', 'disabled']]);
      const second = buildEndpoint({ subscriberId: sid, url: 'http://127.0.0.1:9/2', createdAt: first.createdAt + 1 });
      await other.endpoints.save(second);
      expect((await db.store.endpoints.listAll(sid)).map((e) => e.id)).toEqual([first.id, second.id]);
      await other.endpoints.delete(first);
      expect((await db.store.endpoints.listAll(sid)).map((e) => e.id)).toEqual([second.id]);
    });

    it("writes nothing of a group whose endpoints changed after the version it was read at, and the rest of the call's groups", async () => {
      const other = createStore({ redis: db.redis, prefix: db.prefix }); // another API process on the same Redis
      const [stale, fresh] = ['sub_guard_stale', 'sub_guard_fresh'];
      for (const sid of [stale, fresh]) await other.endpoints.save(buildEndpoint({ subscriberId: sid, url: 'http://127.0.0.1:9/a' }));
      const read = await Promise.all([stale, fresh].map(async (sid) => ({ sid, endpoints: await db.store.endpoints.listAll(sid) })));
      expect(db.store.endpoints.lastListed(stale)?.endpoints).toBe(read[0]!.endpoints);
      const versions = [stale, fresh].map((sid) => db.store.endpoints.lastListed(sid)!.version);
      // Changed by another process after the read: a second endpoint.
      await other.endpoints.save(buildEndpoint({ subscriberId: stale, url: 'http://127.0.0.1:9/b', createdAt: Date.now() + 1 }));
      const items = read.flatMap(({ sid, endpoints }, group) =>
        [0, 1].map((n) => ({
          event: buildEvent({ subscriberId: sid }),
          endpoints,
          group,
          endpointsVersion: versions[group],
          idempotency: { key: db.store.idempotency.keyOf(sid, `k${n}`), digest: 'd' },
        })),
      );
      const written = await db.store.deliveries.writeEvents(items);
      expect(written.map((w) => w.kind)).toEqual(['stale', 'stale', 'new', 'new']);
      // Nothing of the stale group: no event, no key taken, no delivery queued.
      for (const { event, idempotency } of items.slice(0, 2)) {
        expect(await db.store.events.get(event.id)).toBeNull();
        expect(await db.redis.exists(idempotency.key)).toBe(0);
      }
      expect(await db.store.lanes.readyCount()).toBe(2);
      // Unchecked (no version given), the same stale read is written as it is, beside a checked
      // event of the other subscriber in the same call. A subscriber's keys go once per call,
      // however many of its events it holds (a batch of 1,000 sent them 1,000 times).
      const watch = watchCommands(db.redis);
      try {
        const mixed = await db.store.deliveries.writeEvents([
          { event: buildEvent({ subscriberId: stale }), endpoints: read[0]!.endpoints, group: 0 },
          { event: buildEvent({ subscriberId: fresh }), endpoints: read[1]!.endpoints, group: 1, endpointsVersion: versions[1] },
          { event: buildEvent({ subscriberId: stale }), endpoints: read[0]!.endpoints, group: 2 },
        ]);
        expect(mixed.map((w) => w.kind)).toEqual(['new', 'new', 'new']);
        const versionKeys = [stale, fresh].map((sid) => db.store.keys.subscriberEndpointsVersion(sid));
        const named = watch.scriptCalls.flatMap((c) => c.keyNames).filter((k) => versionKeys.includes(k));
        expect(named).toEqual(versionKeys);
      } finally {
        watch.stop();
      }
      expect(await db.store.lanes.readyCount()).toBe(5);
    });

    it('answers a stale group in a later call of a transaction the same way, the earlier calls written', async () => {
      const sid = 'sub_guard_split';
      await db.store.endpoints.save(buildEndpoint({ subscriberId: sid, url: 'http://127.0.0.1:9/a' }));
      await db.store.endpoints.listAll(sid);
      const { version } = db.store.endpoints.lastListed(sid)!;
      await db.store.endpoints.save(buildEndpoint({ subscriberId: sid, url: 'http://127.0.0.1:9/b', createdAt: Date.now() + 1 }));
      // 6,001 endpoints fill the first call (calls split at ~24,000 keys and arguments, between
      // groups; a delivery is its endpoint's log key and three arguments).
      const wide = Array.from({ length: 6001 }, (_, i) => ({ id: `ep_wide${i}` }));
      const written = await db.store.deliveries.writeEvents([
        { event: buildEvent({ subscriberId: 'sub_wide' }), endpoints: wide, group: 0 },
        { event: buildEvent({ subscriberId: sid }), endpoints: [{ id: 'ep_any' }], group: 1, endpointsVersion: version },
      ]);
      expect(written.map((w) => w.kind)).toEqual(['new', 'stale']);
      expect(await db.store.lanes.readyCount()).toBe(6001);
    });

    it('rereads only the endpoints that changed', async () => {
      const other = createStore({ redis: db.redis, prefix: db.prefix });
      const sid = 'sub_fanout_partial';
      // 20 endpoints of ~8 KB each (their custom headers), as large as an endpoint may make them.
      const headers = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`X-Pad-${i}`, 'p'.repeat(1000)]));
      const endpoints = Array.from({ length: 20 }, (_, i) =>
        buildEndpoint({ subscriberId: sid, url: `http://127.0.0.1:9/${i}`, createdAt: 1000 + i, headers }),
      );
      for (const e of endpoints) await other.endpoints.save(e);
      const before = await db.store.endpoints.listAll(sid);
      expect(before).toHaveLength(20);

      const changed = endpoints[7]!;
      expect(await other.endpoints.update(changed.id, { url: 'http://127.0.0.1:9/changed' })).not.toBeNull();
      const socket = (db.redis as unknown as { stream: { bytesRead: number } }).stream;
      const read = socket.bytesRead;
      const after = await db.store.endpoints.listAll(sid);
      // One record, the ids and the versions: a reread of all 20 was ~170 KB.
      expect(socket.bytesRead - read).toBeLessThan(20_000);
      expect(after.map((e) => e.url)).toEqual(endpoints.map((e, i) => (i === 7 ? 'http://127.0.0.1:9/changed' : e.url)));
      expect(after.filter((e, i) => e === before[i]).length).toBe(19);

      // Deleted, and a new one: the list follows both.
      await other.endpoints.delete(endpoints[0]!);
      const added = buildEndpoint({ subscriberId: sid, url: 'http://127.0.0.1:9/new', createdAt: 2000 });
      await other.endpoints.save(added);
      expect((await db.store.endpoints.listAll(sid)).map((e) => e.id)).toEqual([...endpoints.slice(1).map((e) => e.id), added.id]);
    });

    it('remembers a subscriber seen to exist, and does not remember one that does not', async () => {
      const sid = newId('sub');
      expect(await db.store.subscribers.exists(sid)).toBe(false);
      await db.redis.set(db.store.keys.subscriber(sid), JSON.stringify({ id: sid, name: 'later', createdAt: 1 }));
      expect(await db.store.subscribers.exists(sid)).toBe(true);
      await db.redis.del(db.store.keys.subscriber(sid));
      // Subscribers are never deleted: once seen, one is taken to exist without asking Redis.
      expect(await db.store.subscribers.exists(sid)).toBe(true);
    });

    it('takes only a subscriber record for a subscriber, never another key under its name', async () => {
      const sid = newId('sub');
      await db.redis.zadd(db.store.keys.subscriberEndpoints(sid), 1, 'ep_x');
      await db.redis.set(db.store.keys.subscriber(newId('sub')), '{}');
      expect(await db.store.subscribers.exists(`${sid}:eps`)).toBe(false);
      expect(await db.store.subscribers.exists(sid)).toBe(false);
      // A value under a well-formed id that is not that subscriber's record does not count either.
      const other = newId('sub');
      await db.redis.set(db.store.keys.subscriber(other), JSON.stringify({ id: 'sub_someone_else', name: 'x', createdAt: 1 }));
      expect(await db.store.subscribers.exists(other)).toBe(false);
    });
  });
});
