/** Gives a slot back; calling it twice is harmless. */
export type ReleaseSlot = () => void;

export interface OriginSlotsOptions {
  /** Attempts in flight to one origin at once. */
  perOrigin: number;
  /** How long an attempt over the cap may wait for a slot before it is deferred. @defaultValue 250 */
  waitMs?: number;
  /** After a wait runs out, the origin is treated as saturated (defer at once) for this long. @defaultValue 1000 */
  congestedMs?: number;
  now?: () => number;
}

interface OriginState {
  inFlight: number;
  waiters: Array<(release: ReleaseSlot | null) => void>;
  congestedUntil: number;
}

/**
 * Caps the attempts one worker has in flight to one receiver origin, so a receiver that hangs
 * cannot hold every one of the worker's concurrency slots (BullMQ's concurrency is shared by all
 * endpoints). Found by test/reliability/hostile-receivers: with 500 deliveries to a hanging
 * endpoint queued, a healthy endpoint got nothing until the hanging attempts timed out.
 *
 * An attempt over the cap waits briefly for a slot (a busy but fast origin frees one in
 * milliseconds, so its deliveries do not churn through the queue); if none frees, `acquire`
 * answers null and the caller defers the job. Once a wait has run out the origin counts as
 * saturated and later attempts are deferred at once, without holding a worker slot.
 */
export class OriginSlots {
  private readonly origins = new Map<string, OriginState>();
  private readonly waitMs: number;
  private readonly congestedMs: number;
  private readonly now: () => number;

  constructor(private readonly options: OriginSlotsOptions) {
    this.waitMs = options.waitMs ?? 250;
    this.congestedMs = options.congestedMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** Attempts in flight to `origin` (for tests and metrics). */
  inFlight(origin: string): number {
    return this.origins.get(origin)?.inFlight ?? 0;
  }

  async acquire(origin: string): Promise<ReleaseSlot | null> {
    let state = this.origins.get(origin);
    if (!state) {
      state = { inFlight: 0, waiters: [], congestedUntil: 0 };
      this.origins.set(origin, state);
    }
    if (state.inFlight < this.options.perOrigin) {
      state.inFlight++;
      return this.releaser(origin, state);
    }
    if (this.now() < state.congestedUntil) return null;
    const current = state;
    return new Promise<ReleaseSlot | null>((resolve) => {
      const timer = setTimeout(() => {
        current.waiters = current.waiters.filter((w) => w !== waiter);
        current.congestedUntil = this.now() + this.congestedMs;
        resolve(null);
      }, this.waitMs);
      const waiter = (release: ReleaseSlot | null) => {
        clearTimeout(timer);
        resolve(release);
      };
      current.waiters.push(waiter);
    });
  }

  private releaser(origin: string, state: OriginState): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = state.waiters.shift();
      // The slot passes straight to the first waiter: inFlight stays the same.
      if (next) return next(this.releaser(origin, state));
      state.inFlight--;
      if (state.inFlight === 0 && state.waiters.length === 0) this.origins.delete(origin);
    };
  }
}

/** The pool key undici uses: scheme, host and port. */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
