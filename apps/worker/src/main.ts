import { ConfigError } from '@hookrelay/contracts';
import { startDeliveryWorker } from '@hookrelay/delivery';
import { createLogger, createMetrics, wantsPrettyLogs } from '@hookrelay/observability';
import { deliveryWorkerOptions, loadWorkerConfig } from './config';
import { createProbeServer } from './probe-server';
import { workerResourceSettings } from './worker-settings';
import { createWorkerResources } from './worker-resources';
import { warmHttpClient } from './warm-http-client';
import { checkRedisReachable, RedisUnreachableError } from '@hookrelay/queue';
import { PLAIN_TEXT_SECRETS_WARNING, SecretBox } from '@hookrelay/secrets';

async function main(): Promise<void> {
  const config = loadWorkerConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'worker', pretty: wantsPrettyLogs(process.env, process.stdout.isTTY) });
  await checkRedisReachable(config.REDIS_URL);
  const resources = createWorkerResources({
    redisUrl: config.REDIS_URL,
    allowPrivateTargets: config.HOOKRELAY_ALLOW_PRIVATE_TARGETS,
    ...workerResourceSettings(config),
  });
  const secrets = new SecretBox(config.HOOKRELAY_ENCRYPTION_KEYS);
  if (!secrets.encrypts) logger.warn(PLAIN_TEXT_SECRETS_WARNING);
  const metrics = createMetrics();
  // undici's parser is compiled here rather than during the first delivery (warm-http-client.ts).
  await warmHttpClient();
  const worker = await startDeliveryWorker(resources, { secrets, logger, metrics, ...deliveryWorkerOptions(config) });
  // /metrics, and the /healthz and /readyz probes (docker-compose.yml's healthcheck).
  const metricsServer =
    config.METRICS_PORT > 0 ? createProbeServer({ metrics, ready: () => worker.ready() }).listen(config.METRICS_PORT) : undefined;
  logger.info({ concurrency: config.WORKER_CONCURRENCY, metricsPort: config.METRICS_PORT || null }, 'worker.started');

  const shutdown = async (signal: string): Promise<void> => {
    logger.info({ signal }, 'worker.stopping');
    metricsServer?.close();
    await worker.close(config.SHUTDOWN_TIMEOUT_MS);
    await resources.close();
    logger.info('worker.stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof RedisUnreachableError) {
    process.stderr.write(`${(err as Error).message}\n`);
  } else {
    process.stderr.write(`worker failed to start: ${(err as Error).stack ?? String(err)}\n`);
  }
  process.exit(1);
});
