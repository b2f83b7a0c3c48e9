import type { Logger } from '@hookrelay/observability';

/** The worker's defaults (WORKER_DISABLE_CHUNK, WORKER_DISABLE_PAUSE_MS; the chain's bound). */
export const DEFAULT_DISABLE_ENDINGS = Object.freeze({ chunk: 100, pauseMs: 0, maxWaitingPerSubscriber: 1000 });

export interface DisableEndingsOptions {
  logger: Logger;
  /**
   * Endpoints one subscriber may have waiting for their deliveries to be ended, in this process;
   * past it a disable's ending is left to admission (the worker ends a disabled endpoint's
   * deliveries unsent as it reaches them). @defaultValue 1000
   */
  maxWaitingPerSubscriber?: number;
  /**
   * Pause after each chunk of ended deliveries before the chain's next, so other clients' commands
   * run between chunks; 0 yields to the event loop only. @defaultValue 0
   */
  pauseMs?: number;
}

/** One endpoint's ending: called with `more` between chunks, it stops when `more` says false. */
export type Ending = (more: () => Promise<boolean>) => Promise<void>;

interface Chain {
  /** Endpoint id -> its ending, in order of arrival; a newer disable of the same endpoint replaces the older. */
  waiting: Map<string, Ending>;
  running: Promise<void>;
}

/**
 * The worker's disables of one subscriber's endpoints end their open deliveries one endpoint after
 * another, in chunks (EndpointGuard's), each awaited and followed by a pause: a storm of disables
 * costs Redis one chunk at a time per subscriber rather than all of them at once. An audit: 100
 * endpoints of one subscriber answering 410, 1,000 open deliveries each, ended 100,000 in 1.7 s
 * (580,000 Redis commands), another client's PING p99 4.7 -> 27.6 ms and another subscriber's
 * publish-to-receiver p99 21 -> 280 ms. Another subscriber's chain runs beside, not behind.
 */
export class DisableEndings {
  private readonly chains = new Map<string, Chain>();
  private readonly maxWaiting: number;
  private closing = false;

  constructor(private readonly options: DisableEndingsOptions) {
    this.maxWaiting = options.maxWaitingPerSubscriber ?? DEFAULT_DISABLE_ENDINGS.maxWaitingPerSubscriber;
  }

  /** Queues `ending` on the subscriber's chain; false when it was left to admission (closing, or the chain full). */
  add(subscriberId: string, endpointId: string, ending: Ending): boolean {
    if (this.closing) return false;
    const chain = this.chains.get(subscriberId);
    if (chain) {
      if (!chain.waiting.has(endpointId) && chain.waiting.size >= this.maxWaiting) {
        this.options.logger.warn({ subscriberId, endpointId, waiting: chain.waiting.size }, 'endpoint.disable_ending_deferred');
        return false;
      }
      chain.waiting.set(endpointId, ending);
      return true;
    }
    const started: Chain = { waiting: new Map([[endpointId, ending]]), running: Promise.resolve() };
    this.chains.set(subscriberId, started);
    started.running = this.run(subscriberId, started);
    return true;
  }

  /** Endpoints waiting or being ended, across subscribers (tests, metrics). */
  get size(): number {
    let n = 0;
    for (const chain of this.chains.values()) n += chain.waiting.size;
    return n;
  }

  /** Resolves when every chain has run out. */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()].map((c) => c.running));
  }

  /**
   * Stops each chain after its current chunk and drops what waits: the endpoints are disabled
   * already, and the worker that admits their deliveries next ends them unsent.
   */
  async close(): Promise<void> {
    this.closing = true;
    await this.idle();
  }

  private async run(subscriberId: string, chain: Chain): Promise<void> {
    const more = async (): Promise<boolean> => {
      await pause(this.options.pauseMs ?? 0);
      return !this.closing;
    };
    try {
      for (;;) {
        const next = chain.waiting.entries().next();
        if (next.done || this.closing) break;
        const [endpointId, ending] = next.value;
        try {
          await ending(more);
        } catch (err) {
          this.options.logger.error({ err, subscriberId, endpointId }, 'endpoint.disable_ending_failed');
        }
        // A newer disable of the same endpoint queued meanwhile stays for its own turn.
        if (chain.waiting.get(endpointId) === ending) chain.waiting.delete(endpointId);
      }
    } finally {
      this.chains.delete(subscriberId);
    }
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));
}
