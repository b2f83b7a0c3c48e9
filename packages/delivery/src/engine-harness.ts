// Test-only: a worker, a queue and a store on a private key prefix of the test Redis.
import type { DeliveryRecord, Endpoint, StoredEvent } from '@hookrelay/contracts';
import { createLogger, createMetrics, type HookrelayMetrics, type Logger } from '@hookrelay/observability';
import { createDeliveryQueue, createRedis, disconnectRedis, type DeliveryQueue } from '@hookrelay/queue';
import { Publisher } from '@hookrelay/publishing';
import { createStore, type Store } from '@hookrelay/store';
import { captureLogLines, deleteKeysUnder, requireRedisUrl, uniquePrefix, useFixture, type FixtureScope } from '@hookrelay/testing';
import type Redis from 'ioredis';
import { createGuardedAgent, HostResolver, TlsHandshakeBudget, type LookupFn, type TlsHandshakeLimits } from './ssrf';
import { startDeliveryWorker, type DeliveryWorker, type DeliveryWorkerOptions } from './worker';
import type { DeliveryWorkerResources } from './worker-resources';

export interface EngineHarnessOptions extends Partial<DeliveryWorkerOptions> {
  /** @defaultValue the test Redis (requireRedisUrl) */
  redisUrl?: string;
  /** The worker's dispatcher lets deliveries reach loopback (the test receivers). @defaultValue true */
  allowPrivateTargets?: boolean;
  /** The worker's clock. @defaultValue Date.now */
  now?: () => number;
  /** DNS for the worker's caps and its dispatcher alike, as apps/worker shares one. @defaultValue the system resolver */
  resolve?: LookupFn;
  /** How long the worker's resolver lets a caller wait for an answer (HostResolver `timeoutMs`). @defaultValue 5000 */
  dnsTimeoutMs?: number;
  /** Certificates the worker's dispatcher trusts, for HTTPS test receivers (selfSignedCertificate). @defaultValue Node's bundled roots */
  ca?: string;
  /** The worker's bound on failed TLS handshakes per subscriber (TlsHandshakeBudget). @defaultValue DEFAULT_TLS_HANDSHAKE_BUDGET */
  unverifiedTls?: TlsHandshakeLimits;
}

export interface EngineHarness {
  prefix: string;
  redis: Redis;
  store: Store;
  /** Publishes on the harness's store (its own group commit). */
  publisher: Publisher;
  queue: DeliveryQueue;
  worker: DeliveryWorker;
  /** The worker's own connections (for tests that watch what it sends Redis). */
  workerRedis: DeliveryWorkerResources['redis'];
  metrics: HookrelayMetrics;
  logger: Logger;
  logLines: Array<Record<string, unknown>>;
  saveEndpoint(endpoint: Endpoint): Promise<Endpoint>;
  enqueue(event: StoredEvent, endpoint: Endpoint): Promise<string>;
  waitForState(deliveryId: string, states: DeliveryRecord['state'][], timeoutMs?: number): Promise<DeliveryRecord>;
  /** A metric's value in the worker's registry, for the labels given (0 when absent). */
  metricValue(name: string, labels?: Record<string, string>): Promise<number>;
  /** One more worker on the same prefix, with the same options and metrics, on connections of its own; closed with the harness. */
  addWorker(): Promise<DeliveryWorker>;
  close(): Promise<void>;
}

/** A test's logger (every line captured, parsed) and a metrics registry of its own. */
export function testObservability(): { logger: Logger; metrics: HookrelayMetrics; logLines: Array<Record<string, unknown>> } {
  const { lines: logLines, destination } = captureLogLines();
  return { logger: createLogger({ level: 'debug', destination }), metrics: createMetrics({ processMetrics: false }), logLines };
}

/**
 * A delivery worker as tests run it (the engine harness and the API harness alike), on the
 * resources its harness opened: 20 at a time, retries as soon as their policy says (no 1 s floor:
 * tests retry milliseconds apart), ready to take jobs when it resolves.
 */
export async function startTestWorker(
  resources: DeliveryWorkerResources,
  options: Pick<DeliveryWorkerOptions, 'keyPrefix' | 'logger' | 'metrics'> & Partial<DeliveryWorkerOptions>,
): Promise<DeliveryWorker> {
  const worker = await startDeliveryWorker(resources, { concurrency: 20, minRetryIntervalMs: 1, ...options });
  // A BullMQ Worker closed before its blocking connection is ready emits "Connection is closed" on a
  // connection nobody listens to any more: an unhandled error that fails whichever test runs next.
  await worker.worker.waitUntilReady();
  return worker;
}

/**
 * Waits (up to a second; a wait, not a check) until the worker has handled the answer to the write
 * that gave `d` its attempt count: it counts and logs an attempt after Redis answers the write, and a poll on
 * another connection can read the record a moment before that answer is handled. Tests read
 * those counts and lines next (CI once saw a lane move not yet logged).
 */
