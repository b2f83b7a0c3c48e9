import { USER_AGENT } from '@hookrelay/contracts';
import type { HookrelayMetrics, Logger } from '@hookrelay/observability';
import {
  createDeliveryJobWorker,
  createDeliveryQueue,
  type DeliveryJob,
  type DeliveryJobWorker,
  type DeliveryLane,
  type DeliveryQueue,
} from '@hookrelay/queue';
import { Publisher } from '@hookrelay/publishing';
import type { SecretBox } from '@hookrelay/secrets';
import { createStore, type Store } from '@hookrelay/store';
import { AuthenticatedSender } from './auth/authenticated-send';
import { DigestSessions } from './auth/digest-sessions';
import { OAuthTokenCache } from './auth/oauth-token-cache';
import { EndpointCache } from './endpoint-cache';
import { DEFAULT_DISABLE_ENDINGS, DisableEndings } from './disable-endings';
import { EndpointGuard, type CircuitBreakerPolicy } from './endpoint-guard';
import { createDeliveryProcessor } from './processor';
import { startQueueSampler } from './queue-sampler';
import { AddressSlots } from './scheduling/address-slots';
import { Slots } from './scheduling/slots';
import { AdmissionPump } from './scheduling/admission-pump';
import { capsFor, DEFAULT_SCHEDULING, type SchedulingOptions } from './scheduling/scheduling-options';
import { startLaneSignalListener } from './scheduling/lane-signal';
import { WakeRetry } from './scheduling/wake-retry';
import type { DeliveryWorkerResources } from './worker-resources';
import { ParsedEvents } from './parsed-events';
import { SchemeBodies } from './scheme-bodies';

export interface DeliveryWorkerOptions {
  logger: Logger;
  metrics: HookrelayMetrics;
  /** Deliveries in flight at once in the fast lane. @defaultValue 100 */
  concurrency?: number;
  /** Deliveries in flight at once in the slow lane (endpoints whose recent attempts were slow). @defaultValue 20 */
  slowLaneConcurrency?: number;
  /** Shares of a lane's slots, pacing rules and scheduler timings (scheduling-options.ts). */
  scheduling?: Partial<SchedulingOptions>;
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
  /** An OAuth token is refreshed this long before it expires (at most a tenth of its lifetime). @defaultValue 30000 */
  oauthRefreshMarginMs?: number;
  /** Deadline of one OAuth token request. @defaultValue 10000 */
  oauthTokenTimeoutMs?: number;
  /** When repeated failures disable an endpoint. @defaultValue 50 failed deliveries over at least 24 h */
  circuitBreaker?: CircuitBreakerPolicy;
  /**
   * The shortest wait between two automatic attempts of one delivery, whatever its endpoint's
   * retry policy says (HOOKRELAY_MIN_RETRY_INTERVAL_MS). @defaultValue DEFAULT_MIN_RETRY_INTERVAL_MS (1 s)
   */
  minRetryIntervalMs?: number;
  /**
   * How the worker's own disables (410, circuit breaker) end their endpoints' open deliveries: one
   * endpoint of a subscriber at a time, in chunks of `chunk`, `pauseMs` between chunks, at most
   * `maxWaitingPerSubscriber` endpoints waiting per subscriber (disable-endings.ts).
   * @defaultValue DEFAULT_DISABLE_ENDINGS: chunks of 100, no pause (a yield to the event loop), 1000 waiting
   */
  disableEndings?: { chunk?: number; pauseMs?: number; maxWaitingPerSubscriber?: number };
  /** How often queue depth and endpoint counts are sampled into the gauges; 0 turns it off. @defaultValue 10000 */
  metricsSampleIntervalMs?: number;
  /** Opens the endpoints' stored secrets (HOOKRELAY_ENCRYPTION_KEYS). @defaultValue no keys: plain text */
  secrets?: SecretBox;
}

export interface DeliveryWorker {
  /** The fast lane's BullMQ worker (as before the slow lane existed) and each lane's. */
  worker: DeliveryJobWorker;
  workers: Record<DeliveryLane, DeliveryJobWorker>;
  store: Store;
  /** The fast lane's queue, and each lane's. */
  queue: DeliveryQueue;
  queues: Record<DeliveryLane, DeliveryQueue>;
  guard: EndpointGuard;
  /** The chains ending disabled endpoints' deliveries (tests wait on `idle()`). */
  endings: DisableEndings;
  /** Takes jobs and reaches Redis (answers a PING within a second); false once closing. The worker's readiness probe. */
  ready(): Promise<boolean>;
  /**
   * Stops taking jobs and lets in-flight deliveries finish, for at most `deadlineMs`; deliveries
   * still running then are abandoned unrecorded, and BullMQ's stalled-job check hands them to another
   * worker (at least once). Then ends its BLPOP connection (`resources.redis.signals`); the other
   * connections and the dispatcher are the caller's to close.
   */
  close(deadlineMs?: number): Promise<void>;
}

