// Bench child: Hookrelay's own delivery worker (startDeliveryWorker), as production runs it
// (signing, attempt records, metrics and one log line per attempt), started and stopped on command.
import { startDeliveryWorker, type DeliveryWorker } from '@hookrelay/delivery';
import { createLogger, createMetrics } from '@hookrelay/observability';
import { RssSampler, serveCommands } from './child-serve';

export interface HookrelayWorkerStartArgs {
  redisUrl: string;
  keyPrefix: string;
  concurrency: number;
  connectionsPerOrigin: number;
}

// Log lines are serialized exactly as in production and then dropped: the bench measures the
// worker, not the terminal.
const logger = createLogger({ level: 'info', name: 'worker', destination: { write: () => undefined } });
const metrics = createMetrics();
const rss = new RssSampler();
let worker: DeliveryWorker | undefined;

serveCommands(
  {
    start: async (args: HookrelayWorkerStartArgs) => {
      if (worker) throw new Error('already started');
      rss.start();
      worker = await startDeliveryWorker({
        redisUrl: args.redisUrl,
        keyPrefix: args.keyPrefix,
        logger,
        metrics,
        concurrency: args.concurrency,
        connectionsPerOrigin: args.connectionsPerOrigin,
        allowPrivateTargets: true,
      });
      await worker.worker.waitUntilReady();
      return null;
    },
    stop: async () => {
      await worker?.close();
      worker = undefined;
      return { peakRssBytes: rss.stop() };
    },
  },
  async () => {
    await worker?.close();
  },
);
