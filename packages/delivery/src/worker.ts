import { Worker, type Job } from 'bullmq';
import type Redis from 'ioredis';
import type { Dispatcher } from 'undici';
import { USER_AGENT, type DeliveryJobData } from '@hookrelay/contracts';
import type { HookrelayMetrics, Logger } from '@hookrelay/observability';
import { bullPrefix, createDeliveryQueue, createRedis, DELIVERY_QUEUE_NAME, type DeliveryQueue } from '@hookrelay/queue';
import { createStore, type Store } from '@hookrelay/store';
import { EndpointCache } from './endpoint-cache';
import { RetryLaterError } from './errors';
import { startOutboxSweeper } from './outbox-sweeper';
import { createDeliveryProcessor } from './processor';
import { createGuardedAgent } from './ssrf';

export interface DeliveryWorkerOptions {
  redisUrl: string;
  logger: Logger;
  metrics: HookrelayMetrics;
  /** Deliveries in flight at once. @defaultValue 100 */
  concurrency?: number;
  /** Let deliveries reach loopback, private and link-local addresses (tests, local demo). @defaultValue false */
  allowPrivateTargets?: boolean;
  /** @defaultValue 'hookrelay' */
  keyPrefix?: string;
  /** @defaultValue 30 days */
  retentionMs?: number;
  /** A job whose worker stops renewing its lock for this long is given to another worker. @defaultValue 30000 */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for. @defaultValue 30000 */
  stalledIntervalMs?: number;
  /** @defaultValue 5000 */
  endpointCacheTtlMs?: number;
  /** @defaultValue 10000 */
  outboxSweepIntervalMs?: number;
  /** @defaultValue 30000 */
  outboxGraceMs?: number;
  /** Connections per receiver origin. @defaultValue 64 */
  connectionsPerOrigin?: number;
  /** Replace the HTTP dispatcher (its SSRF guard goes with it). */
  dispatcher?: Dispatcher;
  now?: () => number;
}

export interface DeliveryWorker {
  worker: Worker<DeliveryJobData>;
  store: Store;
  queue: DeliveryQueue;
  /** Stops taking jobs, lets in-flight deliveries finish, closes every connection. */
  close(): Promise<void>;
}

/** Pauses a retry for exactly what the processor decided; anything else unexpected waits 5 s. */
function backoffStrategy(_attemptsMade: number, _type?: string, err?: Error): number {
  return err instanceof RetryLaterError ? err.delayMs : 5000;
}

export async function startDeliveryWorker(options: DeliveryWorkerOptions): Promise<DeliveryWorker> {
  const keyPrefix = options.keyPrefix ?? 'hookrelay';
  const now = options.now ?? Date.now;
  const storeRedis = createRedis(options.redisUrl, 'store');
  const subscriber = createRedis(options.redisUrl, 'subscriber');
  const queueRedis = createRedis(options.redisUrl, 'queue');
  const store = createStore({ redis: storeRedis, prefix: keyPrefix, retentionMs: options.retentionMs, now });
  const queue = createDeliveryQueue({ connection: queueRedis, keyPrefix });
  const endpoints = await EndpointCache.start({ store: store.endpoints, keys: store.keys, subscriber, ttlMs: options.endpointCacheTtlMs, now });
  const dispatcher =
    options.dispatcher ?? createGuardedAgent({ allowPrivate: options.allowPrivateTargets ?? false }, { connections: options.connectionsPerOrigin ?? 64 });

  const processor = createDeliveryProcessor({
    store,
    endpoints,
    dispatcher,
    logger: options.logger,
    metrics: options.metrics,
    userAgent: USER_AGENT,
    now,
  });
  const worker = new Worker<DeliveryJobData>(DELIVERY_QUEUE_NAME, (job: Job<DeliveryJobData>) => processor(job), {
    connection: queueRedis,
    prefix: bullPrefix(keyPrefix),
    concurrency: options.concurrency ?? 100,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    // A job whose worker died is handed out again; only a job that kills workers over and over
    // (twenty times) is given up on, so a crash-looping deployment does not lose deliveries.
    maxStalledCount: 20,
    settings: { backoffStrategy },
  });
  worker.on('error', (err) => options.logger.error({ err }, 'worker.error'));
  const sweeper = startOutboxSweeper({
    store,
    queue,
    logger: options.logger,
    intervalMs: options.outboxSweepIntervalMs,
    graceMs: options.outboxGraceMs,
    now,
  });

  return {
    worker,
    store,
    queue,
    close: async () => {
      sweeper.stop();
      await worker.close();
      await queue.close();
      await endpoints.close();
      if (!options.dispatcher) await dispatcher.close();
      for (const redis of [storeRedis, subscriber, queueRedis] as Redis[]) redis.disconnect();
    },
  };
}
