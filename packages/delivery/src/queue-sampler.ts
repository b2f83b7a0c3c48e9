import type { HookrelayMetrics, Logger } from '@hookrelay/observability';
import type { DeliveryQueue } from '@hookrelay/queue';
import type { Store } from '@hookrelay/store';

export interface QueueSamplerOptions {
  queue: DeliveryQueue;
  store: Store;
  metrics: HookrelayMetrics;
  logger: Logger;
  /** @defaultValue 10000 */
  intervalMs?: number;
  now?: () => number;
}

/**
 * Samples what is not an event of its own: queue depth by state, the age of the oldest waiting
 * job, and endpoints by status. Gauges, refreshed on an interval rather than on every scrape, so a
 * busy Prometheus cannot add load to Redis.
 */
export function startQueueSampler(options: QueueSamplerOptions): { sample(): Promise<void>; stop(): void } {
  const now = options.now ?? Date.now;
  const sample = async (): Promise<void> => {
    const counts = await options.queue.getJobCounts('waiting', 'delayed', 'active', 'failed', 'prioritized');
    options.metrics.queueJobs.set({ state: 'waiting' }, (counts.waiting ?? 0) + (counts.prioritized ?? 0));
    for (const state of ['delayed', 'active', 'failed'] as const) options.metrics.queueJobs.set({ state }, counts[state] ?? 0);

    const [oldest] = await options.queue.getJobs(['wait'], 0, 0, true);
    options.metrics.oldestPending.set(oldest ? Math.max(now() - oldest.timestamp, 0) / 1000 : 0);

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
