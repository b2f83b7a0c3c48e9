import type { Dispatcher } from 'undici';
import {
  createAuthenticatedSender,
  createGuardedAgent,
  HostResolver,
  TlsHandshakeBudget,
  type LookupFn,
  type TlsHandshakeLimits,
  createTestSender,
  EndpointGuard,
  type CircuitBreakerPolicy,
} from '@hookrelay/delivery';
import type { HookrelayMetrics, Logger } from '@hookrelay/observability';
import { Publisher } from '@hookrelay/publishing';
import { createRedis } from '@hookrelay/queue';
import { createStore, type SubscriberLimits } from '@hookrelay/store';
import { LiveCatalog } from './catalog/live-catalog';
import { RegexChecker } from './catalog/regex-check';
import type { SecretBox } from '@hookrelay/secrets';
import type { ApiDeps } from './deps';
import { DEFAULT_MAX_BATCH_DELIVERIES } from './publish';
import { VERIFICATION_MAX_WAIT_MS } from './verification';
import {
  DEFAULT_SOURCE_BODY_BYTES_IN_FLIGHT,
  DEFAULT_API_BODY_BYTES_IN_FLIGHT,
  apiBodiesPerSubscriber,
  DEFAULT_SUBSCRIBER_LIMITS,
  sourceBodiesPerSubscriber,
  SubscriberLimitsReader,
} from './subscriber-limits';

export interface BuildApiDepsOptions {
  redisUrl: string;
  keyPrefix: string;
  logger: Logger;
  metrics: HookrelayMetrics;
  adminKey: string;
  policy: ApiDeps['policy'];
  retentionMs?: number;
  circuitBreaker?: CircuitBreakerPolicy;
  /** Server-wide defaults of the per-subscriber limits. @defaultValue DEFAULT_SUBSCRIBER_LIMITS */
  limits?: Partial<SubscriberLimits>;
  accepting?: () => boolean;
  now?: () => number;
  /** Where the API's DNS gets answers (tests inject fakes). @defaultValue the system resolver */
  resolve?: LookupFn;
  dispatcher?: Dispatcher;
  /** List and accept the built-in Webex Connect and Zenduty types (HOOKRELAY_BUILTIN_CATALOG). @defaultValue true */
  builtInCatalog?: boolean;
  /** See LiveCatalogOptions.maxStalenessMs. @defaultValue 250 */
  catalogMaxStalenessMs?: number;
  /** Seals and opens stored secrets (HOOKRELAY_ENCRYPTION_KEYS). @defaultValue no keys: plain text */
  secrets?: SecretBox;
  publicUrl?: string;
  platformName?: string;
  /** Deliveries one batch publish may create. @defaultValue DEFAULT_MAX_BATCH_DELIVERIES */
  maxBatchDeliveries?: number;
  /** The most an endpoint verification takes, all of it. @defaultValue VERIFICATION_MAX_WAIT_MS */
  verificationTimeoutMs?: number;
  /**
   * Request body bytes one subscriber's source URLs may have on their way in, in this process.
   * @defaultValue DEFAULT_SOURCE_BODY_BYTES_IN_FLIGHT
   */
  sourceBodyBytesInFlight?: number;
  /**
   * Request body bytes one subscriber's own /v1 calls may have on their way in, in this process.
   * @defaultValue DEFAULT_API_BODY_BYTES_IN_FLIGHT
   */
  apiBodyBytesInFlight?: number;
  /** Failed TLS handshakes per subscriber in this process (TlsHandshakeBudget). @defaultValue DEFAULT_TLS_HANDSHAKE_BUDGET */
  unverifiedTls?: TlsHandshakeLimits;
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
  const store = createStore({ redis, prefix: options.keyPrefix, retentionMs: options.retentionMs, now, secrets: options.secrets });
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  const resolver = new HostResolver({ resolve: options.resolve, now });
  // A dispatcher given (tests) tells it of no handshake: a host counts as verified only once a send
  // to it is answered, and no failure is charged (its connector marks none).
  const tlsHandshakes = new TlsHandshakeBudget({ ...options.unverifiedTls, now });
  const dispatcher =
    options.dispatcher ?? createGuardedAgent({ allowPrivate: options.policy.allowPrivateTargets }, { resolver, tlsHandshakes });
  const auth = createAuthenticatedSender({ dispatcher, logger, now, resolver });
  const limits = Object.freeze({ ...DEFAULT_SUBSCRIBER_LIMITS, ...options.limits });
  const publisher = new Publisher({ store, now, storedBytesLimit: limits.maxStoredBytes });
  const deps: ApiDeps = {
    store,
    publisher,
    redis,
    logger,
    metrics: options.metrics,
    dispatcher,
    resolver,
    tlsHandshakes,
    adminKey: options.adminKey,
    now,
    policy: options.policy,
    accepting: options.accepting ?? (() => true),
    subscriberLimits: new SubscriberLimitsReader(store, limits, now),
    publicUrl: options.publicUrl,
    platformName: options.platformName,
    maxBatchDeliveries: options.maxBatchDeliveries ?? DEFAULT_MAX_BATCH_DELIVERIES,
    verificationTimeoutMs: options.verificationTimeoutMs ?? VERIFICATION_MAX_WAIT_MS,
    sourceBodiesInFlight: sourceBodiesPerSubscriber(options.sourceBodyBytesInFlight ?? DEFAULT_SOURCE_BODY_BYTES_IN_FLIGHT),
    apiBodiesInFlight: apiBodiesPerSubscriber(options.apiBodyBytesInFlight ?? DEFAULT_API_BODY_BYTES_IN_FLIGHT),
    auth,
    sendTest: createTestSender({ store, dispatcher, logger, metrics: options.metrics, now, auth, tlsHandshakes }),
    // Its `endpoint.disabled` announcement is Hookrelay's own, made after the endpoint is disabled:
    // written whatever the subscriber's stored bytes (a held subscriber switching off its failing
    // receiver must not be answered 429 with the disable half done), and counted as any write is.
    guard: new EndpointGuard({
      store,
      publisher: new Publisher({ store, now }),
      logger,
      metrics: options.metrics,
      policy: options.circuitBreaker,
      now,
    }),
    catalog: new LiveCatalog({
      store: store.eventTypes,
      builtIn: options.builtInCatalog ?? true,
      now,
      maxStalenessMs: options.catalogMaxStalenessMs,
    }),
    regex: new RegexChecker(),
  };
  return {
    deps,
    close: async () => {
      if (!options.dispatcher) await dispatcher.close();
      redis.disconnect();
    },
  };
}
