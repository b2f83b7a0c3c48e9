import { z } from 'zod';
import { DEFAULT_DISABLE_ENDINGS, DEFAULT_SCHEDULING, DEFAULT_TLS_HANDSHAKE_BUDGET, type DeliveryWorkerOptions } from '@hookrelay/delivery';
import type { WorkerResourcesOptions } from './worker-resources';

/**
 * The worker's own settings (WORKER_*), read by every program that runs a worker: `npm run
 * start:worker` (config.ts) and `npm start`, whose API runs one in its process (apps/api's config).
 */
export const workerSettingsSchema = z.object({
  /** Deliveries in flight at once per worker process, in the fast lane. */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(2000).default(100),
  /** Deliveries in flight at once per worker process, in the slow lane (endpoints whose recent attempts were slow). */
  WORKER_SLOW_LANE_CONCURRENCY: z.coerce.number().int().min(1).max(2000).default(20),
  /** Share of a lane's slots one endpoint's deliveries may hold. */
  WORKER_ENDPOINT_SHARE: z.coerce.number().gt(0).max(1).default(DEFAULT_SCHEDULING.endpointShare),
  /** Share of a lane's slots one subscriber's deliveries may hold. */
  WORKER_SUBSCRIBER_SHARE: z.coerce.number().gt(0).max(1).default(DEFAULT_SCHEDULING.subscriberShare),
  /** Share of a lane's slots, per worker process, that attempts to one receiver address (after DNS) may hold. */
  WORKER_ADDRESS_SHARE: z.coerce.number().gt(0).max(1).default(DEFAULT_SCHEDULING.addressShare),
  /**
   * Payload bytes one subscriber's deliveries may hold (admitted and not ended), per lane, across all
   * workers; over it the subscriber waits at admission until some of them end. A subscriber holding
   * none is admitted one delivery, whatever its size.
   */
  WORKER_SUBSCRIBER_BYTES_IN_FLIGHT: z.coerce
    .number()
    .int()
    .min(1)
    .max(2 ** 30)
    .default(DEFAULT_SCHEDULING.subscriberBytesInFlight),
  /** An attempt that times out or takes at least this long (ms) counts as slow. */
  WORKER_SLOW_ATTEMPT_MS: z.coerce.number().int().min(1).default(DEFAULT_SCHEDULING.slowAttemptMs),
  /** Slow attempts in a row that move an endpoint to the slow lane. */
  WORKER_SLOW_AFTER: z.coerce.number().int().min(1).max(1000).default(DEFAULT_SCHEDULING.slowAfter),
  /** Prompt attempts in a row that bring it back to the fast lane. */
  WORKER_FAST_AFTER: z.coerce.number().int().min(1).max(1000).default(DEFAULT_SCHEDULING.fastAfter),
  /** Connections per receiver origin. */
  WORKER_CONNECTIONS_PER_ORIGIN: z.coerce.number().int().min(1).max(1024).default(64),
  /**
   * Failed TLS handshakes (connections that ended between TCP's connect and TLS's: a certificate
   * that does not verify, no shared cipher, a reset) one subscriber's sends may cause at once, per
   * process (a worker's deliveries; an API's test sends and endpoint verifications); past them, its
   * sends to hosts not known to verify in that process wait for the refill below (a delivery is parked; a test send or verification is refused). A hostile
   * certificate chain costs the event loop up to ~227 ms a handshake.
   */
  HOOKRELAY_UNVERIFIED_TLS_BURST: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_TLS_HANDSHAKE_BUDGET.burst),
  /** How many of those failed handshakes come back a minute. */
  HOOKRELAY_UNVERIFIED_TLS_PER_MINUTE: z.coerce.number().gt(0).max(600_000).default(DEFAULT_TLS_HANDSHAKE_BUDGET.perMinute),
  /** A job whose worker stopped renewing its lock this long ago is handed to another worker. */
  WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(500).default(30_000),
  /** How often stalled jobs are looked for. */
  WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  /**
   * Open deliveries one script call ends when the worker disables an endpoint (410, circuit
   * breaker); a subscriber's disables end theirs one endpoint at a time, a chunk at a time.
   */
  WORKER_DISABLE_CHUNK: z.coerce.number().int().min(1).max(500).default(DEFAULT_DISABLE_ENDINGS.chunk),
  /** Pause (ms) after each such chunk before the subscriber's next; 0 only yields to the event loop. */
  WORKER_DISABLE_PAUSE_MS: z.coerce.number().int().min(0).max(10_000).default(DEFAULT_DISABLE_ENDINGS.pauseMs),
});

export type WorkerSettings = z.infer<typeof workerSettingsSchema>;

/** What the settings mean to createWorkerResources. */
export function workerResourceSettings(settings: WorkerSettings): Pick<WorkerResourcesOptions, 'connectionsPerOrigin' | 'unverifiedTls'> {
  return {
    connectionsPerOrigin: settings.WORKER_CONNECTIONS_PER_ORIGIN,
    unverifiedTls: { burst: settings.HOOKRELAY_UNVERIFIED_TLS_BURST, perMinute: settings.HOOKRELAY_UNVERIFIED_TLS_PER_MINUTE },
  };
}

/** What the settings mean to startDeliveryWorker (connections per origin go to createWorkerResources). */
export function deliveryWorkerSettings(
  settings: WorkerSettings,
): Pick<
  DeliveryWorkerOptions,
  'concurrency' | 'slowLaneConcurrency' | 'scheduling' | 'lockDurationMs' | 'stalledIntervalMs' | 'disableEndings'
> {
  return {
    concurrency: settings.WORKER_CONCURRENCY,
    slowLaneConcurrency: settings.WORKER_SLOW_LANE_CONCURRENCY,
    scheduling: {
      endpointShare: settings.WORKER_ENDPOINT_SHARE,
      subscriberShare: settings.WORKER_SUBSCRIBER_SHARE,
      addressShare: settings.WORKER_ADDRESS_SHARE,
      subscriberBytesInFlight: settings.WORKER_SUBSCRIBER_BYTES_IN_FLIGHT,
      slowAttemptMs: settings.WORKER_SLOW_ATTEMPT_MS,
      slowAfter: settings.WORKER_SLOW_AFTER,
      fastAfter: settings.WORKER_FAST_AFTER,
    },
    lockDurationMs: settings.WORKER_LOCK_DURATION_MS,
    stalledIntervalMs: settings.WORKER_STALLED_INTERVAL_MS,
    disableEndings: { chunk: settings.WORKER_DISABLE_CHUNK, pauseMs: settings.WORKER_DISABLE_PAUSE_MS },
  };
}
