// Test-only: the API app in-process on a free port, with a worker, on a private key prefix.
import type { AddressInfo } from 'node:net';
import type { CircuitBreakerPolicy, DeliveryWorker, LookupFn, TlsHandshakeLimits } from '@hookrelay/delivery';
// The worker and the logs are started as the engine's tests start them: one place for both harnesses.
import { startTestWorker, testObservability } from '@hookrelay/delivery/src/engine-harness';
import type { HookrelayMetrics } from '@hookrelay/observability';
import { SecretBox, type EncryptionKey } from '@hookrelay/secrets';
import type { Store, SubscriberLimits } from '@hookrelay/store';
import {
  callApi,
  deleteKeysUnder,
  requireRedisUrl,
  uniquePrefix,
  useFixture,
  type ApiCallOptions,
  type ApiCallResult,
  type FixtureScope,
} from '@hookrelay/testing';
import { createWorkerResources } from '@hookrelay/worker';
import type Redis from 'ioredis';
import { createApp } from './app';
import { buildApiDeps } from './build-deps';
import type { ApiDeps } from './deps';
import { DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, listenApi } from './http-server';

export interface ApiHarnessOptions {
  /** Start a delivery worker beside the API. @defaultValue true */
  worker?: boolean;
  policy?: Partial<ApiDeps['policy']>;
  retentionMs?: number;
  circuitBreaker?: CircuitBreakerPolicy;
  /** Server-wide defaults of the per-subscriber limits (quotas and publish rate). */
  limits?: Partial<SubscriberLimits>;
  /** The API's clock. @defaultValue Date.now */
  now?: () => number;
  /** @defaultValue true */
  builtInCatalog?: boolean;
  /** HOOKRELAY_ENCRYPTION_KEYS, for the API and the worker. @defaultValue none: secrets in plain text */
  encryptionKeys?: EncryptionKey[];
  /**
   * Run on another harness's data: a second API process beside it, or a restart after it (with
   * `keepData`); its prefix, and its admin key with it. @defaultValue a fresh prefix
   */
  prefix?: string;
  /** Leave the data in Redis on close, for a later harness on the same prefix. @defaultValue false */
  keepData?: boolean;
  publicUrl?: string;
  platformName?: string;
  /** See BuildApiDepsOptions.maxBatchDeliveries. */
  maxBatchDeliveries?: number;
  /** See BuildApiDepsOptions.verificationTimeoutMs. */
  verificationTimeoutMs?: number;
  /** See BuildApiDepsOptions.sourceBodyBytesInFlight. */
  sourceBodyBytesInFlight?: number;
  /** See BuildApiDepsOptions.apiBodyBytesInFlight. */
  apiBodyBytesInFlight?: number;
  /** The API process's bound on failed TLS handshakes per subscriber (BuildApiDepsOptions.unverifiedTls). */
  unverifiedTls?: TlsHandshakeLimits;
  /** How long a client may take to send a whole request (HOOKRELAY_REQUEST_TIMEOUT_MS). @defaultValue DEFAULT_REQUEST_TIMEOUT_MS */
  requestTimeoutMs?: number;
  /** The API's DNS (BuildApiDepsOptions.resolve). @defaultValue the system resolver */
  resolve?: LookupFn;
}

export interface ApiHarness {
  baseUrl: string;
  adminKey: string;
  store: Store;
  redis: Redis;
  prefix: string;
  metrics: HookrelayMetrics;
  deps: ApiDeps;
  worker?: DeliveryWorker;
  logLines: Array<Record<string, unknown>>;
  setAccepting(value: boolean): void;
  /** fetch against the API with a key; JSON bodies are serialized. */
  call(method: string, path: string, opts?: ApiCallOptions): Promise<ApiCallResult>;
  close(): Promise<void>;
}

