import type Redis from 'ioredis';
import type { Dispatcher } from 'undici';
import type { HookrelayMetrics, Logger } from '@hookrelay/observability';
import type { DeliveryQueue } from '@hookrelay/queue';
import type { Store } from '@hookrelay/store';
import type { AuthenticatedSender, EndpointGuard, TestSendResult } from '@hookrelay/delivery';
import type { Endpoint, StoredEvent } from '@hookrelay/contracts';

/** Everything the routes use, built once in main.ts and passed down. */
export interface ApiDeps {
  store: Store;
  queue: DeliveryQueue;
  redis: Redis;
  logger: Logger;
  metrics: HookrelayMetrics;
  /** Used for endpoint verification calls; carries the SSRF guard. */
  dispatcher: Dispatcher;
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
  };
  /** Sends one event to one endpoint now and records it (the endpoint test button). */
  sendTest: (endpoint: Endpoint, event: StoredEvent) => Promise<TestSendResult>;
  /** Sends with an endpoint's outbound auth (OAuth tokens, Digest nonces): used by verification. */
  auth: Pick<AuthenticatedSender, 'send'>;
  /** Disables endpoints on request, with the same bookkeeping as automatic disabling. */
  guard: EndpointGuard;
  /** HOOKRELAY_PUBLIC_URL: the base of links the API hands out; unset, the requesting origin (see public-url.ts). */
  publicUrl?: string;
  /** HOOKRELAY_PLATFORM_NAME: how the portal names the platform to subscribers. */
  platformName?: string;
  /** False once shutdown began: new requests get 503 and readiness fails. */
  accepting: () => boolean;
}
