import type { Endpoint } from '@hookrelay/contracts';
import { createRedis } from '@hookrelay/queue';
import { createStore, type Store } from '@hookrelay/store';
import { buildEndpoint, buildEvent, requireRedisUrl, TestReceiver, uniquePrefix } from '@hookrelay/testing';
import type Redis from 'ioredis';
import { EndpointCache } from './endpoint-cache';
import { startEngineHarness, type EngineHarness } from './engine-harness';

// Issue 20, item 7: a cached endpoint is never used for an attempt after a change to it.
describe('EndpointCache', () => {
  let redis: Redis;
  let subscriber: Redis;
  let store: Store;
  let endpoint: Endpoint;

  beforeEach(async () => {
    redis = createRedis(requireRedisUrl(), 'store');
    subscriber = createRedis(requireRedisUrl(), 'subscriber');
    store = createStore({ redis, prefix: uniquePrefix('ep-cache') });
    endpoint = buildEndpoint({ url: 'http://127.0.0.1:9/old' });
    expect(await store.endpoints.create(endpoint, 10)).toBe(true);
  });
  afterEach(() => {
    redis.disconnect();
    subscriber.disconnect();
  });

  it('drops expired copies as it grows, so endpoints not used lately (and their open secrets) do not stay for the process life', async () => {
    let now = 1_000_000;
    let loads = 0;
    const loaded = (id: string) => {
      loads++;
      return { endpoint: { ...endpoint, id }, version: 1 };
    };
    const cache = await EndpointCache.start({
      store: { getVersioned: async (id: string) => loaded(id) },
      keys: store.keys,
      subscriber,
      ttlMs: 5000,
      now: () => now,
    });
    try {
      for (let i = 0; i < 1000; i++) await cache.get(`ep_old${i}`);
      expect(cache.size).toBe(1000);
      // Past their TTL, 1,000 more: the first sweep (at 1,024) drops the expired thousand.
      now += 6000;
      for (let i = 0; i < 1000; i++) await cache.get(`ep_new${i}`);
      // What is left: the fresh copies loaded since (from 1,024 on, the sweep dropped all 1,000 old).
      expect(cache.size).toBe(1000);
      expect(loads).toBe(2000);
      // The fresh ones stay cached: a get answers without loading.
      const before = loads;
      for (let i = 0; i < 10; i++) expect(await cache.get(`ep_new${990 + i}`)).toMatchObject({ id: `ep_new${990 + i}` });
      expect(loads).toBe(before);
    } finally {
      await cache.close();
    }
  });

  it('tells its owner on each reconnect, when change messages may have been lost', async () => {
    let resyncs = 0;
    const cache = await EndpointCache.start({ store: store.endpoints, keys: store.keys, subscriber, onResync: () => resyncs++ });
    const before = resyncs;
    subscriber.disconnect(true);
    const deadline = Date.now() + 5000;
    while (resyncs === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(resyncs).toBe(before + 1);
    await cache.close();
  });

  // ioredis writes a SUBSCRIBE sent between its socket opening and its ready check at once; the
  // check's INFO then failed in subscriber mode, ioredis reconnected without subscribing again, and
  // the worker heard no endpoint change for its life (seen in `npm run bench`'s `npm start`).
  it('hears changes when it starts while its connection is still connecting', async () => {
    const connecting = createRedis(requireRedisUrl(), 'subscriber', { lazyConnect: true });
    const errors: string[] = [];
    connecting.on('error', (err: Error) => errors.push(err.message));
    const changed: string[] = [];
    const started = new Promise<EndpointCache>((resolve, reject) => {
      // 'connect' comes before ioredis writes its own start-up commands and its ready check.
      connecting.once('connect', () => {
        EndpointCache.start({ store: store.endpoints, keys: store.keys, subscriber: connecting, onChange: (id) => changed.push(id) }).then(
          resolve,
          reject,
        );
      });
    });
    // Before the fix this first connection attempt failed ("Connection is closed."): its ready check did.
    const connected = connecting.connect().catch((err: Error) => errors.push(err.message));
    try {
      const cache = await started;
      await connected;
      const deadline = Date.now() + 5000;
      while (!changed.includes(endpoint.id) && Date.now() < deadline) {
        await redis.publish(store.keys.endpointChanges(), endpoint.id);
        await new Promise((r) => setTimeout(r, 20));
      }
      await cache.close();
      expect({ changed: changed.includes(endpoint.id), errors }).toEqual({ changed: true, errors: [] });
    } finally {
      connecting.disconnect();
    }
  });

  /** The real store, its first load of `endpoint` held between reading Redis and answering until `release`. */
  function firstLoadHeld() {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const loads: string[] = [];
    const held = {
      getVersioned: async (id: string) => {
        loads.push(id);
        const first = id === endpoint.id && loads.filter((l) => l === id).length === 1;
        const read = await store.endpoints.getVersioned(id);
        if (first) await gate;
        return read;
      },
    };
    return { store: held, loads, release: () => release() };
  }

  /** A cache over firstLoadHeld's store, and the change messages it heard. */
  async function startWithFirstLoadHeld() {
    const held = firstLoadHeld();
    const changed: string[] = [];
    const cache = await EndpointCache.start({
      store: held.store,
      keys: store.keys,
      subscriber,
      ttlMs: 60_000,
      onChange: (id) => changed.push(id),
    });
    return { held, changed, cache };
  }

  /** Waits (at most 5 s) until `changed` holds `count` messages for `id`. */
  async function heard(changed: string[], id: string, count = 1): Promise<void> {
    for (const until = Date.now() + 5000; changed.filter((c) => c === id).length < count && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 5));
    expect(changed.filter((c) => c === id)).toHaveLength(count);
  }

  it('does not keep a load that started before a change message, even when it ends after it', async () => {
    const { held, changed, cache } = await startWithFirstLoadHeld();
    try {
      const before = cache.get(endpoint.id);
      // The change lands and is announced while the load that read the old endpoint is held.
      await store.endpoints.save({ ...endpoint, url: 'http://127.0.0.1:9/new' });
      await heard(changed, endpoint.id);
      held.release();
      expect((await before)?.url).toBe('http://127.0.0.1:9/old');
      // The stale load answered its own caller only: the next read is the changed endpoint.
      expect((await cache.get(endpoint.id))?.url).toBe('http://127.0.0.1:9/new');
    } finally {
      await cache.close();
    }
  });

  it("keeps a load that ran while another endpoint's changes were heard", async () => {
    // Another subscriber's endpoint, changed over and over while this one's load runs.
    const other = buildEndpoint({ url: 'http://127.0.0.1:9/other', subscriberId: 'sub_other' });
    expect(await store.endpoints.create(other, 10)).toBe(true);
    const { held, changed, cache } = await startWithFirstLoadHeld();
    try {
      const first = cache.get(endpoint.id);
      for (let i = 0; i < 5; i++) await store.endpoints.update(other.id, { description: `change ${i}` });
      await heard(changed, other.id, 5);
      held.release();
      expect((await first)?.url).toBe('http://127.0.0.1:9/old');
      // Kept: the next read is answered from the cache, without a second load.
      expect((await cache.get(endpoint.id))?.url).toBe('http://127.0.0.1:9/old');
      expect(held.loads).toEqual([endpoint.id]);
    } finally {
      await cache.close();
    }
  });

  it('does not keep a load that ran across a reconnect, when change messages may have been lost', async () => {
    const held = firstLoadHeld();
    let resyncs = 0;
    const cache = await EndpointCache.start({ store: held.store, keys: store.keys, subscriber, ttlMs: 60_000, onResync: () => resyncs++ });
    try {
      // The connection's first `ready` may come while the cache starts (it subscribes once ready),
      // and counts as a resync: only the reconnect below is waited for.
      const before = resyncs;
      const first = cache.get(endpoint.id);
      subscriber.disconnect(true);
      for (const until = Date.now() + 5000; resyncs === before && Date.now() < until;) await new Promise((r) => setTimeout(r, 5));
      expect(resyncs).toBe(before + 1);
      held.release();
      await first;
      await cache.get(endpoint.id);
      expect(held.loads).toEqual([endpoint.id, endpoint.id]);
    } finally {
      await cache.close();
    }
  });

  it('reloads a copy older than the version an attempt read, when the change message never arrived', async () => {
    const cache = await EndpointCache.start({ store: store.endpoints, keys: store.keys, subscriber, ttlMs: 60_000 });
    try {
      expect((await cache.get(endpoint.id))?.url).toBe('http://127.0.0.1:9/old');
      // Pub/sub is fire-and-forget: this change is never heard (nothing is subscribed any more).
      await cache.close();
      await store.endpoints.save({ ...endpoint, url: 'http://127.0.0.1:9/new', status: 'disabled' });
      const { version } = await store.endpoints.getVersioned(endpoint.id);
      expect(version).toBe(1);
      expect((await cache.get(endpoint.id, version))?.status).toBe('disabled');
      await store.endpoints.delete(endpoint);
      expect(await cache.get(endpoint.id, version + 1)).toBeNull();
    } finally {
      await cache.close();
    }
  });
});

