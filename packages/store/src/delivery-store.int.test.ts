import Redis from 'ioredis';
import { buildEndpoint, buildEvent, requireRedisUrl, uniquePrefix } from '@hookrelay/testing';
import { createStore, type Store } from './index';

describe('DeliveryStore re-opening and patching', () => {
  let redis: Redis;
  let store: Store;
  let prefix: string;

  beforeAll(() => {
    redis = new Redis(requireRedisUrl());
  });
  afterAll(() => redis.disconnect());
  beforeEach(() => {
    prefix = uniquePrefix('deliveries');
    store = createStore({ redis, prefix });
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  });

  async function endedDelivery(state: 'failed' | 'delivered', attempts = 1): Promise<string> {
    const [[d] = []] = await store.deliveries.createForEvents([{ event: buildEvent(), endpoints: [buildEndpoint({ url: 'http://127.0.0.1:9/' })] }]);
    await store.deliveries.recordAttempt(d!.id, { attempt: attempts, startedAt: 1, durationMs: 1, outcome: state === 'failed' ? 'failed' : 'delivered', requestHeaders: {} }, { state, attempts, failureReason: state === 'failed' ? 'HTTP 500' : undefined });
    return d!.id;
  }

  it('re-opens an ended delivery once, from the states asked for, at the attempt count the caller read', async () => {
    const failed = await endedDelivery('failed', 2);
    const delivered = await endedDelivery('delivered');
    expect(await store.deliveries.reopen([{ id: failed, attempts: 1 }], ['failed'])).toEqual([]);
    expect(await store.deliveries.reopen([{ id: delivered, attempts: 1 }], ['failed'])).toEqual([]);
    const racing = await Promise.all([0, 1, 2].map(() => store.deliveries.reopen([{ id: failed, attempts: 2 }, { id: delivered, attempts: 1 }], ['failed', 'delivered'])));
    expect(racing.flat().sort()).toEqual([failed, delivered].sort());
    expect(await store.deliveries.get(failed)).toMatchObject({ state: 'pending', attempts: 2 });
    expect((await store.deliveries.get(failed))!.failureReason).toBeUndefined();
    expect(await store.deliveries.reopen([{ id: 'dlv_gone', attempts: 0 }], ['failed'])).toEqual([]);
    expect(await redis.exists(store.keys.delivery('dlv_gone'))).toBe(0);
  });

  it('patches fields and clears the ones named, keeping the record expiry', async () => {
    const id = await endedDelivery('failed');
    await redis.hset(store.keys.delivery(id), 'state', 'retrying', 'nextAttemptAt', 99);
    const ttl = await redis.pttl(store.keys.delivery(id));
    await store.deliveries.patch(id, { state: 'failed', failureReason: 'endpoint_disabled' }, ['nextAttemptAt']);
    const d = (await store.deliveries.get(id))!;
    expect(d).toMatchObject({ state: 'failed', failureReason: 'endpoint_disabled' });
    expect(d.nextAttemptAt).toBeUndefined();
    expect(await redis.pttl(store.keys.delivery(id))).toBeGreaterThan(ttl - 1000);
  });
});
