import type Redis from 'ioredis';
import type { Dispatcher } from 'undici';
import type { HostResolver } from './ssrf/host-resolver';
import type { TlsHandshakeBudget } from './ssrf/tls-handshake-budget';

/**
 * What a delivery worker runs on, built and owned by its composition root (apps/worker's
 * `createWorkerResources`, which `apps/api --with-worker` uses too). The worker opens no
 * connection and builds no dispatcher of its own, so whoever starts it chooses them, and closes
 * them after the worker's `close`.
 */
export interface DeliveryWorkerResources {
  /** One connection per use, each opened with its role's options (`createRedis` in @hookrelay/queue). */
  redis: {
    /** Store reads and writes, and the readiness probe's PING (role 'store'). */
    store: Redis;
    /** The endpoint cache's change messages (role 'subscriber'). */
    subscriber: Redis;
    /** The lanes' BullMQ workers and queues (role 'queue'). */
    queue: Redis;
    /**
     * The scheduler's wake-up BLPOP (role 'subscriber'). The worker's `close` disconnects it:
     * that is the only way to end a BLPOP that is blocking.
     */
    signals: Redis;
  };
  /**
   * Every outbound request goes through it: deliveries and OAuth token requests (a token URL is as
   * much a user-chosen target as a receiver URL), so it carries the SSRF guard. When the worker's
   * shutdown deadline passes, the worker destroys it to abort the requests still in flight.
   */
  dispatcher: Dispatcher;
  /**
   * The DNS behind the dispatcher's connections, which the per-address caps use too, so a cap is
   * keyed by the address the worker connects to and a hostname costs one lookup (HostResolver).
   */
  resolver: HostResolver;
  /**
   * The per-subscriber bound on failed TLS handshakes, which the dispatcher tells how each of its
   * handshakes ended (createGuardedAgent's `tlsHandshakes`); none: not bounded.
   */
  tlsHandshakes?: TlsHandshakeBudget;
  /** The clock behind every timestamp the worker signs, records or compares. */
  now: () => number;
}
