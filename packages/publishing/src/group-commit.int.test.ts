import type Redis from 'ioredis';
import { createRedis } from '@hookrelay/queue';
import { createStore, type Store } from '@hookrelay/store';
import { buildEndpoint, buildEvent, startRedisServer, uniquePrefix, type RedisServerHandle } from '@hookrelay/testing';
import { Publisher } from './publisher';

/** Calls of `command` Redis has served so far (INFO commandstats); 'evalsha' counts EVAL too (a script's first call). */
async function calls(redis: Redis, command: string): Promise<number> {
  const stats = await redis.info('commandstats');
  const count = (name: string) => Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
  return command === 'evalsha' ? count('evalsha') + count('eval') : count(command);
}

describe('Publisher.enqueue as a group commit', () => {
  // A private redis-server: the test counts transactions, which other suites would add to.
  let server: RedisServerHandle;
  let redis: Redis;
  let store: Store;
  let publisher: Publisher;

  beforeAll(async () => {
    server = await startRedisServer();
    redis = createRedis(server.url, 'store');
    const prefix = uniquePrefix('group');
    store = createStore({ redis, prefix });
    publisher = new Publisher({ store });
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('writes calls made in the same turn of the event loop in one transaction, and answers each caller with its own deliveries', async () => {
    const endpoints = [buildEndpoint({ url: 'http://127.0.0.1:9/a' }), buildEndpoint({ url: 'http://127.0.0.1:9/b' })];
    const events = Array.from({ length: 40 }, () => buildEvent());
    const before = { exec: await calls(redis, 'exec'), evalsha: await calls(redis, 'evalsha') };
    const answers = await Promise.all(events.map((event, i) => publisher.enqueue([{ event, endpoints: endpoints.slice(0, 1 + (i % 2)) }])));
    // One write: a single create-event call, which needs no MULTI around it.
    expect((await calls(redis, 'evalsha')) - before.evalsha).toBe(1);
    expect((await calls(redis, 'exec')) - before.exec).toBe(0);
    answers.forEach(([deliveries], i) => {
      expect(deliveries!.map((d) => [d.eventId, d.endpointId, d.created])).toEqual(
        endpoints.slice(0, 1 + (i % 2)).map((e) => [events[i]!.id, e.id, true]),
      );
    });
    // Every delivery is in its endpoint's lane, waiting for a worker's admission.
    expect(await store.lanes.readyCount()).toBe(60);
    for (const endpoint of endpoints) expect(await store.lanes.liveFor(endpoint.id)).toHaveLength(endpoint === endpoints[0] ? 40 : 20);
    for (const [deliveries] of answers) expect(await store.deliveries.get(deliveries![0]!.id)).toMatchObject({ state: 'pending' });
  });

  it('starts a new transaction once one holds 5,000 deliveries', async () => {
    const endpoints = Array.from({ length: 1000 }, (_, i) => buildEndpoint({ id: `ep_many${i}`, url: 'http://127.0.0.1:9/' }));
    const before = { exec: await calls(redis, 'exec'), evalsha: await calls(redis, 'evalsha') };
    const answers = await Promise.all(Array.from({ length: 6 }, () => publisher.enqueue([{ event: buildEvent(), endpoints }])));
    // Two writes: the first five events (5,000 deliveries) in one create-event call, then the sixth
    // in a call of its own. (A call is split, inside a transaction, at ~24,000 keys and arguments.)
    expect((await calls(redis, 'exec')) - before.exec).toBe(0);
    expect((await calls(redis, 'evalsha')) - before.evalsha).toBe(2);
    expect(answers.map(([d]) => d!.filter((x) => x.created).length)).toEqual(Array(6).fill(1000));
  });

  describe('when a subscriber publishes events that make no deliveries, or large ones', () => {
    it('starts a new transaction once one holds 1,000 events, whatever their deliveries', async () => {
      const before = await calls(redis, 'evalsha');
      // 1,500 callers with no endpoint each: 1,500 events and not one delivery.
      const answers = await Promise.all(Array.from({ length: 1500 }, () => publisher.enqueue([{ event: buildEvent(), endpoints: [] }])));
      // Two transactions (1,000 and 500 events), each a single create-event call.
      expect((await calls(redis, 'evalsha')) - before).toBe(2);
      expect(answers).toHaveLength(1500);
      expect(answers.every((deliveries) => Array.isArray(deliveries) && deliveries.length === 1 && deliveries[0]!.length === 0)).toBe(true);
    });

    it('starts a new transaction once one holds 4 Mi characters of payload', async () => {
      const endpoint = buildEndpoint({ url: 'http://127.0.0.1:9/' });
      const payload = JSON.stringify({ blob: 'x'.repeat(1024 * 1024 - 20) });
      const before = await calls(redis, 'evalsha');
      const answers = await Promise.all(
        Array.from({ length: 9 }, () => publisher.enqueue([{ event: buildEvent({ payload }), endpoints: [endpoint] }])),
      );
      // Four events of ~1 MiB a transaction: 4 + 4 + 1.
      expect((await calls(redis, 'evalsha')) - before).toBe(3);
      expect(answers.map(([d]) => d!.filter((x) => x.created).length)).toEqual(Array(9).fill(1));
    });
  });

  it('takes no caller into a transaction that it would bring over 5,000 deliveries: that caller starts the next', async () => {
    const endpoints = Array.from({ length: 1000 }, (_, i) => buildEndpoint({ id: `ep_over${i}`, url: 'http://127.0.0.1:9/' }));
    const before = { exec: await calls(redis, 'exec'), evalsha: await calls(redis, 'evalsha') };
    // 4,999 deliveries, then a caller of 1,000 more: two transactions (4,999 and 1,000), not one of 5,999.
    const small = Array.from({ length: 4999 }, (_, i) => buildEndpoint({ id: `ep_small${i}`, url: 'http://127.0.0.1:9/' }));
    const answers = await Promise.all([
      publisher.enqueue([{ event: buildEvent(), endpoints: small }]),
      publisher.enqueue([{ event: buildEvent(), endpoints }]),
    ]);
    // The first is one event of 4,999 deliveries: a single create-event call (the key split never
    // divides an event), no MULTI; the second a call of its own.
    expect((await calls(redis, 'exec')) - before.exec).toBe(0);
    expect((await calls(redis, 'evalsha')) - before.evalsha).toBe(2);
    expect(answers.map(([d]) => d!.filter((x) => x.created).length)).toEqual([4999, 1000]);
  });
});
