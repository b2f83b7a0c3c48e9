import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Publisher } from '@hookrelay/publishing';
import { createDeliveryQueue, createRedis } from '@hookrelay/queue';
import { createStore } from '@hookrelay/store';
import { buildEndpoint, buildEvent, requireRedisUrl, TestReceiver, uniquePrefix } from '@hookrelay/testing';

const ROOT = join(__dirname, '..', '..', '..');
const EVENTS = 100;

/** The real worker program, as `npm run start:worker` runs it, in a process we can SIGKILL. */
function startWorkerProcess(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'apps/worker/src/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

describe('when a worker process is killed with SIGKILL mid-delivery', () => {
  it('delivers every job after a new worker starts', async () => {
    const redisUrl = requireRedisUrl();
    const prefix = uniquePrefix('crash');
    const redis = createRedis(redisUrl, 'store');
    const queueRedis = createRedis(redisUrl, 'queue');
    const store = createStore({ redis, prefix });
    const queue = createDeliveryQueue({ connection: queueRedis, keyPrefix: prefix });
    // Slow answers keep many deliveries in flight when the kill lands.
    const receiver = await TestReceiver.start({ status: 200, delayMs: 150 });
    const env = {
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      HOOKRELAY_ALLOW_PRIVATE_TARGETS: 'true',
      // Its endpoint retries 50 ms apart.
      HOOKRELAY_MIN_RETRY_INTERVAL_MS: '1',
      WORKER_CONCURRENCY: '10',
      WORKER_LOCK_DURATION_MS: '1000',
      WORKER_STALLED_INTERVAL_MS: '300',
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
    };
    let worker: ChildProcess | undefined;
    try {
      const endpoint = buildEndpoint({ url: receiver.url, retry: { maxRetries: 3, intervalMs: 50, backoff: 'fixed' } });
      await store.endpoints.save(endpoint);
      const events = Array.from({ length: EVENTS }, () => buildEvent());
      const created = await new Publisher({ store }).enqueue(events.map((event) => ({ event, endpoints: [endpoint] })));
      const deliveryIds = created.flat().map((d) => d.id);

      worker = startWorkerProcess(env);
      await receiver.waitForRequests(15, 20_000);
      worker.kill('SIGKILL');
      await new Promise((r) => worker!.once('exit', r));
      const seenAtKill = receiver.requests.length;
      expect(seenAtKill).toBeLessThan(EVENTS);

      worker = startWorkerProcess(env);
      const until = Date.now() + 30_000;
      let records = await store.deliveries.getMany(deliveryIds);
      while (records.some((d) => d.state !== 'delivered') && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 100));
        records = await store.deliveries.getMany(deliveryIds);
      }
      expect(records.filter((d) => d.state === 'delivered')).toHaveLength(EVENTS);
      const received = new Set(receiver.requests.map((r) => String(r.headers['x-hookrelay-event-id'])));
      expect(received).toEqual(new Set(events.map((e) => e.id)));
      // At-least-once: requests in flight at the kill may arrive twice; the receiver dedupes on the event id.
      const duplicates = receiver.requests.length - received.size;
      expect(duplicates).toBeLessThanOrEqual(10);
    } finally {
      worker?.kill('SIGKILL');
      await receiver.close();
      await queue.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      queueRedis.disconnect();
    }
  }, 60_000);
});
