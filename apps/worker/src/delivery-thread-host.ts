import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { LogHandOver, stdoutLogDestination, type DestinationStream, type MetricsJson } from '@hookrelay/observability';
import type { DeliveryThreadData, HostMessage, ThreadMessage } from './delivery-thread-protocol';

/** How long `metrics()` waits for the thread by default: well under Prometheus's 10 s scrape timeout. */
export const DEFAULT_METRICS_TIMEOUT_MS = 2000;

export interface DeliveryThreadOptions extends Omit<DeliveryThreadData, 'logHandOver'> {
  /** Called once if the thread ends other than by `close()` (an uncaught error, or it exited): the process should stop. */
  onUnexpectedExit: (err: Error) => void;
  /**
   * How long `metrics()` waits for the thread's answer. A thread whose event loop is held (a long
   * synchronous task) must not hold the API's /metrics with it: past this, the scrape gets the
   * API's own series. @defaultValue DEFAULT_METRICS_TIMEOUT_MS
   */
  metricsTimeoutMs?: number;
  /**
   * Where the thread's log lines go: the thread posts them rather than write stdout itself, as two
   * writers to one pipe can splice a long line of one into the other's. @defaultValue this
   * thread's stdout writer (stdoutLogDestination), the one the host's own logger writes to
   */
  logDestination?: DestinationStream;
  /**
   * The count the thread's log lines are bounded by (forwardingLogDestination), given back as the
   * host writes them. start() makes one and hands its buffer to the thread; a test thread that
   * posts lines by hand has none.
   */
  logHandOver?: LogHandOver;
}

/** What the host side needs beside the thread (the thread's own data went to it at start). */
type HostOptions = Omit<DeliveryThreadOptions, 'loggerName' | 'pretty'>;

/**
 * `npm start`'s delivery worker on a thread of its own (delivery-thread.ts), so the API and the
 * worker each have an event loop and a core: on one shared event loop, each one's work queued
 * behind the other's, and at 2,000 single publishes a second the process saturated one core while
 * the machine's second stood idle (docs/performance.md). The thread reads the same environment as
 * `npm run start:worker`; the host serves its metrics (`metrics()`, summed into the API's /metrics)
 * and stops it (`close()`).
 */
export class DeliveryThread {
  private nextId = 1;
  /** Metrics requests awaiting the thread's answer; answered null if the thread ends first. */
  private readonly pending = new Map<number, (json: MetricsJson | null) => void>();
  private closing = false;
  private exited = false;
  /** Why the thread ended while closing, if it did not close cleanly. */
  private closeFailure: Error | undefined;
  private readonly closed: Promise<void>;
  private readonly metricsTimeoutMs: number;

  /** Settles when the thread says it started; rejects if it ends first. */
  private readonly started: Promise<void>;

  /**
   * Listens to `thread` from here to its end: one 'message' listener for its whole life. A start
   * that listened on its own and handed over to the host's listener lost the line the thread logged
   * right after 'started' when both came in one batch (a loaded machine: 5 runs in 12).
   */
  private constructor(
    private readonly thread: Worker,
    options: HostOptions,
    awaitStart: boolean,
  ) {
    this.metricsTimeoutMs = options.metricsTimeoutMs ?? DEFAULT_METRICS_TIMEOUT_MS;
    const logDestination = options.logDestination ?? stdoutLogDestination();
    let startedNow: () => void = () => undefined;
    let failedToStart: ((err: Error) => void) | undefined;
    this.started = awaitStart
      ? new Promise((resolve, reject) => {
          startedNow = resolve;
          failedToStart = reject;
        })
      : Promise.resolve();
    this.closed = new Promise((resolve) => thread.once('exit', () => resolve()));
    thread.on('message', (message: ThreadMessage) => {
      if (message.type === 'log') writeLines(logDestination, message.lines, options.logHandOver);
      else if (message.type === 'started') {
        failedToStart = undefined;
        startedNow();
      } else if (message.type === 'closed') {
        if (message.error) this.closeFailure = new Error(`the delivery worker did not stop cleanly: ${message.error}`);
        void thread.terminate();
      } else if (message.type === 'metrics') {
        this.pending.get(message.id)?.(message.json);
        this.pending.delete(message.id);
      }
    });
    const ended = (err: Error, beforeStart: Error): void => {
      if (this.exited) return;
      this.exited = true;
      for (const answer of this.pending.values()) answer(null);
      this.pending.clear();
      if (failedToStart) failedToStart(beforeStart);
      else if (!this.closing) options.onUnexpectedExit(err);
    };
    thread.on('error', (err) => {
      if (this.closing) this.closeFailure ??= err;
      ended(err, err);
    });
    thread.on('exit', (code) =>
      ended(
        new Error(`the delivery worker thread exited with code ${code}`),
        new Error(`the delivery worker thread exited with code ${code} before it started`),
      ),
    );
  }

  /** Starts the thread; resolves once its worker takes jobs, rejects with the thread's error if it cannot start. */
  static async start(options: DeliveryThreadOptions): Promise<DeliveryThread> {
    const logHandOver = new LogHandOver();
    const data: DeliveryThreadData = { loggerName: options.loggerName, pretty: options.pretty, logHandOver: logHandOver.buffer };
    // The thread loads TypeScript as the process does (tsx), registered in the thread itself: a
    // worker thread does not inherit the main thread's module hooks.
    const entry = join(__dirname, 'delivery-thread.ts');
    const thread = new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(entry)});`, { eval: true, workerData: data });
    return DeliveryThread.startOn(thread, { ...options, logHandOver });
  }

  /**
   * Waits for `thread` to say it started, writing the lines it logs meanwhile (a Redis it cannot
   * reach yet, the error it fails with); rejects with its error if it ends first. start() runs it on
   * the delivery thread; tests, on threads of their own.
   */
  static async startOn(thread: Worker, options: HostOptions): Promise<DeliveryThread> {
    const host = new DeliveryThread(thread, options, true);
    await host.started;
    return host;
  }

  /** Wraps a thread that has started (tests attach threads of their own). */
  static attach(thread: Worker, options: HostOptions): DeliveryThread {
    return new DeliveryThread(thread, options, false);
  }

  /**
   * The worker's metrics, as data; null when the thread has ended or did not answer within
   * `metricsTimeoutMs` (a late answer is dropped).
   */
  async metrics(): Promise<MetricsJson | null> {
    if (this.exited) return null;
    const id = this.nextId++;
    const message: HostMessage = { type: 'metrics', id };
    let timer: NodeJS.Timeout | undefined;
    const json = await new Promise<MetricsJson | null>((resolve) => {
      this.pending.set(id, resolve);
      timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(null);
      }, this.metricsTimeoutMs);
      this.thread.postMessage(message);
    });
    clearTimeout(timer);
    return json;
  }

  /**
   * Stops the worker as start:worker stops on SIGTERM (in-flight deliveries get `deadlineMs`), then
   * the thread; rejects if the worker failed while stopping.
   */
  async close(deadlineMs: number): Promise<void> {
    if (this.exited) return;
    this.closing = true;
    const message: HostMessage = { type: 'close', deadlineMs };
    this.thread.postMessage(message);
    await this.closed;
    if (this.closeFailure) throw this.closeFailure;
  }
}

/** Writes lines the thread handed over and gives their room back to it. */
function writeLines(destination: DestinationStream, lines: string, handOver: LogHandOver | undefined): void {
  destination.write(lines);
  handOver?.written(lines.length);
}
