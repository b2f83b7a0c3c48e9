import type { AdmittedJobData } from '@hookrelay/contracts';
import type { Logger } from '@hookrelay/observability';
import { DeliveryJobTransaction, waitListKey, type DeliveryQueue } from '@hookrelay/queue';
import type { AdmitOptions, AdmittedDelivery, LaneClass, LaneStore } from '@hookrelay/store';

export interface AdmissionPumpOptions extends Omit<AdmitOptions, 'laneClass' | 'waitKey'> {
  lanes: LaneStore;
  laneClass: LaneClass;
  /** The lane's queue; jobs are added on its connection. */
  queue: DeliveryQueue;
  logger: Logger;
  /** With nothing else to wake it, the pump looks again this often (a lost signal costs no more). @defaultValue 1000 */
  idleTickMs?: number;
  now?: () => number;
}

/**
 * Turns admitted deliveries of one lane into BullMQ jobs: asks the scheduler (admit.lua) for the
 * next deliveries in fair order, as many as the lane's wait list has room for, and adds their jobs
 * in one transaction with the removal of their admission leases. Runs when asked (a publisher's
 * signal, a finished job that made room), when the scheduler says something falls due (a retry, a
 * rate limit's next token), and on an idle tick; never two runs at once.
 */
export class AdmissionPump {
  private running = false;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly now: () => number;
  private readonly idleTickMs: number;
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly options: AdmissionPumpOptions) {
    this.now = options.now ?? Date.now;
    this.idleTickMs = options.idleTickMs ?? 1000;
  }

  /** Runs soon (once for many requests in one turn). */
  request(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.idle = new Promise((resolve) => setImmediate(() => void this.loop().finally(resolve)));
  }

  /** Stops asking for work; resolves once a run in progress has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.idle;
  }

  private async loop(): Promise<void> {
    let nextDueAt: number | null = null;
    try {
      do {
        this.again = false;
        const run = await this.runOnce();
        nextDueAt = run.nextDueAt;
        // A full batch may leave more behind it: look again at once.
        if (run.admitted >= this.options.max) this.again = true;
      } while (this.again && !this.stopped);
    } catch (err) {
      // Redis down or a script error: the idle tick tries again; leases put back anything half done.
      this.options.logger.warn({ err: (err as Error).message, lane: this.options.laneClass }, 'scheduler.admit_failed');
    } finally {
      this.running = false;
    }
    this.schedule(nextDueAt);
  }

  private schedule(nextDueAt: number | null): void {
    if (this.stopped) return;
    const now = this.now();
    const at = Math.min(nextDueAt ?? Number.POSITIVE_INFINITY, now + this.idleTickMs);
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.request();
      },
      Math.max(at - now, 1),
    );
    this.timer.unref();
  }

  private async runOnce(): Promise<{ admitted: number; nextDueAt: number | null }> {
    const { lanes, queue, laneClass } = this.options;
    const { admitted, nextDueAt } = await lanes.admit({ ...this.options, laneClass, waitKey: waitListKey(queue) });
    if (admitted.length > 0) {
      const transaction = await DeliveryJobTransaction.open(queue);
      transaction.addJobs(jobsOf(admitted)).zrem(lanes.leasesKey(laneClass), ...admitted.map((a) => a.jobId));
      // On a failure the leases stay and run out: those deliveries go back to the head of their lanes.
      await transaction.exec();
    }
    return { admitted: admitted.length, nextDueAt };
  }
}

/**
 * One job per endpoint's turn: admit.lua serves an endpoint's deliveries together (up to its
 * quantum), so consecutive admissions of one endpoint share a job. BullMQ's add, fetch and finish
 * then cost once per turn rather than once per delivery; each delivery keeps its own ticket.
 */
export function jobsOf(admitted: readonly AdmittedDelivery[]): Array<{ jobId: string; data: AdmittedJobData }> {
  const jobs: Array<{ jobId: string; data: AdmittedJobData }> = [];
  let current: AdmittedJobData | undefined;
  for (const a of admitted) {
    if (!current || current.endpointId !== a.endpointId) {
      current = { endpointId: a.endpointId, deliveries: [] };
      jobs.push({ jobId: a.jobId, data: current });
    }
    current.deliveries.push({ id: a.deliveryId, eventId: a.eventId, ticket: a.ticket, ...(a.manual ? { manual: true as const } : {}) });
  }
  return jobs;
}
