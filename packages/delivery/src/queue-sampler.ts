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
export function startQueueSampler(options: QueueSamplerOptions): {
  sample(): Promise<void>;
  stop(): void;
  /** The endpoint index build this sampler started and that still runs, if any. */
  indexBuild(): Promise<void> | null;
} {
  const now = options.now ?? Date.now;
  const endpointIndex = trackEndpointIndex(options, now);
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

    const byStatus = await endpointIndex.counts();
    if (byStatus) for (const [status, count] of Object.entries(byStatus)) options.metrics.endpoints.set({ status }, count);
  };
  let sampling = false;
  const timer = setInterval(() => {
    // A sample that outlasts the interval (Redis slow to answer) is not run twice at once.
    if (sampling) return;
    sampling = true;
    sample()
      .catch((err: unknown) => options.logger.warn({ err: (err as Error).message }, 'metrics.sample_failed'))
      .finally(() => (sampling = false));
  }, options.intervalMs ?? 10_000);
  timer.unref();
  return { sample, stop: () => clearInterval(timer), indexBuild: endpointIndex.building };
}

/** How often the endpoint index is built again, and how long one worker may take to build it before another may try. */
const INDEX_REBUILT_EVERY_MS = 24 * 3600_000;
const INDEX_BUILD_CLAIM_MS = 10 * 60_000;

/**
 * Endpoints by status from the store's index (two SCARDs), and its builds: the first, for data
 * written before the index existed (the gauge is left alone until it is done), then one a day,
 * mending what processes of an earlier version wrote without it during a rolling upgrade. A build
 * runs beside the samples (they go on) in one worker at a time, under a claim.
 */
function trackEndpointIndex(options: QueueSamplerOptions, now: () => number) {
  const index = options.store.endpoints.byStatus;
  let building: Promise<void> | null = null;
  const build = async () => {
    const claim = await index.claimRebuild(INDEX_BUILD_CLAIM_MS);
    if (claim === null) return;
    try {
      const started = now();
      await index.rebuild(started);
      options.logger.info({ durationMs: now() - started }, 'metrics.endpoint_index_built');
    } finally {
      await index.releaseRebuild(claim);
    }
  };
  return {
    /** Endpoints by status, or null until the index has been built once; starts a build when one is due. */
    async counts(): Promise<{ active: number; disabled: number } | null> {
      const { active, disabled, builtAt } = await index.counts();
      if (!building && (builtAt === null || now() - builtAt >= INDEX_REBUILT_EVERY_MS)) {
        building = build()
          .catch((err: unknown) => options.logger.warn({ err: (err as Error).message }, 'metrics.endpoint_index_build_failed'))
          .finally(() => (building = null));
      }
      return builtAt === null ? null : { active, disabled };
    },
    /** The build under way in this process, if any (tests wait for it). */
    building: () => building,
  };
}
