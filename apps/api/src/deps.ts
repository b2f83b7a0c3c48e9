import type Redis from 'ioredis';
import type { Dispatcher } from 'undici';
import type { HookrelayMetrics, Logger } from '@hookrelay/observability';
import type { DeliveryQueue } from '@hookrelay/queue';
import type { Store } from '@hookrelay/store';

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
  };
  /** False once shutdown began: new requests get 503 and readiness fails. */
  accepting: () => boolean;
}