export async function startApiHarness(options: ApiHarnessOptions = {}): Promise<ApiHarness> {
  const redisUrl = requireRedisUrl();
  const prefix = options.prefix ?? uniquePrefix('api');
  const secrets = new SecretBox(options.encryptionKeys ?? []);
  const { logger, metrics, logLines } = testObservability();
  // Tests give endpoints retries milliseconds apart: no 1 s floor unless a test sets one.
  const policy = { allowHttp: true, allowPrivateTargets: true, allowSha1: false, minRetryIntervalMs: 1, ...options.policy };
  const adminKey = `hr_admin_test_${prefix.replace(/\W/g, '')}`;
  let accepting = true;
  const api = await buildApiDeps({
    redisUrl,
    keyPrefix: prefix,
    logger,
    metrics,
    adminKey,
    policy,
    retentionMs: options.retentionMs,
    circuitBreaker: options.circuitBreaker,
    limits: options.limits,
    now: options.now,
    builtInCatalog: options.builtInCatalog,
    accepting: () => accepting,
    secrets,
    publicUrl: options.publicUrl,
    platformName: options.platformName,
    maxBatchDeliveries: options.maxBatchDeliveries,
    verificationTimeoutMs: options.verificationTimeoutMs,
    sourceBodyBytesInFlight: options.sourceBodyBytesInFlight,
    apiBodyBytesInFlight: options.apiBodyBytesInFlight,
    unverifiedTls: options.unverifiedTls,
    resolve: options.resolve,
  });
  const { store, redis } = api.deps;
  const app = createApp(api.deps);
  // The server main.ts starts, with its production timeouts unless the test shortens the request's
  // (the headers' no longer than it, as the config requires).
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const server = await listenApi(app, {
    PORT: 0,
    HOST: '127.0.0.1',
    HOOKRELAY_REQUEST_TIMEOUT_MS: requestTimeoutMs,
    HOOKRELAY_HEADERS_TIMEOUT_MS: Math.min(DEFAULT_HEADERS_TIMEOUT_MS, requestTimeoutMs),
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // As main.ts --with-worker builds it: the worker's own connections, guarded dispatcher and clock.
  const workerResources = options.worker === false ? undefined : createWorkerResources({ redisUrl, allowPrivateTargets: true });
  const worker =
    workerResources === undefined
      ? undefined
      : await startTestWorker(workerResources, {
          keyPrefix: prefix,
          logger,
          metrics,
          retentionMs: options.retentionMs,
          circuitBreaker: options.circuitBreaker,
          metricsSampleIntervalMs: 0,
          secrets,
        });

  return {
    baseUrl,
    adminKey,
    store,
    redis,
    prefix,
    metrics,
    deps: api.deps,
    worker,
    logLines,
    setAccepting: (value) => {
      accepting = value;
    },
    call: (method, path, opts) => callApi(baseUrl, adminKey, method, path, opts),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await worker?.close();
      await workerResources?.close();
      if (!options.keepData) await deleteKeysUnder(redis, prefix);
      await api.close();
    },
  };
}

/**
 * An API harness started before the suite (or each test, with scope 'each') and closed after it.
 * `options` may be a function, read when the harness starts (after the fixtures declared before it).
 */
export function useApiHarness(options: ApiHarnessOptions | (() => ApiHarnessOptions) = {}, scope: FixtureScope = 'all'): ApiHarness {
  return useFixture(
    () => startApiHarness(typeof options === 'function' ? options() : options),
    (h) => h.close(),
    scope,
  );
}

/**
 * For suites whose tests each start a harness of their own options: a `startApiHarness` whose
 * harnesses are closed after each test.
 */
export function useApiHarnessPerTest(): (options?: ApiHarnessOptions) => Promise<ApiHarness> {
  const started: ApiHarness[] = [];
  afterEach(async () => {
    for (const h of started.splice(0)) await h.close();
  });
  return async (options) => {
    const h = await startApiHarness(options);
    started.push(h);
    return h;
  };
}

/** A subscriber ("Acme") created through the API before each test, and its endpoints' base path. */
export function useAcmeEndpoints(h: ApiHarness): { sid: string; base: string } {
  return useFixture(
    async () => {
      const sid = (await h.call('POST', '/v1/subscribers', { body: { name: 'Acme' } })).body.id as string;
      return { sid, base: `/v1/subscribers/${sid}/endpoints` };
    },
    () => undefined,
    'each',
  );
}

/** A clock a test moves by hand (`now` for a harness): limits that refill with time refill with it, not with sleeps. */
export function manualClock(): { now: () => number; advance(ms: number): void } {
  let at = Date.now();
  return { now: () => at, advance: (ms) => void (at += ms) };
}