async function attemptHandled(logLines: ReadonlyArray<Record<string, unknown>>, d: DeliveryRecord): Promise<void> {
  if (d.attempts === 0) return;
  // One line per attempt the worker made, sent or not (an attempt recorded under a later number
  // than the worker's own, after a reopen, still has its line).
  const lines = () =>
    logLines.filter((l) => l.deliveryId === d.id && (l.msg === 'delivery.attempted' || l.msg === 'delivery.abandoned')).length;
  const until = Date.now() + 1000;
  while (lines() < d.attempts && Date.now() < until) await new Promise((r) => setTimeout(r, 2));
}

export async function startEngineHarness(overrides: EngineHarnessOptions = {}): Promise<EngineHarness> {
  const {
    redisUrl = requireRedisUrl(),
    allowPrivateTargets = true,
    now = Date.now,
    resolve,
    ca,
    dnsTimeoutMs,
    unverifiedTls,
    ...workerOptions
  } = overrides;
  const prefix = uniquePrefix('engine');
  const { logger, metrics, logLines } = testObservability();
  const redis = createRedis(redisUrl, 'store');
  // The worker's retention period is the store's too, as one deployment has one.
  const store = createStore({ redis, prefix, retentionMs: workerOptions.retentionMs });
  const publisher = new Publisher({ store });
  const queue = createDeliveryQueue({ connection: createRedis(redisUrl, 'queue'), keyPrefix: prefix });
  const connect = { redisUrl, allowPrivate: allowPrivateTargets, now, resolve, ca, dnsTimeoutMs, unverifiedTls };
  const resources = openWorkerResources(connect);
  const worker = await startTestWorker(resources, { keyPrefix: prefix, logger, metrics, ...workerOptions });
  const more: Array<{ worker: DeliveryWorker; resources: ReturnType<typeof openWorkerResources> }> = [];
  const harness: EngineHarness = {
    prefix,
    redis,
    store,
    publisher,
    queue,
    worker,
    workerRedis: resources.redis,
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
        if (d && states.includes(d.state)) {
          await attemptHandled(logLines, d);
          return d;
        }
        if (Date.now() > until) throw new Error(`delivery ${deliveryId} is ${d?.state ?? 'missing'}, expected ${states.join('|')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    metricValue: async (name, labels = {}) => {
      const found = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
      const value = found?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
      return Number(value?.value ?? 0);
    },
    addWorker: async () => {
      const added = openWorkerResources(connect);
      const another = await startTestWorker(added, { keyPrefix: prefix, logger, metrics, ...workerOptions });
      more.push({ worker: another, resources: added });
      return another;
    },
    close: async () => {
      for (const m of more.splice(0)) {
        await m.worker.close();
        await m.resources.close();
      }
      await worker.close();
      await resources.close();
      await queue.close();
      (await queue.client).disconnect();
      await deleteKeysUnder(redis, prefix);
      redis.disconnect();
    },
  };
  return harness;
}

/**
 * The worker's connections, guarded dispatcher and clock, opened as apps/worker's
 * createWorkerResources opens them (minus its start-up Redis check: the test Redis is there).
 */
function openWorkerResources(options: {
  redisUrl: string;
  allowPrivate: boolean;
  now: () => number;
  resolve?: LookupFn;
  ca?: string;
  dnsTimeoutMs?: number;
  unverifiedTls?: TlsHandshakeLimits;
}): DeliveryWorkerResources & { close(): Promise<void> } {
  const { redisUrl, allowPrivate, now, resolve, ca, dnsTimeoutMs } = options;
  const redis = {
    store: createRedis(redisUrl, 'store'),
    subscriber: createRedis(redisUrl, 'subscriber'),
    queue: createRedis(redisUrl, 'queue'),
    signals: createRedis(redisUrl, 'subscriber'),
  };
  const resolver = new HostResolver({ resolve, now, timeoutMs: dnsTimeoutMs });
  const tlsHandshakes = new TlsHandshakeBudget({ ...options.unverifiedTls, now });
  const dispatcher = createGuardedAgent({ allowPrivate }, { resolver, ca, tlsHandshakes });
  return {
    redis,
    dispatcher,
    resolver,
    tlsHandshakes,
    now,
    close: async () => {
      if (!dispatcher.destroyed) await dispatcher.close();
      for (const connection of Object.values(redis)) disconnectRedis(connection);
    },
  };
}

/**
 * An engine harness started before the suite (or each test, with scope 'each') and closed after it.
 * `overrides` may be a function, read when the harness starts (after the fixtures declared before it).
 */
export function useEngineHarness(
  overrides: EngineHarnessOptions | (() => EngineHarnessOptions) = {},
  scope: FixtureScope = 'all',
): EngineHarness {
  return useFixture(
    () => startEngineHarness(typeof overrides === 'function' ? overrides() : overrides),
    (h) => h.close(),
    scope,
  );
}
