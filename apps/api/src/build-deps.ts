import type { Dispatcher } from 'undici';
import { createAuthenticatedSender, createGuardedAgent, createTestSender, EndpointGuard, type CircuitBreakerPolicy } from '@hookrelay/delivery';
import type { HookrelayMetrics, Logger } from '@hookrelay/observability';
import { createDeliveryQueue, createRedis } from '@hookrelay/queue';
import { createStore } from '@hookrelay/store';
import type { ApiDeps } from './deps';

export interface BuildApiDepsOptions {
  redisUrl: string;
  keyPrefix: string;
  logger: Logger;
  metrics: HookrelayMetrics;
  adminKey: string;
  policy: ApiDeps['policy'];
  retentionMs?: number;
  circuitBreaker?: CircuitBreakerPolicy;
  accepting?: () => boolean;
  now?: () => number;
  dispatcher?: Dispatcher;
  publicUrl?: string;
  platformName?: string;
}

/**
 * Builds everything the API's routes use, with its own Redis connections: the store's fails fast
 * (a request while Redis is down is a quick 503, not a hang). Used by main.ts, the test harness
 * and the benchmark, so all three run the same wiring.
 */
export async function buildApiDeps(options: BuildApiDepsOptions): Promise<{ deps: ApiDeps; close(): Promise<void> }> {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const redis = createRedis(options.redisUrl, 'store-fail-fast');
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis.error'));
  const queueRedis = createRedis(options.redisUrl, 'queue', { enableOfflineQueue: false });
  queueRedis.on('error', () => undefined);
  const store = createStore({ redis, prefix: options.keyPrefix, retentionMs: options.retentionMs, now });
  const queue = createDeliveryQueue({ connection: queueRedis, keyPrefix: options.keyPrefix });
  queue.on('error', (err) => logger.warn({ err: err.message }, 'queue.error'));
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  await queue.waitUntilReady();
  const dispatcher = options.dispatcher ?? createGuardedAgent({ allowPrivate: options.policy.allowPrivateTargets });
  const auth = createAuthenticatedSender({ dispatcher, logger, now });
  const deps: ApiDeps = {
    store,
    queue,
    redis,
    logger,
    metrics: options.metrics,
    dispatcher,
    adminKey: options.adminKey,
    now,
    policy: options.policy,
    accepting: options.accepting ?? (() => true),
    publicUrl: options.publicUrl,
    platformName: options.platformName,
    auth,
    sendTest: createTestSender({ store, dispatcher, logger, metrics: options.metrics, now, auth }),
    guard: new EndpointGuard({ store, queue, logger, metrics: options.metrics, policy: options.circuitBreaker, now }),
  };
  return {
    deps,
    close: async () => {
      await queue.close();
      if (!options.dispatcher) await dispatcher.close();
      redis.disconnect();
      queueRedis.disconnect();
    },
  };
}
