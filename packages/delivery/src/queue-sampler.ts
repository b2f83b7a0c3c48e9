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

    const byStatus = await endpointsByStatus(options);
    if (byStatus) for (const [status, count] of Object.entries(byStatus)) options.metrics.endpoints.set({ status }, count);
  };
  let sampling = false;
  const timer = setInterval(() => {
    // A sample that outlasts the interval (a first build of the endpoint index) is not run twice at once.
    if (sampling) return;
    sampling = true;
    sample()
      .catch((err: unknown) => options.logger.warn({ err: (err as Error).message }, 'metrics.sample_failed'))
      .finally(() => (sampling = false));
  }, options.intervalMs ?? 10_000);
  timer.unref();
  return { sample, stop: () => clearInterval(timer) };
}

/** How long one worker may take to build the endpoint index before another may try. */
const INDEX_BUILD_CLAIM_MS = 10 * 60_000;

/**
 * Endpoints by status from the store's index (two SCARDs). Data written before the index existed
 * has none: one worker builds it (under a claim) while the others leave the gauge unset.
 */
async function endpointsByStatus(options: QueueSamplerOptions): Promise<{ active: number; disabled: number } | null> {
  const index = options.store.endpoints.byStatus;
  const counts = await index.counts();
  if (counts || !(await index.claimRebuild(INDEX_BUILD_CLAIM_MS))) return counts;
  const started = Date.now();
  await index.rebuild();
  options.logger.info({ durationMs: Date.now() - started }, 'metrics.endpoint_index_built');
  return index.counts();
}
