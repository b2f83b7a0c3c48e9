// Test-only: a worker, a queue and a store on a private key prefix of the test Redis.
import type { DeliveryRecord, Endpoint, StoredEvent } from '@hookrelay/contracts';
import { createLogger, createMetrics, type HookrelayMetrics, type Logger } from '@hookrelay/observability';
import { createDeliveryQueue, createRedis, type DeliveryQueue } from '@hookrelay/queue';
import { createStore, type Store } from '@hookrelay/store';
import { captureLogLines, deleteKeysUnder, requireRedisUrl, uniquePrefix, useFixture, type FixtureScope } from '@hookrelay/testing';
import type Redis from 'ioredis';
import { enqueueDelivery } from './enqueue';
import { startDeliveryWorker, type DeliveryWorker, type DeliveryWorkerOptions } from './worker';

export interface EngineHarness {
  prefix: string;
  redis: Redis;
  store: Store;
  queue: DeliveryQueue;
  worker: DeliveryWorker;
  metrics: HookrelayMetrics;
  logger: Logger;
  logLines: Array<Record<string, unknown>>;
  saveEndpoint(endpoint: Endpoint): Promise<Endpoint>;
  enqueue(event: StoredEvent, endpoint: Endpoint): Promise<string>;
  waitForState(deliveryId: string, states: DeliveryRecord['state'][], timeoutMs?: number): Promise<DeliveryRecord>;
  close(): Promise<void>;
}

/** A test's logger (every line captured, parsed) and a metrics registry of its own. */
export function testObservability(): { logger: Logger; metrics: HookrelayMetrics; logLines: Array<Record<string, unknown>> } {
  const { lines: logLines, destination } = captureLogLines();
  return { logger: createLogger({ level: 'debug', destination }), metrics: createMetrics({ processMetrics: false }), logLines };
}

/**
 * A delivery worker as tests run it (the engine harness and the API harness alike): private targets
 * allowed, 20 at a time, ready to take jobs when it resolves.
 */
export async function startTestWorker(
  options: Pick<DeliveryWorkerOptions, 'redisUrl' | 'keyPrefix' | 'logger' | 'metrics'> & Partial<DeliveryWorkerOptions>,
): Promise<DeliveryWorker> {
  const worker = await startDeliveryWorker({ allowPrivateTargets: true, concurrency: 20, ...options });
  // A BullMQ Worker closed before its blocking connection is ready emits "Connection is closed" on a
  // connection nobody listens to any more: an unhandled error that fails whichever test runs next.
  await worker.worker.waitUntilReady();
  return worker;
}

export async function startEngineHarness(overrides: Partial<DeliveryWorkerOptions> = {}): Promise<EngineHarness> {
  const redisUrl = overrides.redisUrl ?? requireRedisUrl();
  const prefix = uniquePrefix('engine');
  const { logger, metrics, logLines } = testObservability();
  const redis = createRedis(redisUrl, 'store');
  const store = createStore({ redis, prefix });
  const queue = createDeliveryQueue({ connection: createRedis(redisUrl, 'queue'), keyPrefix: prefix });
  const worker = await startTestWorker({ redisUrl, keyPrefix: prefix, logger, metrics, ...overrides });
  const harness: EngineHarness = {
    prefix,
    redis,
    store,
    queue,
    worker,
    metrics,
    logger,
    logLines,
    saveEndpoint: async (endpoint) => {
      await store.endpoints.save(endpoint);
      return endpoint;
    },
    enqueue: async (event, endpoint) => (await enqueueDelivery({ store }, event, endpoint)).id,
    waitForState: async (deliveryId, states, timeoutMs = 10_000) => {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const d = await store.deliveries.get(deliveryId);
        if (d && states.includes(d.state)) return d;
        if (Date.now() > until) throw new Error(`delivery ${deliveryId} is ${d?.state ?? 'missing'}, expected ${states.join('|')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: async () => {
      await worker.close();
      await queue.close();
      (queue.opts.connection as Redis).disconnect();
      await deleteKeysUnder(redis, prefix);
      redis.disconnect();
    },
  };
  return harness;
}

/**
 * An engine harness started before the suite (or each test, with scope 'each') and closed after it.
 * `overrides` may be a function, read when the harness starts (after the fixtures declared before it).
 */
export function useEngineHarness(
  overrides: Partial<DeliveryWorkerOptions> | (() => Partial<DeliveryWorkerOptions>) = {},
  scope: FixtureScope = 'all',
): EngineHarness {
  return useFixture(
    () => startEngineHarness(typeof overrides === 'function' ? overrides() : overrides),
    (h) => h.close(),
    scope,
  );
}
