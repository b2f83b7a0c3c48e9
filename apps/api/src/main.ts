import { randomBytes } from 'node:crypto';
import { ConfigError } from '@hookrelay/contracts';
import { createLogger, createMetrics, wantsPrettyLogs } from '@hookrelay/observability';
import { checkRedisReachable, RedisUnreachableError } from '@hookrelay/queue';
import { PLAIN_TEXT_SECRETS_WARNING, SecretBox } from '@hookrelay/secrets';
import { DeliveryThread } from '@hookrelay/worker';
import { warmBodyDecoding } from './warm-body-decoding';
import { createApp } from './app';
import { buildApiDeps } from './build-deps';
import { listenApi } from './http-server';
import { loadApiConfig } from './config';

/**
 * Composition root. `--with-worker` runs the delivery worker in the same process (what `npm start`
 * does), on a thread of its own (DeliveryThread); without it this is the API alone (`npm run start:api`).
 */
async function main(): Promise<void> {
  const config = loadApiConfig();
  const withWorker = process.argv.includes('--with-worker');
  const name = withWorker ? 'hookrelay' : 'api';
  const pretty = wantsPrettyLogs(config, process.stdout.isTTY);
  const logger = createLogger({ level: config.LOG_LEVEL, name, pretty });
  await checkRedisReachable(config.REDIS_URL);

  let adminKey = config.HOOKRELAY_ADMIN_KEY;
  if (!adminKey) {
    adminKey = `hr_admin_${randomBytes(24).toString('base64url')}`;
    process.stdout.write(
      `\n  No HOOKRELAY_ADMIN_KEY set: generated one for this run (development only):\n\n    export ADMIN_KEY=${adminKey}\n\n`,
    );
  }

  const secrets = new SecretBox(config.HOOKRELAY_ENCRYPTION_KEYS);
  if (!secrets.encrypts) logger.warn(PLAIN_TEXT_SECRETS_WARNING);

  const metrics = createMetrics();
  const retentionMs = config.HOOKRELAY_RETENTION_DAYS * 86_400_000;
  const circuitBreaker = { failures: config.HOOKRELAY_DISABLE_AFTER_FAILURES, spanMs: config.HOOKRELAY_DISABLE_AFTER_HOURS * 3_600_000 };
  let accepting = true;
  const api = await buildApiDeps({
    redisUrl: config.REDIS_URL,
    keyPrefix: config.QUEUE_PREFIX,
    logger,
    metrics,
    adminKey,
    retentionMs,
    circuitBreaker,
    limits: {
      maxEndpoints: config.HOOKRELAY_MAX_ENDPOINTS_PER_SUBSCRIBER,
      maxSources: config.HOOKRELAY_MAX_SOURCES_PER_SUBSCRIBER,
      eventsPerSecond: config.HOOKRELAY_EVENTS_PER_SECOND,
      maxDeletedEndpoints: config.HOOKRELAY_MAX_DELETED_ENDPOINTS_PER_SUBSCRIBER,
      sourceRequestsPerSecond: config.HOOKRELAY_SOURCE_REQUESTS_PER_SECOND,
      sourceRequestsPerMinute: config.HOOKRELAY_SOURCE_REQUESTS_PER_MINUTE,
      workUnitsPerSecond: config.HOOKRELAY_WORK_UNITS_PER_SECOND,
      workUnitsBurst: config.HOOKRELAY_WORK_UNITS_BURST,
      maxStoredBytes: config.HOOKRELAY_MAX_STORED_BYTES_PER_SUBSCRIBER,
    },
    policy: {
      allowHttp: config.HOOKRELAY_ALLOW_HTTP,
      allowPrivateTargets: config.HOOKRELAY_ALLOW_PRIVATE_TARGETS,
      allowSha1: config.HOOKRELAY_ALLOW_SHA1,
      allowUnauthenticatedSources: config.HOOKRELAY_ALLOW_UNAUTHENTICATED_SOURCES,
      minRetryIntervalMs: config.HOOKRELAY_MIN_RETRY_INTERVAL_MS,
    },
    builtInCatalog: config.HOOKRELAY_BUILTIN_CATALOG,
    accepting: () => accepting,
    secrets,
    publicUrl: config.HOOKRELAY_PUBLIC_URL,
    platformName: config.HOOKRELAY_PLATFORM_NAME,
    unverifiedTls: { burst: config.HOOKRELAY_UNVERIFIED_TLS_BURST, perMinute: config.HOOKRELAY_UNVERIFIED_TLS_PER_MINUTE },
    maxBatchDeliveries: config.HOOKRELAY_MAX_BATCH_DELIVERIES,
    verificationTimeoutMs: config.HOOKRELAY_VERIFICATION_TIMEOUT_MS,
    sourceBodyBytesInFlight: config.HOOKRELAY_SOURCE_BODY_BYTES_IN_FLIGHT,
    apiBodyBytesInFlight: config.HOOKRELAY_API_BODY_BYTES_IN_FLIGHT,
  });
  // The worker reads the same environment on its thread (apps/worker's config, as start:worker).
  const thread = withWorker
    ? await DeliveryThread.start({
        loggerName: name,
        pretty,
        onUnexpectedExit: (err) => {
          // As when the worker shared this event loop: an error it did not handle stops the process.
          logger.fatal({ err }, 'worker.thread_failed');
          logger.flush(() => process.exit(1));
        },
      })
    : undefined;
  const app = createApp(thread ? { ...api.deps, workerMetrics: () => thread.metrics() } : api.deps);
  // Modules and compiled code the first requests would otherwise load mid-traffic (docs/performance.md).
  warmBodyDecoding();

  // With bounds on how long a request may take to arrive (http-server.ts), not Node's 300 s.
  const server = await listenApi(app, config);
  logger.info({ port: config.PORT, worker: withWorker }, 'api.listening');
  process.stdout.write(`  Hookrelay is listening on http://127.0.0.1:${config.PORT}${withWorker ? ' (API and worker)' : ''}\n`);

  const shutdown = async (signal: string): Promise<void> => {
    logger.info({ signal }, 'shutdown.begin');
    accepting = false;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const workerStopped = await thread?.close(config.SHUTDOWN_TIMEOUT_MS).then(
      () => true,
      (err: unknown) => {
        logger.error({ err }, 'worker.stop_failed');
        return false;
      },
    );
    await api.close();
    logger.info('shutdown.done');
    // Flushed before exiting: the async destination would otherwise drop the last lines.
    logger.flush(() => process.exit(workerStopped === false ? 1 : 0));
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof RedisUnreachableError) process.stderr.write(`\n${err.message}\n\n`);
  else process.stderr.write(`hookrelay failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
