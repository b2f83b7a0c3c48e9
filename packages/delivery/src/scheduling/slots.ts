/**
 * Deliveries in flight at once in one lane of one worker (WORKER_CONCURRENCY): a job carries one
 * endpoint's turn, up to a quantum of deliveries, so BullMQ's job concurrency alone would let ten
 * times as many attempts run. A delivery waits here, first come first served, for its turn to send.
 */
export class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {
    this.free = size;
  }

  /** Resolves with the function that gives the slot back (once; a second call does nothing). */
  async take(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next in line.
      if (next) next();
      else this.free++;
    };
  }

  /** Slots in use (tests, metrics). */
  get inUse(): number {
    return this.size - this.free;
  }
}