const LANES: readonly DeliveryLane[] = ['fast', 'slow'];

/**
 * The delivery worker: per lane, a BullMQ worker that runs attempts and an admission pump that feeds
 * its queue from the scheduler's lanes in fair order (docs/delivery-scheduling.md). It runs on the
 * connections, dispatcher and clock in `resources` and opens none of its own.
 */
export async function startDeliveryWorker(resources: DeliveryWorkerResources, options: DeliveryWorkerOptions): Promise<DeliveryWorker> {
  const keyPrefix = options.keyPrefix ?? 'hookrelay';
  const { dispatcher, now } = resources;
  const { store: storeRedis, subscriber, queue: queueRedis, signals: signalRedis } = resources.redis;
  // Logged as the API logs its own: without a listener ioredis prints "Unhandled error event".
  // Removed on close: the caller may start another worker on the same connections.
  const redisErrorListeners = Object.entries(resources.redis).map(([connection, redis]) => {
    const listener = (err: Error) => options.logger.warn({ err: err.message, connection }, 'redis.error');
    redis.on('error', listener);
    return () => redis.off('error', listener);
  });
  // A dead worker's admissions come back when their lease runs out, as its jobs do when their lock
  // does: the lease is the lock duration, at most 10 s (a lease only has to cover two round trips).
  const leaseMs = Math.min(options.lockDurationMs ?? 30_000, DEFAULT_SCHEDULING.leaseMs);
  const scheduling: SchedulingOptions = { ...DEFAULT_SCHEDULING, leaseMs, ...options.scheduling };
  const concurrency: Record<DeliveryLane, number> = { fast: options.concurrency ?? 100, slow: options.slowLaneConcurrency ?? 20 };
  const store = createStore({
    redis: storeRedis,
    prefix: keyPrefix,
    retentionMs: options.retentionMs,
    now,
    secrets: options.secrets,
    laneMoves: { slowAfter: scheduling.slowAfter, fastAfter: scheduling.fastAfter },
  });
  const queues: Record<DeliveryLane, DeliveryQueue> = {
    fast: createDeliveryQueue({ connection: queueRedis, keyPrefix, lane: 'fast' }),
    slow: createDeliveryQueue({ connection: queueRedis, keyPrefix, lane: 'slow' }),
  };
  // The dispatcher's DNS, for both lanes' caps, token URLs and each request sent: one lookup per name.
  const { resolver, tlsHandshakes } = resources;
  // OAuth token requests go through the same guarded dispatcher as deliveries: a token URL is
  // as much a user-chosen target as a receiver URL.
  const oauth = new OAuthTokenCache({
    dispatcher,
    resolver,
    userAgent: USER_AGENT,
    logger: options.logger,
    now,
    refreshMarginMs: options.oauthRefreshMarginMs,
    timeoutMs: options.oauthTokenTimeoutMs,
  });
  const digest = new DigestSessions();
  const auth = new AuthenticatedSender({ dispatcher, oauth, digest, logger: options.logger, now, resolver });
  const endpoints = await EndpointCache.start({
    store: store.endpoints,
    keys: store.keys,
    subscriber,
    ttlMs: options.endpointCacheTtlMs,
    now,
    // What the worker keeps per endpoint goes with a change or a delete, not when evicted.
    onChange: (endpointId) => {
      oauth.forget(endpointId);
      digest.forget(endpointId);
    },
    onResync: () => {
      oauth.clear();
      digest.clear();
    },
  });
  const endings = new DisableEndings({ logger: options.logger, ...options.disableEndings });
  const guard = new EndpointGuard({
    store,
    publisher: new Publisher({ store, now }),
    logger: options.logger,
    metrics: options.metrics,
    policy: options.circuitBreaker,
    now,
    endings,
    endedTogether: options.disableEndings?.chunk ?? DEFAULT_DISABLE_ENDINGS.chunk,
  });
  const wakes = new WakeRetry({ wake: (sleepers) => store.lanes.wake(sleepers), logger: options.logger, parkMs: scheduling.parkMs });
  const wake = (sleepers: string[]): void => wakes.wake(sleepers);

  // One per worker: a payload re-serialised for x-signature is made once for every lane and endpoint.
  const bodies = new SchemeBodies();
  // And an event read for one attempt is held for its fan-out's others, in either lane.
  const events = new ParsedEvents();
  const pumps = {} as Record<DeliveryLane, AdmissionPump>;
  const workers = {} as Record<DeliveryLane, DeliveryJobWorker>;
  const addressSlots = {} as Record<DeliveryLane, AddressSlots>;
  for (const lane of LANES) {
    const caps = capsFor(concurrency[lane], scheduling);
    addressSlots[lane] = new AddressSlots({ perAddress: caps.address, wake, resolver });
    pumps[lane] = new AdmissionPump({
      lanes: store.lanes,
      laneClass: lane,
      queue: queues[lane],
      logger: options.logger,
      // The wait list holds what the lane's slots will take next: enough to keep them busy, short
      // enough that a delivery admitted now does not queue behind a backlog.
      target: concurrency[lane],
      max: concurrency[lane],
      capEndpoint: caps.endpoint,
      capSubscriber: caps.subscriber,
      capSubscriberBytes: scheduling.subscriberBytesInFlight,
      leaseMs: scheduling.leaseMs,
      capSleepMs: scheduling.capSleepMs,
      heldMaxMs: scheduling.heldMaxMs,
      idleTickMs: scheduling.idleTickMs,
      now,
    });
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
      minRetryIntervalMs: options.minRetryIntervalMs,
      addressSlots: addressSlots[lane],
      slots: new Slots(concurrency[lane]),
      lane,
      slowAttemptMs: scheduling.slowAttemptMs,
      parkMs: scheduling.parkMs,
      bodies,
      events,
      tlsHandshakes,
    });
    const pump = pumps[lane];
    const run = async (job: DeliveryJob): Promise<void> => {
      try {
        await processor(job);
      } catch (err) {
        // Outside an attempt (an attempt's own failures are recorded): BullMQ runs the job again in 5 s.
        options.metrics.internalErrors.inc({ stage: 'job' });
        options.logger.error({ err, jobId: job.id, attemptsMade: job.attemptsMade }, 'delivery.job_failed');
        throw err;
      } finally {
        // A slot is free and the wait list shorter: admit what is next.
        pump.request();
      }
    };
    workers[lane] = createDeliveryJobWorker(run, {
      connection: queueRedis,
      keyPrefix,
      lane,
      concurrency: concurrency[lane],
      lockDurationMs: options.lockDurationMs,
      stalledIntervalMs: options.stalledIntervalMs,
    });
    workers[lane].on('error', (err) => options.logger.error({ err, lane }, 'worker.error'));
    queues[lane].on('error', (err) => options.logger.error({ err, lane }, 'queue.error'));
  }
  // Returning before the workers' connections are up lets a caller close them mid-handshake, which
  // BullMQ reports as an unhandled "Connection is closed".
  await Promise.all(LANES.map((lane) => workers[lane].waitUntilReady()));
  const signals = startLaneSignalListener({
    lanes: store.lanes,
    redis: signalRedis,
    logger: options.logger,
    // Only the class that got work: the other lane's admission would find nothing.
    onSignal: (lane) => pumps[lane].request(),
  });
  for (const lane of LANES) pumps[lane].request();
  let closing = false;
  const sampleEvery = options.metricsSampleIntervalMs ?? 10_000;
  const sampler =
    sampleEvery > 0
      ? startQueueSampler({
          queues: Object.values(queues),
          store,
          metrics: options.metrics,
          logger: options.logger,
          intervalMs: sampleEvery,
          now,
        })
      : undefined;

  return {
    worker: workers.fast,
    workers,
    store,
    queue: queues.fast,
    queues,
    guard,
    endings,
    ready: async () => {
      if (closing || !LANES.every((lane) => workers[lane].isRunning())) return false;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), 1000);
      });
      const answered = storeRedis.ping().then(
        (reply) => reply === 'PONG',
        () => false,
      );
      return Promise.race([answered, late]).finally(() => clearTimeout(timer));
    },
    close: async (deadlineMs = 30_000) => {
      closing = true;
      sampler?.stop();
      await signals.stop();
      await Promise.all(LANES.map((lane) => pumps[lane].stop()));
      let timer: NodeJS.Timeout | undefined;
      const graceful = Promise.all(LANES.map((lane) => workers[lane].close()));
      const expired = new Promise<'expired'>((resolve) => {
        timer = setTimeout(() => resolve('expired'), deadlineMs);
      });
      const timedOut = (await Promise.race([graceful, expired])) === 'expired';
      clearTimeout(timer);
      if (timedOut) {
        options.logger.warn({ deadlineMs }, 'worker.shutdown_deadline');
        // Abort the requests still in flight (closing would wait for them), then stop the workers.
        await dispatcher.destroy();
        await Promise.all(LANES.map((lane) => workers[lane].close(true)));
      }
      // Each chain stops after its chunk: what it had left is ended unsent when admitted.
      await endings.close();
      // Endpoints this worker parked wait for its slots no longer.
      wakes.close();
      await store.lanes.wake(LANES.flatMap((lane) => addressSlots[lane].drainSleepers())).catch(() => undefined);
      await Promise.all(LANES.map((lane) => queues[lane].close()));
      await endpoints.close();
      for (const remove of redisErrorListeners) remove();
    },
  };
}
