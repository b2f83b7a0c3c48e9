import { newId } from '@hookrelay/contracts';
import { createStore, type Store } from '@hookrelay/store';
import { buildEndpoint, useRedisPrefix, watchCommands } from '@hookrelay/testing';
import { MAX_PAYLOAD_BYTES, Publisher } from './publisher';

describe('Publisher.publish', () => {
  const db = useRedisPrefix('publisher');
  let store: Store;
  let publisher: Publisher;
  const sid = 'sub_publisher';

  beforeEach(() => {
    store = createStore({ redis: db.redis, prefix: db.prefix });
    publisher = new Publisher({ store, now: () => 1_700_000_000_000 });
  });

  describe('when reading the endpoints is slower than the clock allowance, the history still finds each delivery once its endpoint is deleted', () => {
    let clock = 1_800_000_000_000;
    let slow: Publisher;
    beforeEach(() => {
      clock = 1_800_000_000_000;
      // One clock for the publisher and the store (which stamps deletions).
      store = createStore({ redis: db.redis, prefix: db.prefix, now: () => clock });
      slow = new Publisher({ store, now: () => clock });
    });

    /** The fan-out read takes 5 s; `during` runs 3 s into it, before the read itself. */
    function slowRead(during: () => Promise<void>): void {
      const listAll = store.endpoints.listAll.bind(store.endpoints);
      jest.spyOn(store.endpoints, 'listAll').mockImplementationOnce(async (subscriberId) => {
        clock += 3000;
        await during();
        clock += 2000;
        return listAll(subscriberId);
      });
    }

    it('for an endpoint created during the read', async () => {
      let created: ReturnType<typeof buildEndpoint> | undefined;
      slowRead(async () => {
        created = buildEndpoint({ id: newId('ep', clock), subscriberId: sid, url: 'http://127.0.0.1:9/new', createdAt: clock });
        await store.endpoints.save(created);
      });
      const [published] = await slow.publish(sid, [{ type: 'custom.slow', payload: {} }]);
      expect(published!.endpoints.map((e) => e.id)).toEqual([created!.id]);
      await store.endpoints.delete(created!);
      expect((await store.history.deliveriesOfEvent(published!.event)).map((d) => d.endpointId)).toEqual([created!.id]);
    });

    it('for an endpoint deleted after the read answered, before the event was written', async () => {
      const endpoint = buildEndpoint({ id: newId('ep', clock - 60_000), subscriberId: sid, url: 'http://127.0.0.1:9/old' });
      await store.endpoints.save(endpoint);
      const listAll = store.endpoints.listAll.bind(store.endpoints);
      jest.spyOn(store.endpoints, 'listAll').mockImplementationOnce(async (subscriberId) => {
        const answer = await listAll(subscriberId);
        // Deleted 1 s after the read answered; the answer reaches the publisher 4 s later.
        clock += 1000;
        await store.endpoints.delete(endpoint);
        clock += 4000;
        return answer;
      });
      const [published] = await slow.publish(sid, [{ type: 'custom.slow', payload: {} }]);
      expect(published!.endpoints.map((e) => e.id)).toEqual([endpoint.id]);
      expect((await store.history.deliveriesOfEvent(published!.event)).map((d) => d.endpointId)).toEqual([endpoint.id]);
    });
  });

  it("fans each event out to the subscriber's active endpoints whose filters match, stamped with the publisher's clock", async () => {
    const all = await Promise.all(
      [
        buildEndpoint({ subscriberId: sid, url: 'http://127.0.0.1:9/a', eventTypes: ['incident.*'] }),
        buildEndpoint({ subscriberId: sid, url: 'http://127.0.0.1:9/b', eventTypes: ['receipt.*'] }),
        buildEndpoint({ subscriberId: sid, url: 'http://127.0.0.1:9/c', eventTypes: ['*'], status: 'disabled' }),
        buildEndpoint({ subscriberId: 'sub_other', url: 'http://127.0.0.1:9/d' }),
      ].map(async (e) => (await store.endpoints.save(e), e)),
    );
    const [incident, receipt] = await publisher.publish(sid, [
      { type: 'incident.triggered', payload: { n: 1 } },
      { type: 'receipt.sms.delivered', payload: { n: 2 } },
    ]);
    expect(incident!.event).toMatchObject({
      subscriberId: sid,
      type: 'incident.triggered',
      payload: '{"n":1}',
      createdAt: 1_700_000_000_000,
    });
    expect(incident!.write).toEqual({ kind: 'new', deliveries: [expect.objectContaining({ endpointId: all[0]!.id, created: true })] });
    expect(receipt!.write).toEqual({ kind: 'new', deliveries: [expect.objectContaining({ endpointId: all[1]!.id, created: true })] });
    expect(await store.events.get(incident!.event.id)).toMatchObject({ type: 'incident.triggered' });
    expect(await store.lanes.readyCount()).toBe(2);
  });

  it('refuses a payload over 1 MiB as JSON before writing anything or running beforeWrite, and takes an input without a payload', async () => {
    const beforeWrite = jest.fn(async () => undefined);
    const big = { type: 'custom.big', payload: { s: 'x'.repeat(MAX_PAYLOAD_BYTES) } };
    await expect(publisher.publish(sid, [{ type: 'custom.small', payload: {} }, big], { beforeWrite })).rejects.toEqual(
      expect.objectContaining({ name: 'PayloadTooLargeError', index: 1, bytes: MAX_PAYLOAD_BYTES + 8 }),
    );
    expect(beforeWrite).not.toHaveBeenCalled();
    expect(await db.redis.keys(`${db.prefix}:ev:*`)).toEqual([]);
    // The type allows no payload at all: published as null, which every scheme can sign and send.
    const [bare] = await publisher.publish(sid, [{ type: 'custom.bare' }]);
    expect(bare!.write.kind).toBe('new');
    expect((await store.events.get(bare!.event.id))?.payload).toBe('null');
  });

  describe("keeps the subscriber's endpoints between publishes, the write checking they have not changed", () => {
    it('asks Redis nothing before the write once it has read them', async () => {
      await store.endpoints.save(buildEndpoint({ subscriberId: sid, url: 'http://127.0.0.1:9/a' }));
      await publisher.publish(sid, [{ type: 'custom.first', payload: {} }]);
      const watch = watchCommands(db.redis);
      try {
        const [published] = await publisher.publish(sid, [{ type: 'custom.warm', payload: {} }]);
        expect(published!.write.kind).toBe('new');
        // Before, a GET of the endpoints' version went first: two round trips a publish.
        expect(watch.sent).toBe(1);
        expect(watch.scriptCalls.map((c) => c.name)).toEqual(['hookrelayCreateEvent']);
      } finally {
        watch.stop();
      }
    });

    it('follows what another process created, disabled and deleted since, writing each event once and taking its rate once', async () => {
      const otherRedis = db.redis.duplicate();
      const other = createStore({ redis: otherRedis, prefix: db.prefix }); // another API process
      try {
        const a = buildEndpoint({ subscriberId: sid, url: 'http://127.0.0.1:9/a', createdAt: 1 });
        const b = buildEndpoint({ subscriberId: sid, url: 'http://127.0.0.1:9/b', createdAt: 2 });
        await other.endpoints.save(a);
        let admitted = 0;
        const publishOne = async () => {
          const [p] = await publisher.publish(sid, [{ type: 'custom.x', payload: {} }], { beforeWrite: async () => void admitted++ });
          expect(p!.write.kind).toBe('new');
          return p!.endpoints.map((e) => e.id);
        };
        expect(await publishOne()).toEqual([a.id]);
        await other.endpoints.save(b);
        expect(await publishOne()).toEqual([a.id, b.id]);
        expect(await other.endpoints.update(a.id, { status: 'disabled' })).not.toBeNull();
        expect(await publishOne()).toEqual([b.id]);
        await other.endpoints.delete(b);
        expect(await publishOne()).toEqual([]);
        expect(admitted).toBe(4);
        // The writes refused as stale left nothing: four events, and a delivery queued per endpoint.
        expect(await db.redis.keys(`${db.prefix}:ev:*`)).toHaveLength(4);
        expect(await store.lanes.readyCount()).toBe(4);
      } finally {
        otherRedis.disconnect();
      }
    });
  });

  it('judges a batch against the endpoints as they are, not as an earlier publish kept them', async () => {
    const otherRedis = db.redis.duplicate();
    const other = createStore({ redis: otherRedis, prefix: db.prefix }); // another process: the worker's guard
    try {
      const endpoints = [1, 2, 3].map((n) => buildEndpoint({ subscriberId: sid, url: `http://127.0.0.1:9/${n}`, createdAt: n }));
      for (const e of endpoints) await other.endpoints.save(e);
      await publisher.publish(sid, [{ type: 'custom.x', payload: {} }]); // keeps all three
      for (const e of endpoints.slice(1)) expect(await other.endpoints.update(e.id, { status: 'disabled' })).not.toBeNull();
      let admitted = 0;
      // Judged on the kept list: 2 events x 3 endpoints, over the cap of 4, refused (a 413) before any write.
      const published = await publisher.publish(
        sid,
        [
          { type: 'custom.x', payload: { n: 1 } },
          { type: 'custom.x', payload: { n: 2 } },
        ],
        { maxDeliveries: 4, beforeWrite: async () => void admitted++ },
      );
      expect(published.map((p) => p.endpoints.map((e) => e.id))).toEqual([[endpoints[0]!.id], [endpoints[0]!.id]]);
      expect(admitted).toBe(1);
    } finally {
      otherRedis.disconnect();
    }
  });

  it('claims an idempotency key with its event: the same request again is a repeat naming it, another request is reused', async () => {
    const endpoint = buildEndpoint({ subscriberId: sid, url: 'http://127.0.0.1:9/a' });
    await store.endpoints.save(endpoint);
    const [first] = await publisher.publish(sid, [{ type: 'incident.triggered', payload: { a: 1, b: 2 }, idempotencyKey: 'k1' }]);
    // Key order aside, the same request.
    const [again] = await publisher.publish(sid, [{ type: 'incident.triggered', payload: { b: 2, a: 1 }, idempotencyKey: 'k1' }]);
    const [other] = await publisher.publish(sid, [{ type: 'incident.triggered', payload: { a: 2 }, idempotencyKey: 'k1' }]);
    expect(first!.write.kind).toBe('new');
    // The key keeps the endpoints its publish created deliveries for.
    expect(again!.write).toEqual({ kind: 'repeat', eventId: first!.event.id, endpointIds: [endpoint.id] });
    expect(other!.write).toEqual({ kind: 'reused' });
    expect(await store.events.get(other!.event.id)).toBeNull();
    expect(await store.lanes.readyCount()).toBe(1);

    // The key's value keeps the format earlier versions read (a rolling deploy, a rollback); the
    // endpoints are kept beside it. A key an earlier version wrote has none: a repeat names its
    // event, and the caller looks its deliveries up.
    const key = store.idempotency.keyOf(sid, 'k1');
    expect(await db.redis.get(key)).toMatch(new RegExp(`^${first!.event.id}\\|[A-Za-z0-9_-]+$`));
    expect(await db.redis.get(`${key}:eps`)).toBe(endpoint.id);
    expect(await db.redis.pttl(`${key}:eps`)).toBeGreaterThan(0);
    await db.redis.del(`${key}:eps`);
    const [older] = await publisher.publish(sid, [{ type: 'incident.triggered', payload: { a: 1, b: 2 }, idempotencyKey: 'k1' }]);
    expect(older!.write).toEqual({ kind: 'repeat', eventId: first!.event.id });
    const [stillReused] = await publisher.publish(sid, [{ type: 'incident.triggered', payload: { a: 3 }, idempotencyKey: 'k1' }]);
    expect(stillReused!.write).toEqual({ kind: 'reused' });
  });
});
