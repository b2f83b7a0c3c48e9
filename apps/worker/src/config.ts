import { z } from 'zod';
import { envBoolean, minRetryIntervalEnv, parseEnv } from '@hookrelay/contracts';
import { checkPrefixForCluster, redisUrlSchema } from '@hookrelay/queue';
import { encryptionKeysEnv, requireKeysInProduction } from '@hookrelay/secrets';
import type { DeliveryWorkerOptions } from '@hookrelay/delivery';
import { deliveryWorkerSettings, workerSettingsSchema } from './worker-settings';

export const workerConfigSchema = z
  .object({
    /** development, production or test. In production HOOKRELAY_ENCRYPTION_KEYS is required. */
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    /** Redis holding the queue and the records. */
    REDIS_URL: redisUrlSchema.default('redis://127.0.0.1:6379'),
    /** Key prefix for every Hookrelay key and the BullMQ queue; use a {hash tag} on Redis Cluster. */
    QUEUE_PREFIX: z.string().min(1).max(64).default('hookrelay'),
    ...workerSettingsSchema.shape,
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
    /** The shortest wait (ms) between two automatic attempts of one delivery, whatever its endpoint's retry policy says. */
    HOOKRELAY_MIN_RETRY_INTERVAL_MS: minRetryIntervalEnv(),
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

/**
 * What the configuration means to startDeliveryWorker, for the two programs that run this worker
 * from it: `npm run start:worker` (main.ts) and npm start's worker thread (delivery-thread.ts).
 */
export function deliveryWorkerOptions(config: WorkerConfig): Omit<DeliveryWorkerOptions, 'logger' | 'metrics' | 'secrets'> {
  return {
    keyPrefix: config.QUEUE_PREFIX,
    ...deliveryWorkerSettings(config),
    retentionMs: config.HOOKRELAY_RETENTION_DAYS * 86_400_000,
    circuitBreaker: { failures: config.HOOKRELAY_DISABLE_AFTER_FAILURES, spanMs: config.HOOKRELAY_DISABLE_AFTER_HOURS * 3_600_000 },
    minRetryIntervalMs: config.HOOKRELAY_MIN_RETRY_INTERVAL_MS,
  };
}

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): Readonly<WorkerConfig> {
  return parseEnv(workerConfigSchema, env);
}
