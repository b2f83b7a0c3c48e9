/** What a poll loop needs from the page: kept apart so the loop is tested without a browser. */
export interface PollLoopOptions {
  load: () => Promise<void>;
  intervalMs: number;
  isHidden: () => boolean;
  setTimer?: (run: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

/**
 * Runs `load` now and then `intervalMs` after each load ends, skipping while the page is hidden,
 * and never two loads at once. A page shown again asks at once, unless a load is already running:
 * then the next one starts as soon as it ends. Two loads at once would each schedule a timer, and
 * the page would poll twice as often from then on (and more with each hide and show).
 */
export class PollLoop {
  private readonly setTimer: (run: () => void, ms: number) => unknown;
  private readonly clearTimer: (timer: unknown) => void;
  private timer: unknown;
  private running = false;
  private askedWhileRunning = false;
  private stopped = false;

  constructor(private readonly options: PollLoopOptions) {
    this.setTimer = options.setTimer ?? ((run, ms) => setTimeout(run, ms));
    this.clearTimer = options.clearTimer ?? ((timer) => clearTimeout(timer as ReturnType<typeof setTimeout>));
  }

  start(): void {
    void this.tick();
  }

  /** The page became visible: ask now rather than at the next tick. */
  shown(): void {
    if (this.stopped || this.options.isHidden()) return;
    if (this.running) {
      this.askedWhileRunning = true;
      return;
    }
    this.clearTimer(this.timer);
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    this.timer = undefined;
    if (!this.options.isHidden()) {
      this.running = true;
      try {
        await this.options.load();
      } catch {
        /* load reports its own errors */
      } finally {
        this.running = false;
      }
    }
    if (this.stopped) return;
    const again = this.askedWhileRunning;
    this.askedWhileRunning = false;
    this.timer = this.setTimer(() => void this.tick(), again ? 0 : this.options.intervalMs);
  }
}
