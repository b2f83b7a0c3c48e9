/** BullMQ's job counts by state (a Queue's getJobCounts). */
export interface JobCounter {
  getJobCounts(...states: string[]): Promise<Record<string, number>>;
}

/** The admission layer in front of BullMQ: packages/store's LaneStore. */
export interface SchedulerCounter {
  /** Deliveries in lanes (ready, or parked behind a sleeping endpoint). */
  sample(): Promise<{ ready: number }>;
  /** Retries due within `withinMs` from now. */
  dueWithin(withinMs: number): Promise<number>;
  /** Deliveries admitted from a lane whose BullMQ job is not added yet. */
  leaseCount(laneClass: 'fast' | 'slow'): Promise<number>;
}

/** Where deliveries wait: the shape of a DeliveryWorker (its lanes' queues, and the store's scheduler). */
export interface DrainableQueue {
  queues: Record<string, JobCounter>;
  store: { lanes: SchedulerCounter };
}

export interface DrainOptions {
  /** @defaultValue 10_000 */
  timeoutMs?: number;
}

// BullMQ counts paused jobs with waiting ones.
const BULLMQ_PENDING = ['waiting', 'active', 'delayed', 'prioritized'];

/**
 * Resolves once no delivery waits anywhere, so a test can then assert that nothing more arrived:
 * BullMQ's waiting, active, delayed and prioritized jobs of every lane's queue are all zero, and so
 * is the scheduler in front of them (deliveries in a lane, parked behind a sleeping endpoint,
 * waiting for a retry, or admitted and not yet queued). Each step between these moves a delivery in
 * one transaction (create-event.lua, the admission pump's lease-and-add, record-attempts.lua).
 * Replaces fixed sleeps before "nothing more arrived" assertions (issue 21).
 *
 * A retry due later than `timeoutMs` from now does not count: it could not arrive within the wait
 * (a test that waits out a long backoff on purpose asserts nothing was sent meanwhile).
 */
export async function waitForDrain(queue: DrainableQueue, options: DrainOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const until = Date.now() + timeoutMs;
  // The counts are read one after another, not in one transaction, so a delivery moving between
  // them could be missed once: drained means two samples in a row found nothing.
  let quietSamples = 0;
  for (;;) {
    const jobs = await Promise.all(Object.values(queue.queues).map((q) => q.getJobCounts(...BULLMQ_PENDING)));
    const leases = await Promise.all((['fast', 'slow'] as const).map((lane) => queue.store.lanes.leaseCount(lane)));
    const lanes = await queue.store.lanes.sample();
    const due = await queue.store.lanes.dueWithin(timeoutMs);
    const waiting =
      lanes.ready + due + leases.reduce((a, b) => a + b, 0) + jobs.reduce((n, c) => n + Object.values(c).reduce((a, b) => a + b, 0), 0);
    quietSamples = waiting === 0 ? quietSamples + 1 : 0;
    if (quietSamples === 2) return;
    if (Date.now() > until)
      throw new Error(`not drained after ${timeoutMs} ms: ${JSON.stringify({ ready: lanes.ready, due, leases, jobs })}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
