import {
  createGuardedAgent,
  HostResolver,
  TlsHandshakeBudget,
  type DeliveryWorkerResources,
  type TlsHandshakeLimits,
} from '@hookrelay/delivery';
import { createRedis, disconnectRedis } from '@hookrelay/queue';

export interface WorkerResourcesOptions {
  redisUrl: string;
  /** Let deliveries reach loopback, private and link-local addresses (tests, local demo). @defaultValue false */
  allowPrivateTargets?: boolean;
  /** Connections per receiver origin. @defaultValue 64 */
  connectionsPerOrigin?: number;
  /** @defaultValue Date.now */
  now?: () => number;
  /** Failed TLS handshakes per subscriber (TlsHandshakeBudget). @defaultValue DEFAULT_TLS_HANDSHAKE_BUDGET */
  unverifiedTls?: TlsHandshakeLimits;
}

export interface WorkerResources extends DeliveryWorkerResources {
  /** Closes the dispatcher and every connection; call it after the worker's `close`. */
  close(): Promise<void>;
}

/**
 * The delivery worker's Redis connections, SSRF-guarded dispatcher and clock, for
 * `startDeliveryWorker`. Both composition roots use it: apps/worker's main.ts and apps/api's
 * main.ts with `--with-worker`, each after `checkRedisReachable`, which stops start-up with a
 * remedy when Redis is not there or older than 7.0 (these connections would only retry).
 */
export function createWorkerResources(options: WorkerResourcesOptions): WorkerResources {
  const redis: WorkerResources['redis'] = {
    store: createRedis(options.redisUrl, 'store'),
    subscriber: createRedis(options.redisUrl, 'subscriber'),
    queue: createRedis(options.redisUrl, 'queue'),
    signals: createRedis(options.redisUrl, 'subscriber'),
  };
  // The worker's caps and the dispatcher's connections share one DNS: see HostResolver.
  const resolver = new HostResolver({ now: options.now });
  const tlsHandshakes = new TlsHandshakeBudget({ ...options.unverifiedTls, now: options.now ?? Date.now });
  const dispatcher = createGuardedAgent(
    { allowPrivate: options.allowPrivateTargets ?? false },
    { connections: options.connectionsPerOrigin ?? 64, resolver, tlsHandshakes },
  );
  return {
    redis,
    dispatcher,
    resolver,
    tlsHandshakes,
    now: options.now ?? Date.now,
    close: async () => {
      // A worker whose shutdown deadline passed has destroyed the dispatcher already.
      if (!dispatcher.destroyed) await dispatcher.close();
      for (const connection of Object.values(redis)) disconnectRedis(connection);
    },
  };
}
