import { DelayedError, Worker, type Job } from 'bullmq';
import type Redis from 'ioredis';
import type { Dispatcher } from 'undici';
import { USER_AGENT, type DeliveryJobData } from '@hookrelay/contracts';
import type { HookrelayMetrics, Logger } from '@hookrelay/observability';
import { bullPrefix, createDeliveryQueue, createRedis, DELIVERY_JOB_RETENTION, DELIVERY_QUEUE_NAME, type DeliveryQueue } from '@hookrelay/queue';
import type { SecretBox } from '@hookrelay/secrets';
import { createStore, type Store } from '@hookrelay/store';
import { AuthenticatedSender } from './auth/authenticated-send';
import { DigestSessions } from './auth/digest-sessions';
import { OAuthTokenCache } from './auth/oauth-token-cache';
import { EndpointCache } from './endpoint-cache';
import { OriginBusyError, RetryLaterError } from './errors';
import { OriginSlots } from './origin-slots';
import { createDeliveryProcessor } from './processor';
import { EndpointGuard, type CircuitBreakerPolicy } from './endpoint-guard';
import { startQueueSampler } from './queue-sampler';
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
  /** Connections per receiver origin. @defaultValue 64 */
  connectionsPerOrigin?: number;
  /**
   * Attempts in flight to one receiver origin; a job beyond it goes back to the queue for about a
   * second, so one slow receiver cannot hold all `concurrency` slots. @defaultValue connectionsPerOrigin
   * (an attempt beyond the origin's connections would only wait in the pool, holding a slot)
   */
  maxInFlightPerOrigin?: number;
  /** An OAuth token is refreshed this long before it expires (at most a tenth of its lifetime). @defaultValue 30000 */
  oauthRefreshMarginMs?: number;
  /** Deadline of one OAuth token request. @defaultValue 10000 */
  oauthTokenTimeoutMs?: number;
  /** When repeated failures disable an endpoint. @defaultValue 50 failed deliveries over at least 24 h */
  circuitBreaker?: CircuitBreakerPolicy;
  /** How often queue depth and endpoint counts are sampled into the gauges; 0 turns it off. @defaultValue 10000 */
  metricsSampleIntervalMs?: number;
  /** Replace the HTTP dispatcher (its SSRF guard goes with it). */
  dispatcher?: Dispatcher;
  /** Opens the endpoints' stored secrets (HOOKRELAY_ENCRYPTION_KEYS). @defaultValue no keys: plain text */
  secrets?: SecretBox;
  now?: () => number;
}

export interface DeliveryWorker {
  worker: Worker<DeliveryJobData>;
  store: Store;
  queue: DeliveryQueue;
  guard: EndpointGuard;
  /**
   * Stops taking jobs and lets in-flight deliveries finish, for at most `deadlineMs`; deliveries
   * still running then are abandoned unrecorded, and BullMQ's stalled-job check hands them to another
   * worker (at least once). Then closes every connection.
   */
  close(deadlineMs?: number): Promise<void>;
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
  const store = createStore({ redis: storeRedis, prefix: keyPrefix, retentionMs: options.retentionMs, now, secrets: options.secrets });
  const queue = createDeliveryQueue({ connection: queueRedis, keyPrefix });
  const endpoints = await EndpointCache.start({ store: store.endpoints, keys: store.keys, subscriber, ttlMs: options.endpointCacheTtlMs, now });
  const dispatcher =
    options.dispatcher ?? createGuardedAgent({ allowPrivate: options.allowPrivateTargets ?? false }, { connections: options.connectionsPerOrigin ?? 64 });

  // OAuth token requests go through the same guarded dispatcher as deliveries: a token URL is
  // as much a user-chosen target as a receiver URL.
  const oauth = new OAuthTokenCache({
    dispatcher,
    userAgent: USER_AGENT,
    logger: options.logger,
    now,
    refreshMarginMs: options.oauthRefreshMarginMs,
    timeoutMs: options.oauthTokenTimeoutMs,
  });
  const auth = new AuthenticatedSender({ dispatcher, oauth, digest: new DigestSessions(), logger: options.logger, now });
  const guard = new EndpointGuard({ store, queue, logger: options.logger, metrics: options.metrics, policy: options.circuitBreaker, now });
  const processor = createDeliveryProcessor({
    guard,
    store,
    endpoints,
    dispatcher,
    auth,
    logger: options.logger,
    metrics: options.metrics,
    userAgent: USER_AGENT,
    now,
    originSlots: new OriginSlots({ perOrigin: options.maxInFlightPerOrigin ?? options.connectionsPerOrigin ?? 64 }),
  });
  const run = async (job: Job<DeliveryJobData>, token?: string): Promise<void> => {
    try {
      await processor(job);
    } catch (err) {
      if (!(err instanceof OriginBusyError)) throw err;
      // Back to the queue without an attempt: BullMQ counts neither an attempt nor a failure.
      await job.moveToDelayed(Date.now() + err.delayMs, token);
      throw new DelayedError();
    }
  };
  const worker = new Worker<DeliveryJobData>(DELIVERY_QUEUE_NAME, run, {
    connection: queueRedis,
    prefix: bullPrefix(keyPrefix),
    concurrency: options.concurrency ?? 100,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    // A job whose worker died is handed out again; only a job that kills workers over and over
    // (twenty times) is given up on, so a crash-looping deployment does not lose deliveries.
    maxStalledCount: 20,
    ...DELIVERY_JOB_RETENTION,
    settings: { backoffStrategy },
  });
  worker.on('error', (err) => options.logger.error({ err }, 'worker.error'));
  queue.on('error', (err) => options.logger.error({ err }, 'queue.error'));
  // Returning before the worker's connections are up lets a caller close it mid-handshake, which
  // BullMQ reports as an unhandled "Connection is closed".
  await worker.waitUntilReady();
  const sampleEvery = options.metricsSampleIntervalMs ?? 10_000;
  const sampler = sampleEvery > 0 ? startQueueSampler({ queue, store, metrics: options.metrics, logger: options.logger, intervalMs: sampleEvery, now }) : undefined;

  return {
    worker,
    store,
    queue,
    guard,
    close: async (deadlineMs = 30_000) => {
      sampler?.stop();
      let timer: NodeJS.Timeout | undefined;
      const graceful = worker.close();
      const expired = new Promise<'expired'>((resolve) => {
        timer = setTimeout(() => resolve('expired'), deadlineMs);
      });
      const timedOut = (await Promise.race([graceful, expired])) === 'expired';
      clearTimeout(timer);
      if (timedOut) {
        options.logger.warn({ deadlineMs }, 'worker.shutdown_deadline');
        // Abort the requests still in flight (closing would wait for them), then stop the worker.
        if (!options.dispatcher) await dispatcher.destroy();
        await worker.close(true);
      }
      await queue.close();
      await endpoints.close();
      if (!options.dispatcher && !timedOut) await dispatcher.close();
      for (const redis of [storeRedis, subscriber, queueRedis] as Redis[]) redis.disconnect();
    },
  };
}
