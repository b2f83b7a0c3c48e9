import { Worker, type ConnectionOptions } from 'bullmq';
import type { DeliveryJobData } from '@hookrelay/contracts';
import { bullPrefix, DELIVERY_JOB_RETENTION, DELIVERY_QUEUE_NAMES, type DeliveryLane } from './delivery-queue';

/** A delivery job as its processor reads it. */
export interface DeliveryJob {
  id?: string;
  data: DeliveryJobData;
  /** When the job was added, epoch ms. */
  timestamp: number;
  /** Times the processor threw on this job before. */
  attemptsMade: number;
}

/** The BullMQ worker of one lane's queue. */
export type DeliveryJobWorker = Worker<DeliveryJobData>;

export interface DeliveryJobWorkerOptions {
  connection: ConnectionOptions;
  /** @defaultValue 'hookrelay' */
  keyPrefix?: string;
  lane: DeliveryLane;
  /** Jobs run at once. */
  concurrency: number;
  /** A job whose worker stops renewing its lock for this long is given to another worker. @defaultValue 30000 */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for. @defaultValue 30000 */
  stalledIntervalMs?: number;
}

/** A job that throws (outside an attempt: Redis unreachable) runs again after 5 s. */
const JOB_RETRY_DELAY_MS = 5000;

/**
 * The worker that runs one lane's delivery jobs through `run`. A job that throws runs again after
 * JOB_RETRY_DELAY_MS (the deliveries' own retries are the scheduler's); finished jobs are kept as
 * DELIVERY_JOB_RETENTION says.
 */
export function createDeliveryJobWorker(run: (job: DeliveryJob) => Promise<void>, options: DeliveryJobWorkerOptions): DeliveryJobWorker {
  return new Worker<DeliveryJobData>(DELIVERY_QUEUE_NAMES[options.lane], run, {
    connection: options.connection,
    prefix: bullPrefix(options.keyPrefix ?? 'hookrelay'),
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    // A job whose worker died is handed out again; only a job that kills workers over and over
    // (twenty times) is given up on, so a crash-looping deployment does not lose deliveries.
    maxStalledCount: 20,
    ...DELIVERY_JOB_RETENTION,
    settings: { backoffStrategy: () => JOB_RETRY_DELAY_MS },
  });
}
