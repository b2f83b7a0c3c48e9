// Test-only: a worker, a queue and a store on a private key prefix of the test Redis.
import type { DeliveryRecord, Endpoint, StoredEvent } from '@hookrelay/contracts';
import { createLogger, createMetrics, type HookrelayMetrics, type Logger } from '@hookrelay/observability';
import { createDeliveryQueue, createRedis, type DeliveryQueue } from '@hookrelay/queue';
import { Publisher } from '@hookrelay/publishing';
import { createStore, type Store } from '@hookrelay/store';
import { captureLogLines, requireRedisUrl, uniquePrefix } from '@hookrelay/testing';
import type Redis from 'ioredis';
import { createGuardedAgent } from './ssrf';
import { startDeliveryWorker, type DeliveryWorker, type DeliveryWorkerOptions } from './worker';
import type { DeliveryWorkerResources } from './worker-resources';

export interface EngineHarnessOptions extends Partial<DeliveryWorkerOptions> {
  /** @defaultValue the test Redis (requireRedisUrl) */
  redisUrl?: string;
  /** The worker's dispatcher lets deliveries reach loopback (the test receivers). @defaultValue true */
  allowPrivateTargets?: boolean;
  /** The worker's clock. @defaultValue Date.now */
  now?: () => number;
}

export interface EngineHarness {
  prefix: string;
  redis: Redis;
  store: Store;
  /** Publishes on the harness's store (its own group commit). */
  publisher: Publisher;
  queue: DeliveryQueue;
  worker: DeliveryWorker;
  metrics: HookrelayMetrics;
  logger: Logger;
  logLines: Array<Record<string, unknown>>;
  saveEndpoint(endpoint: Endpoint): Promise<Endpoint>;
  enqueue(event: StoredEvent, endpoint: Endpoint): Promise<string>;
  waitForState(deliveryId: string, states: DeliveryRecord['state'][], timeoutMs?: number): Promise<DeliveryRecord>;
  /** Resolves once nothing waits anywhere: no delivery in a lane, due, leased, or in a lane's queue. */
  waitForIdle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startEngineHarness(overrides: EngineHarnessOptions = {}): Promise<EngineHarness> {
  const { redisUrl = requireRedisUrl(), allowPrivateTargets = true, now = Date.now, ...workerOptions } = overrides;
  const prefix = uniquePrefix('engine');
  const { lines: logLines, destination } = captureLogLines();
  const logger = createLogger({ level: 'debug', destination });
  const metrics = createMetrics({ processMetrics: false });
  const redis = createRedis(redisUrl, 'store');
  const store = createStore({ redis, prefix });
  const publisher = new Publisher({ store });
  const queue = createDeliveryQueue({ connection: createRedis(redisUrl, 'queue'), keyPrefix: prefix });
  const resources = openWorkerResources(redisUrl, allowPrivateTargets, now);
  const worker = await startDeliveryWorker(resources, {
    keyPrefix: prefix,
    logger,
    metrics,
    concurrency: 20,
    ...workerOptions,
  });
  const harness: EngineHarness = {
    prefix,
    redis,
    store,
    publisher,
    queue,
    worker,
    metrics,
    logger,
    logLines,
    saveEndpoint: async (endpoint) => {
      await store.endpoints.save(endpoint);
      return endpoint;
    },
    enqueue: async (event, endpoint) => {
      const [[delivery] = []] = await publisher.enqueue([{ event, endpoints: [endpoint] }]);
      if (!delivery) throw new Error('enqueue returned no delivery');
      return delivery.id;
    },
    waitForState: async (deliveryId, states, timeoutMs = 10_000) => {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const d = await store.deliveries.get(deliveryId);
        if (d && states.includes(d.state)) return d;
        if (Date.now() > until) throw new Error(`delivery ${deliveryId} is ${d?.state ?? 'missing'}, expected ${states.join('|')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    waitForIdle: async (timeoutMs = 10_000) => {
      await waitUntilIdle(worker, timeoutMs);
    },
    close: async () => {
      await worker.close();
      await resources.close();
      await queue.close();
      (await queue.client).disconnect();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    },
  };
  return harness;
}

/**
 * The worker's connections, guarded dispatcher and clock, opened as apps/worker's
 * createWorkerResources opens them (minus its start-up Redis check: the test Redis is there).
 */
function openWorkerResources(
  redisUrl: string,
  allowPrivate: boolean,
  now: () => number,
): DeliveryWorkerResources & { close(): Promise<void> } {
  const redis = {
    store: createRedis(redisUrl, 'store'),
    subscriber: createRedis(redisUrl, 'subscriber'),
    queue: createRedis(redisUrl, 'queue'),
    signals: createRedis(redisUrl, 'subscriber'),
  };
  const dispatcher = createGuardedAgent({ allowPrivate });
  return {
    redis,
    dispatcher,
    now,
    close: async () => {
      if (!dispatcher.destroyed) await dispatcher.close();
      for (const connection of Object.values(redis)) connection.disconnect();
    },
  };
}

/** Nothing waits anywhere: the scheduler's lanes, due set and leases, and every lane's BullMQ queue. */
export async function waitUntilIdle(worker: Pick<DeliveryWorker, 'store' | 'queues'>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const sample = await worker.store.lanes.sample();
    const leases = await Promise.all((['fast', 'slow'] as const).map((lane) => worker.store.lanes.leaseCount(lane)));
    const jobs = await Promise.all(Object.values(worker.queues).map((q) => q.getJobCounts('wait', 'active', 'delayed', 'prioritized')));
    const busy =
      sample.ready +
      sample.due +
      leases.reduce((a, b) => a + b, 0) +
      jobs.reduce((n, c) => n + Object.values(c).reduce((a, b) => a + b, 0), 0);
    if (busy === 0) return;
    if (Date.now() > until) throw new Error(`still busy after ${timeoutMs} ms: ${JSON.stringify({ sample, leases, jobs })}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
