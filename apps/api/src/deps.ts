import type Redis from 'ioredis';
import type { Dispatcher } from 'undici';
import type { HookrelayMetrics, Logger, MetricsJson } from '@hookrelay/observability';
import type { Publisher } from '@hookrelay/publishing';
import type { Store } from '@hookrelay/store';
import type { AuthenticatedSender, EndpointGuard, HostResolver, TestSendResult, TlsHandshakeBudget } from '@hookrelay/delivery';
import type { Endpoint, StoredEvent } from '@hookrelay/contracts';
import type { InFlightPerSubscriber, SubscriberLimitsReader } from './subscriber-limits';
import type { LiveCatalog } from './catalog/live-catalog';
import type { RegexChecker } from './catalog/regex-check';

/** Everything the routes use, built once in main.ts and passed down. */
export interface ApiDeps {
  store: Store;
  /** Claims, writes and enqueues events (publishes, replays, retries, recovers), with one group commit for the process. */
  publisher: Publisher;
  redis: Redis;
  logger: Logger;
  metrics: HookrelayMetrics;
  /** Used for endpoint verification calls; carries the SSRF guard. */
  dispatcher: Dispatcher;
  /**
   * DNS for target URL checks and (unless a dispatcher was given) the dispatcher's connections:
   * cached, and bounded per subscriber so names that never resolve cannot hold every thread of
   * libuv's pool (HostResolver).
   */
  resolver: HostResolver;
  /**
   * Failed TLS handshakes per subscriber in this process (TlsHandshakeBudget), told by the
   * dispatcher how each handshake ended: test sends and endpoint verifications consult it.
   */
  tlsHandshakes: TlsHandshakeBudget;
  adminKey: string;
  now: () => number;
  policy: {
    allowHttp: boolean;
    allowPrivateTargets: boolean;
    allowSha1: boolean;
    /**
     * Sources with `verification: {type: "none"}` may be created and receive requests (Symphony's admin switch).
     * @defaultValue false
     */
    allowUnauthenticatedSources?: boolean;
    /**
     * The shortest `retry.intervalMs` an endpoint may be given (HOOKRELAY_MIN_RETRY_INTERVAL_MS).
     * @defaultValue DEFAULT_MIN_RETRY_INTERVAL_MS (1 s)
     */
    minRetryIntervalMs?: number;
  };
  /** Sends one event to one endpoint now and records it (the endpoint test button). */
  sendTest: (endpoint: Endpoint, event: StoredEvent) => Promise<TestSendResult>;
  /** Sends with an endpoint's outbound auth (OAuth tokens, Digest nonces): used by verification. */
  auth: Pick<AuthenticatedSender, 'send' | 'forget'>;
  /** Disables endpoints on request, with the same bookkeeping as automatic disabling. */
  guard: EndpointGuard;
  /** The limits in force for each subscriber (quotas and publish rate): the admin's overrides over the server's defaults. */
  subscriberLimits: SubscriberLimitsReader;
  /** The event catalog every publish is validated against (built-in and operator-defined types). */
  catalog: LiveCatalog;
  /** Proves schema patterns linear before a schema is stored. */
  regex: RegexChecker;
  /** HOOKRELAY_PUBLIC_URL: the base of links the API hands out; unset, the requesting origin (see public-url.ts). */
  publicUrl?: string;
  /** HOOKRELAY_PLATFORM_NAME: how the portal names the platform to subscribers. */
  platformName?: string;
  /** Deliveries one batch publish may create (HOOKRELAY_MAX_BATCH_DELIVERIES). */
  maxBatchDeliveries: number;
  /** The most an endpoint verification takes, all of it (HOOKRELAY_VERIFICATION_TIMEOUT_MS). */
  verificationTimeoutMs: number;
  /**
   * Request body bytes each subscriber's source URLs have on their way in, in this process, bounded
   * by HOOKRELAY_SOURCE_BODY_BYTES_IN_FLIGHT (sourceBodiesPerSubscriber).
   */
  sourceBodiesInFlight: InFlightPerSubscriber;
  /**
   * Request body bytes each subscriber's own /v1 calls have on their way in, in this process,
   * bounded by HOOKRELAY_API_BODY_BYTES_IN_FLIGHT (apiBodiesPerSubscriber).
   */
  apiBodiesInFlight: InFlightPerSubscriber;
  /**
   * The metrics of the delivery worker on this process's other thread (npm start), summed into
   * /metrics; null when the thread did not answer in time (DeliveryThread.metrics).
   */
  workerMetrics?: () => Promise<MetricsJson | null>;
  /** False once shutdown began: new requests get 503 and readiness fails. */
  accepting: () => boolean;
}
