import { parentPort, workerData } from 'node:worker_threads';
import { startDeliveryWorker } from '@hookrelay/delivery';
import { createLogger, createMetrics, forwardingLogDestination, LogHandOver } from '@hookrelay/observability';
import { SecretBox } from '@hookrelay/secrets';
import { deliveryWorkerOptions, loadWorkerConfig } from './config';
import type { DeliveryThreadData, HostMessage, ThreadMessage } from './delivery-thread-protocol';
import { warmHttpClient } from './warm-http-client';
import { workerResourceSettings } from './worker-settings';
import { createWorkerResources } from './worker-resources';

/**
 * The delivery worker on a thread of `npm start`'s process (DeliveryThread starts it): the same
 * worker `npm run start:worker` runs, read from the same environment, with no probe server and no
 * signal handlers of its own; the host asks it for its metrics and tells it when to stop.
 */
async function run(port: NonNullable<typeof parentPort>, data: DeliveryThreadData): Promise<void> {
  // METRICS_PORT is start:worker's own listener: under npm start the API's /metrics serves the
  // worker's series, so the setting means nothing here and a value start:worker would refuse must
  // not stop npm start.
  const { METRICS_PORT: _metricsPort, ...env } = process.env;
  const config = loadWorkerConfig(env);
  // Lines go to the host, which writes them to stdout with its own: one writer per process, so a
  // line over PIPE_BUF is never cut by another thread's (a pretty terminal is a developer's). Those
  // the host has not written yet are bounded (LogHandOver): its event loop may be busy a while.
  const send = (message: ThreadMessage): void => port.postMessage(message);
  const handOver = new LogHandOver(data.logHandOver);
  const logger = createLogger({
    level: config.LOG_LEVEL,
    name: data.loggerName,
    pretty: data.pretty,
    destination: data.pretty ? undefined : forwardingLogDestination((lines) => send({ type: 'log', lines }), handOver),
  });
  const resources = createWorkerResources({
    redisUrl: config.REDIS_URL,
    allowPrivateTargets: config.HOOKRELAY_ALLOW_PRIVATE_TARGETS,
    ...workerResourceSettings(config),
  });
  // The process's own metrics (CPU, memory, event loop) are the host's: one set per process.
  const metrics = createMetrics({ processMetrics: false });
  await warmHttpClient();
  const worker = await startDeliveryWorker(resources, {
    // The host has warned about plain-text secrets already: one warning per process.
    secrets: new SecretBox(config.HOOKRELAY_ENCRYPTION_KEYS),
    logger,
    metrics,
    ...deliveryWorkerOptions(config),
  });
  port.on('message', (message: HostMessage) => {
    if (message.type === 'metrics') {
      metrics.registry.getMetricsAsJSON().then(
        (json) => send({ type: 'metrics', id: message.id, json }),
        (err: unknown) => send({ type: 'metrics', id: message.id, json: [], error: (err as Error).message }),
      );
    } else if (message.type === 'close') {
      void (async () => {
        await worker.close(message.deadlineMs);
        await resources.close();
        await new Promise<void>((resolve) => logger.flush(() => resolve()));
        // The host ends the thread on this answer: whatever handle is still open cannot keep it.
        send({ type: 'closed' });
      })().catch((err: unknown) => {
        // The host's close() rejects with this: npm start does not exit 0 over a failed shutdown.
        send({ type: 'closed', error: (err as Error).stack ?? String(err) });
      });
    }
  });
  send({ type: 'started' });
}

if (!parentPort) throw new Error('delivery-thread.ts runs on a worker thread (DeliveryThread.start)');
// A failure here ends the thread with exit code 1 whatever --unhandled-rejections says; the host
// rejects its start (or, later, stops npm start), as when the worker shared the event loop.
void run(parentPort, workerData as DeliveryThreadData).catch((err: unknown) => {
  process.stderr.write(`delivery worker thread failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
