import type { HookrelayMetrics, Logger } from '@hookrelay/observability';
import type { DeliveryQueue } from '@hookrelay/queue';
import type { Store } from '@hookrelay/store';

export interface QueueSamplerOptions {
  /** Every lane's queue. */
  queues: readonly DeliveryQueue[];
  store: Store;
  metrics: HookrelayMetrics;
  logger: Logger;
  /** @defaultValue 10000 */
  intervalMs?: number;
  now?: () => number;
}

/**
 * Samples what is not an event of its own: deliveries by where they wait (the scheduler's lanes
 * and due set, BullMQ's lists), the age of the oldest one waiting for a worker, the slow lane, what
 * sleeps, and endpoints by status. Gauges, refreshed on an interval rather than on every scrape,
 * so a busy Prometheus cannot add load to Redis.
 */
export function startQueueSampler(options: QueueSamplerOptions): { sample(): Promise<void>; stop(): void } {
  const now = options.now ?? Date.now;
  const sample = async (): Promise<void> => {
    const lanes = await options.store.lanes.sample();
    const totals = { waiting: lanes.ready, delayed: lanes.due, active: 0, failed: 0 };
    for (const queue of options.queues) {
      const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'failed', 'prioritized');
      totals.waiting += (counts.waiting ?? 0) + (counts.prioritized ?? 0);
      totals.delayed += counts.delayed ?? 0;
      totals.active += counts.active ?? 0;
      totals.failed += counts.failed ?? 0;
    }
    for (const [state, count] of Object.entries(totals)) options.metrics.queueJobs.set({ state }, count);
    options.metrics.oldestPending.set(lanes.oldestCreatedAt === null ? 0 : Math.max(now() - lanes.oldestCreatedAt, 0) / 1000);
    options.metrics.slowLaneEndpoints.set(lanes.slowEndpoints);
    options.metrics.sleeping.set(lanes.sleeping);

    const byStatus = { active: 0, disabled: 0 };
    for (const subscriber of await options.store.subscribers.list()) {
      for (const endpoint of await options.store.endpoints.listAll(subscriber.id)) byStatus[endpoint.status]++;
    }
    for (const [status, count] of Object.entries(byStatus)) options.metrics.endpoints.set({ status }, count);
  };
  const timer = setInterval(() => {
    sample().catch((err: unknown) => options.logger.warn({ err: (err as Error).message }, 'metrics.sample_failed'));
  }, options.intervalMs ?? 10_000);
  timer.unref();
  return { sample, stop: () => clearInterval(timer) };
}