describe('the worker after an endpoint is re-pointed', () => {
  let h: EngineHarness;
  let before: TestReceiver;
  let after: TestReceiver;

  beforeEach(async () => {
    // A long TTL: only the version can make the worker drop its copy.
    h = await startEngineHarness({ endpointCacheTtlMs: 60_000 });
    before = await TestReceiver.start({ status: 200 });
    after = await TestReceiver.start({ status: 200 });
  });
  afterEach(async () => {
    await h.close();
    await before.close();
    await after.close();
  });

  it('sends no delivery to the old URL once the change is written, even if its change message is lost', async () => {
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: before.url }));
    await h.enqueue(buildEvent(), endpoint);
    await before.waitForRequests(1);
    // The change as EndpointStore.save writes it (endpoint and version in one transaction), but
    // with its pub/sub message lost: what a worker that missed it has to go by.
    await h.redis
      .multi()
      .set(h.store.keys.endpoint(endpoint.id), JSON.stringify({ ...endpoint, url: after.url }))
      .incr(h.store.keys.endpointVersion(endpoint.id))
      .exec();
    const id = await h.enqueue(buildEvent(), endpoint);
    await h.waitForState(id, ['delivered']);
    expect(after.requests).toHaveLength(1);
    expect(before.requests).toHaveLength(1);
  });
});
