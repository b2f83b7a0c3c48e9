import { z } from 'zod';
import { envBoolean, minRetryIntervalEnv, parseEnv } from '@hookrelay/contracts';
import { checkPrefixForCluster, redisUrlSchema } from '@hookrelay/queue';
import { DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from './http-server';
import { DEFAULT_MAX_BATCH_DELIVERIES } from './publish';
import { VERIFICATION_MAX_WAIT_MS } from './verification';
import {
  DEFAULT_API_BODY_BYTES_IN_FLIGHT,
  DEFAULT_SOURCE_BODY_BYTES_IN_FLIGHT,
  DEFAULT_SUBSCRIBER_LIMITS,
  LIMIT_CEILINGS,
} from './subscriber-limits';
import { encryptionKeysEnv, requireKeysInProduction } from '@hookrelay/secrets';
import { workerSettingsSchema } from '@hookrelay/worker';

/**
 * Where people reach this API from outside (`https://hooks.example.com`), for links it hands out such
 * as portal session URLs. An http(s) origin with an optional path prefix; no query or fragment;
 * a trailing slash is dropped.
 */
export const publicUrlSchema = z
  .url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' })
  .refine((u) => !/[?#]/.test(u), 'must not have a query or fragment')
  .transform((u) => u.replace(/\/+$/, ''));

export const apiConfigSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    /** The worker's settings: `npm start` (--with-worker) runs one in this process and reads them as start:worker does. */
    ...workerSettingsSchema.shape,
    /** Port the API listens on. */
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    /** Address the API binds to. */
    HOST: z.string().default('0.0.0.0'),
    /**
     * How long a client may take to send a whole request to the API, headers and body (ms). At most
     * Node's own default, 300 s, what a client that stops mid-body could hold before.
     */
    HOOKRELAY_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).max(300_000).default(DEFAULT_REQUEST_TIMEOUT_MS),
    /** How long a client may take to send a request's headers (ms); at most the request timeout. */
    HOOKRELAY_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1000).max(60_000).default(DEFAULT_HEADERS_TIMEOUT_MS),
    /** Redis holding the queue and the records. */
    REDIS_URL: redisUrlSchema.default('redis://127.0.0.1:6379'),
    /** Key prefix for every Hookrelay key and the BullMQ queue; use a {hash tag} on Redis Cluster. */
    QUEUE_PREFIX: z.string().min(1).max(64).default('hookrelay'),
    /** The key that can do everything. Required in production; generated and printed at start in development. */
    HOOKRELAY_ADMIN_KEY: z.string().min(24, 'must be at least 24 characters').optional(),
    /**
     * Keys sealing stored secrets: `<id>:<base64 of 32 bytes>,...`; the first encrypts, all decrypt.
     * Required in production; without it (development) secrets are stored as plain text, with a warning.
     */
    HOOKRELAY_ENCRYPTION_KEYS: encryptionKeysEnv(),
    /** Accept http:// endpoint URLs (otherwise https only). */
    HOOKRELAY_ALLOW_HTTP: envBoolean(false),
    /** Accept endpoints on loopback, private, link-local and metadata addresses (tests, local demo). */
    HOOKRELAY_ALLOW_PRIVATE_TARGETS: envBoolean(false),
    /** Accept x-hub-signature with sha1, which Webex Connect retired, for legacy receivers. */
    HOOKRELAY_ALLOW_SHA1: envBoolean(false),
    /** Allow inbound sources with `verification: {type: "none"}` (anyone holding the ingest URL may publish through them). */
    HOOKRELAY_ALLOW_UNAUTHENTICATED_SOURCES: envBoolean(false),
    /** List and accept the built-in Webex Connect and Zenduty event types; false hides them from listing and publishing. */
    HOOKRELAY_BUILTIN_CATALOG: envBoolean(true),
    /**
     * This API's public URL, for links it hands out (portal sessions; unset: the origin of the request
     * that asked for the link), and the base of the URL Twilio signs (`twilio` sources need it).
     */
    HOOKRELAY_PUBLIC_URL: publicUrlSchema.optional(),
    /** The platform's name as the portal shows it to subscribers ("ask <name> for a new link"). */
    HOOKRELAY_PLATFORM_NAME: z.string().trim().min(1).max(100).optional(),
    /** Consecutive failed deliveries that disable an endpoint (with the span below). */
    HOOKRELAY_DISABLE_AFTER_FAILURES: z.coerce.number().int().min(1).default(50),
    /** ...when the failing streak has lasted at least this many hours. */
    HOOKRELAY_DISABLE_AFTER_HOURS: z.coerce.number().min(0).default(24),
    /** The shortest `retry.intervalMs` an endpoint may be given (ms); the worker waits at least this between attempts too. */
    HOOKRELAY_MIN_RETRY_INTERVAL_MS: minRetryIntervalEnv(),
    /** Endpoints one subscriber may have, unless the admin sets its own limit (PATCH /v1/subscribers/:sid). */
    HOOKRELAY_MAX_ENDPOINTS_PER_SUBSCRIBER: z.coerce
      .number()
      .int()
      .min(0)
      .max(LIMIT_CEILINGS.maxEndpoints)
      .default(DEFAULT_SUBSCRIBER_LIMITS.maxEndpoints),
    /** Inbound sources one subscriber may have, unless the admin sets its own limit. */
    HOOKRELAY_MAX_SOURCES_PER_SUBSCRIBER: z.coerce
      .number()
      .int()
      .min(0)
      .max(LIMIT_CEILINGS.maxSources)
      .default(DEFAULT_SUBSCRIBER_LIMITS.maxSources),
    /** Endpoints one subscriber may have deleted within the retention period (they stay in its history), unless the admin sets its own. */
    HOOKRELAY_MAX_DELETED_ENDPOINTS_PER_SUBSCRIBER: z.coerce
      .number()
      .int()
      .min(0)
      .max(LIMIT_CEILINGS.maxDeletedEndpoints)
      .default(DEFAULT_SUBSCRIBER_LIMITS.maxDeletedEndpoints),
    /** Events one subscriber may publish per second (a batch counts each event), unless the admin sets its own; 0 for no limit. */
    HOOKRELAY_EVENTS_PER_SECOND: z.coerce
      .number()
      .int()
      .min(0)
      .max(LIMIT_CEILINGS.eventsPerSecond)
      .default(DEFAULT_SUBSCRIBER_LIMITS.eventsPerSecond),
    /** Requests to all of one subscriber's source URLs together per second, refused or not (each source has its own limit too), unless the admin sets its own; over it, 429. */
    HOOKRELAY_SOURCE_REQUESTS_PER_SECOND: z.coerce
      .number()
      .int()
      .min(1)
      .max(LIMIT_CEILINGS.sourceRequestsPerSecond)
      .default(DEFAULT_SUBSCRIBER_LIMITS.sourceRequestsPerSecond),
    /** The same per minute. */
    HOOKRELAY_SOURCE_REQUESTS_PER_MINUTE: z.coerce
      .number()
      .int()
      .min(1)
      .max(LIMIT_CEILINGS.sourceRequestsPerMinute)
      .default(DEFAULT_SUBSCRIBER_LIMITS.sourceRequestsPerMinute),
    /**
     * One subscriber's work budget, across all API processes, unless the admin sets its own: units
     * (about one record read) refilled a second. Its recovers, filtered listings, replays, retries
     * and test sends are charged by the records they read and write; with none left, 429.
     */
    HOOKRELAY_WORK_UNITS_PER_SECOND: z.coerce
      .number()
      .int()
      .min(1)
      .max(LIMIT_CEILINGS.workUnitsPerSecond)
      .default(DEFAULT_SUBSCRIBER_LIMITS.workUnitsPerSecond),
    /** The most units one subscriber's work budget holds (what it may spend at once after a pause). */
    HOOKRELAY_WORK_UNITS_BURST: z.coerce
      .number()
      .int()
      .min(1)
      .max(LIMIT_CEILINGS.workUnitsBurst)
      .default(DEFAULT_SUBSCRIBER_LIMITS.workUnitsBurst),
    /**
     * Bytes one subscriber may have written within the retention period (its events, deliveries
     * and attempts, which Redis keeps that long), unless the admin sets its own; 0 for no limit.
     * Over it its publishes are refused (429 storage_quota_exceeded); a tenth over it its deliveries wait.
     */
    HOOKRELAY_MAX_STORED_BYTES_PER_SUBSCRIBER: z.coerce
      .number()
      .int()
      .min(0)
      .max(LIMIT_CEILINGS.maxStoredBytes)
      .default(DEFAULT_SUBSCRIBER_LIMITS.maxStoredBytes),
    /**
     * Request body bytes one subscriber's source URLs (`/in/<token>`) may have on their way in at
     * once, in one API process: each request counts what its body may bring (its Content-Length,
     * at most the 1 MB limit) from before its body is read until it ends; over it, 429. A sender
     * that declares a body and stops sending it holds memory until the request timeout.
     */
    HOOKRELAY_SOURCE_BODY_BYTES_IN_FLIGHT: z.coerce
      .number()
      .int()
      .min(1)
      .max(2 ** 30)
      .default(DEFAULT_SOURCE_BODY_BYTES_IN_FLIGHT),
    /**
     * Request body bytes one subscriber's own `/v1` calls (its keys and portal sessions) may have
     * on their way in at once, in one API process: each counts what its body may bring from before
     * the body is read until it has been read; over it, 429.
     */
    HOOKRELAY_API_BODY_BYTES_IN_FLIGHT: z.coerce
      .number()
      .int()
      .min(1)
      .max(2 ** 30)
      .default(DEFAULT_API_BODY_BYTES_IN_FLIGHT),
    /** The most an endpoint verification takes, all of it (DNS, connecting, an OAuth token, the request, the answer), in ms; below it, the endpoint's timeoutMs. */
    HOOKRELAY_VERIFICATION_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).default(VERIFICATION_MAX_WAIT_MS),
    /** Deliveries one batch publish may create (its events times their matching endpoints); over it, 413. */
    HOOKRELAY_MAX_BATCH_DELIVERIES: z.coerce.number().int().min(1000).max(1_000_000).default(DEFAULT_MAX_BATCH_DELIVERIES),
    /** Days events, deliveries and attempts are kept. */
    HOOKRELAY_RETENTION_DAYS: z.coerce.number().min(0.0001).max(3650).default(30),
    /** On SIGTERM, how long in-flight deliveries (with --with-worker) may take before the process exits anyway. */
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((env, ctx) => {
    const problem = checkPrefixForCluster(env.REDIS_URL, env.QUEUE_PREFIX);
    if (problem) ctx.addIssue({ code: 'custom', path: ['QUEUE_PREFIX'], message: problem });
    // Node refuses to start a server whose headers timeout is longer than its request timeout.
    if (env.HOOKRELAY_HEADERS_TIMEOUT_MS > env.HOOKRELAY_REQUEST_TIMEOUT_MS) {
      const message = `must be at most HOOKRELAY_REQUEST_TIMEOUT_MS (${env.HOOKRELAY_REQUEST_TIMEOUT_MS})`;
      ctx.addIssue({ code: 'custom', path: ['HOOKRELAY_HEADERS_TIMEOUT_MS'], message });
    }
    if (env.NODE_ENV === 'production' && !env.HOOKRELAY_ADMIN_KEY) {
      ctx.addIssue({ code: 'custom', path: ['HOOKRELAY_ADMIN_KEY'], message: 'is required when NODE_ENV=production' });
    }
    requireKeysInProduction(env, ctx);
  });

export type ApiConfig = z.infer<typeof apiConfigSchema>;

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): Readonly<ApiConfig> {
  return parseEnv(apiConfigSchema, env);
}
