import { z } from 'zod';
import { envBoolean, parseEnv } from '@hookrelay/contracts';
import { DEFAULT_SCHEDULING } from '@hookrelay/delivery';
import { checkPrefixForCluster, redisUrlSchema } from '@hookrelay/queue';
import { encryptionKeysEnv, requireKeysInProduction } from '@hookrelay/secrets';

export const workerConfigSchema = z
  .object({
    /** development, production or test. In production HOOKRELAY_ENCRYPTION_KEYS is required. */
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    /** Redis holding the queue and the records. */
    REDIS_URL: redisUrlSchema.default('redis://127.0.0.1:6379'),
    /** Key prefix for every Hookrelay key and the BullMQ queue; use a {hash tag} on Redis Cluster. */
    QUEUE_PREFIX: z.string().min(1).max(64).default('hookrelay'),
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
    /** An attempt that times out or takes at least this long (ms) counts as slow. */
    WORKER_SLOW_ATTEMPT_MS: z.coerce.number().int().min(1).default(DEFAULT_SCHEDULING.slowAttemptMs),
    /** Slow attempts in a row that move an endpoint to the slow lane. */
    WORKER_SLOW_AFTER: z.coerce.number().int().min(1).max(1000).default(DEFAULT_SCHEDULING.slowAfter),
    /** Prompt attempts in a row that bring it back to the fast lane. */
    WORKER_FAST_AFTER: z.coerce.number().int().min(1).max(1000).default(DEFAULT_SCHEDULING.fastAfter),
    /** Connections per receiver origin. */
    WORKER_CONNECTIONS_PER_ORIGIN: z.coerce.number().int().min(1).max(1024).default(64),
    /** A job whose worker stopped renewing its lock this long ago is handed to another worker. */
    WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(500).default(30_000),
    /** How often stalled jobs are looked for. */
    WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
    /** Keys opening stored secrets (the API's list, first key first); required in production. */
    HOOKRELAY_ENCRYPTION_KEYS: encryptionKeysEnv(),
    /** Let deliveries reach loopback, private and link-local addresses. Only for tests and local demos. */
    HOOKRELAY_ALLOW_PRIVATE_TARGETS: envBoolean(false),
    /** Consecutive failed deliveries that disable an endpoint (with the span below). */
    HOOKRELAY_DISABLE_AFTER_FAILURES: z.coerce.number().int().min(1).default(50),
    /** ...when the failing streak has lasted at least this many hours. */
    HOOKRELAY_DISABLE_AFTER_HOURS: z.coerce.number().min(0).default(24),
    /** Days events, deliveries and attempts are kept. */
    HOOKRELAY_RETENTION_DAYS: z.coerce.number().min(0.0001).max(3650).default(30),
    /** On SIGTERM, how long in-flight deliveries may take to finish before the worker exits anyway. */
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
    /** Port of the worker's /metrics; 0 turns it off. */
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((env, ctx) => {
    const problem = checkPrefixForCluster(env.REDIS_URL, env.QUEUE_PREFIX);
    if (problem) ctx.addIssue({ code: 'custom', path: ['QUEUE_PREFIX'], message: problem });
    requireKeysInProduction(env, ctx);
  });

export type WorkerConfig = z.infer<typeof workerConfigSchema>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): Readonly<WorkerConfig> {
  return parseEnv(workerConfigSchema, env);
}
