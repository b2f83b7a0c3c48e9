// Test-only: the API (createApp + buildApiDeps, as main.ts wires it) and optionally a delivery worker,
// in this process, against a Redis the test controls (its own redis-server, which it may kill).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDeliveryWorker, type DeliveryWorker, type DeliveryWorkerOptions, type HostResolver } from '@hookrelay/delivery';
import { createLogger, createMetrics, type HookrelayMetrics } from '@hookrelay/observability';
import type { Store } from '@hookrelay/store';
import { uniquePrefix, captureLogLines, callApi } from '@hookrelay/testing';
import type Redis from 'ioredis';
import type { Dispatcher } from 'undici';
import { createWorkerResources, type WorkerResources } from '@hookrelay/worker';
import { createApp } from '../../../apps/api/src/app';
import { buildApiDeps } from '../../../apps/api/src/build-deps';
import type { ApiDeps } from '../../../apps/api/src/deps';

export interface ReliabilityApiOptions {
  redisUrl: string;
  /** @defaultValue a unique test prefix */
  prefix?: string;
  policy?: Partial<ApiDeps['policy']>;
  /** Options for a delivery worker in this process; false for none. @defaultValue false */
  worker?: ReliabilityWorkerOptions | false;
  retentionMs?: number;
  /** Clock for the API and the worker. @defaultValue Date.now */
  now?: () => number;
  /** The API's outbound dispatcher (endpoint verification, test sends). @defaultValue the guarded agent */
  dispatcher?: Dispatcher;
}

export interface ReliabilityWorkerOptions extends Partial<DeliveryWorkerOptions> {
  /** @defaultValue the API policy's allowPrivateTargets */
  allowPrivateTargets?: boolean;
  /** Replaces the worker's guarded dispatcher (its SSRF guard goes with it); the test closes it. */
  dispatcher?: Dispatcher;
  /** The DNS behind that dispatcher, which the worker's address caps then share (as createWorkerResources shares one). */
  resolver?: HostResolver;
}

export interface ApiResponse {
  status: number;
  body: any;
  headers: Headers;
  ms: number;
}

export interface ReliabilityApi {
  baseUrl: string;
  adminKey: string;
  prefix: string;
  store: Store;
  /** The API's own store connection (fails fast while Redis is down). */
  redis: Redis;
  metrics: HookrelayMetrics;
  worker?: DeliveryWorker;
  /** Every log line both the API and the worker wrote, parsed. */
  logLines: Array<Record<string, unknown>>;
  call(
    method: string,
    path: string,
    opts?: { key?: string | null; body?: unknown; headers?: Record<string, string>; timeoutMs?: number },
  ): Promise<ApiResponse>;
  /** Starts (or restarts) the in-process worker with the options given at start. */
  startWorker(): Promise<DeliveryWorker>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

export async function startReliabilityApi(options: ReliabilityApiOptions): Promise<ReliabilityApi> {
  const prefix = options.prefix ?? uniquePrefix('rel');
  const { lines: logLines, destination } = captureLogLines();
  const logger = createLogger({ level: 'info', destination });
  const metrics = createMetrics({ processMetrics: false });
  // Reliability tests give endpoints retries milliseconds apart (no 1 s floor).
  const policy = { allowHttp: true, allowPrivateTargets: true, allowSha1: false, minRetryIntervalMs: 1, ...options.policy };
  const adminKey = `hr_admin_rel_${prefix.replace(/\W/g, '')}`;
  const api = await buildApiDeps({
    redisUrl: options.redisUrl,
    keyPrefix: prefix,
    logger,
    metrics,
    adminKey,
    policy,
    retentionMs: options.retentionMs,
    now: options.now,
    dispatcher: options.dispatcher,
  });
  const app = createApp(api.deps);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let worker: DeliveryWorker | undefined;
  let workerResources: WorkerResources | undefined;
  const startWorker = async (): Promise<DeliveryWorker> => {
    if (options.worker === false || options.worker === undefined) throw new Error('no worker options given');
    const { allowPrivateTargets = policy.allowPrivateTargets, dispatcher, resolver, ...workerOptions } = options.worker;
    workerResources = createWorkerResources({ redisUrl: options.redisUrl, allowPrivateTargets, now: options.now });
    const resources = {
      ...workerResources,
      ...(dispatcher ? { dispatcher } : {}),
      ...(resolver ? { resolver } : {}),
    };
    worker = await startDeliveryWorker(resources, {
      keyPrefix: prefix,
      logger,
      metrics,
      concurrency: 50,
      // Reliability tests retry milliseconds apart.
      minRetryIntervalMs: 1,
      retentionMs: options.retentionMs,
      metricsSampleIntervalMs: 0,
      ...workerOptions,
    });
    return worker;
  };
  if (options.worker) await startWorker();

  const handle: ReliabilityApi = {
    baseUrl,
    adminKey,
    prefix,
    store: api.deps.store,
    redis: api.deps.redis,
    metrics,
    get worker() {
      return worker;
    },
    logLines,
    startWorker,
    stopWorker: async () => {
      const [w, resources] = [worker, workerResources];
      worker = undefined;
      workerResources = undefined;
      await w?.close();
      await resources?.close();
    },
    call: (method, path, opts) => callApi(baseUrl, adminKey, method, path, opts),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await handle.stopWorker();
      await api.close();
    },
  };
  return handle;
}
