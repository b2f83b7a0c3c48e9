import Redis from 'ioredis';
import { requireRedisUrl, useRedisPrefix } from '@hookrelay/testing';
import { createStore } from './index';

/**
 * The API's store connection pipelines automatically (@hookrelay/queue createRedis): the commands of
 * one tick go in one pipeline, created by the first of them. A script defined after that (the source
 * request history's, once defined on first use) is missing from it, and ioredis's exec callback then
 * threw `results[i] is not iterable` outside any promise (redis/ioredis#1931): an uncaught exception
 * that killed the API, while the tick's other commands were never answered and the connection stopped
 * sending. custom-commands.test.ts checks every script; this shows the crash on a real connection.
 */
describe('a fresh store on an auto-pipelined connection', () => {
  // Keys are deleted on this plain connection: after the crash, the auto-pipelined one no longer sends.
  const db = useRedisPrefix('cold-store');

  it('records source requests sent in the same tick as other commands, as its first writes', async () => {
    const redis = new Redis(requireRedisUrl(), { enableAutoPipelining: true });
    try {
      const store = createStore({ redis, prefix: db.prefix });
      // A history is written only while its source exists.
      await db.redis.set(store.keys.source('src_cold'), '{}');
      await redis.ping();
      const now = Date.now();
      const record = (i: number) => ({ id: `req_${i}`, at: now + i, method: 'POST', status: 202, outcome: 'published' as const, bytes: 2 });
      // One tick: a plain command opens the tick's auto-pipeline, then the first history writes.
      const tick = Promise.all([
        redis.get(`${db.prefix}:unrelated`),
        ...Array.from({ length: 3 }, (_, i) => store.sources.recordRequest('src_cold', record(i))),
      ]);
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('the tick was never answered')), 5_000).unref());
      await expect(Promise.race([tick, timeout])).resolves.toEqual([null, undefined, undefined, undefined]);
      expect((await store.sources.listRequests('src_cold', { limit: 10 })).items.map((r) => r.id)).toEqual(['req_2', 'req_1', 'req_0']);
    } finally {
      redis.disconnect();
    }
  });
});
