import type { Logger } from '@hookrelay/observability';

export interface WakeRetryOptions {
  /** Wakes sleepers in the scheduler (LaneStore.wake): idempotent, so a call run twice wakes once. */
  wake: (sleepers: string[]) => Promise<void>;
  logger: Logger;
  /**
   * The longest a parked endpoint sleeps if nobody wakes it (SchedulingOptions.parkMs): a retry
   * later than that wakes nothing its sleep's end would not.
   */
  parkMs: number;
  /** The first retry comes this long after a failed wake, each next one twice as long after. @defaultValue 500 */
  firstRetryMs?: number;
}

/**
 * Wakes the endpoints a worker parked on a full receiver address when a slot frees (AddressSlots),
 * and tries again when Redis did not take the wake. Each sleeper is woken by one freed slot, once:
 * a wake lost to a Redis blip left its endpoints asleep until `parkMs` (30 s), however soon Redis
 * came back, and the other subscribers' endpoints parked behind them waited for slots that freed
 * meanwhile. Retries back off (500 ms, 1 s, 2 s, ...) and stop once the sleep would have ended by
 * itself, or when the worker closes.
 */
export class WakeRetry {
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  private readonly firstRetryMs: number;

  constructor(private readonly options: WakeRetryOptions) {
    this.firstRetryMs = options.firstRetryMs ?? 500;
  }

  /** Wakes `sleepers` now, and again later while that fails. No await: a freed slot's path. */
  wake(sleepers: string[]): void {
    if (sleepers.length > 0) this.attempt(sleepers, 0, 0);
  }

  /** Retries waiting for their time. */
  get waiting(): number {
    return this.timers.size;
  }

  /** No more retries; those waiting are dropped (their sleeps end by themselves). */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private attempt(sleepers: string[], lastDelayMs: number, waitedMs: number): void {
    this.options.wake(sleepers).catch((err: unknown) => {
      const delayMs = lastDelayMs === 0 ? this.firstRetryMs : lastDelayMs * 2;
      const givenUp = this.closed || waitedMs + delayMs >= this.options.parkMs;
      this.options.logger.warn(
        { err: (err as Error).message, sleepers: sleepers.length, ...(givenUp ? { givenUp: true } : { retryInMs: delayMs }) },
        'scheduler.wake_failed',
      );
      if (givenUp) return;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.attempt(sleepers, delayMs, waitedMs + delayMs);
      }, delayMs);
      timer.unref();
      this.timers.add(timer);
    });
  }
}
