import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { DeliveryJobData } from '@hookrelay/contracts';

/**
 * One BullMQ queue per lane: the fast lane's keeps the name deliveries always had (jobs queued by
 * earlier versions are found there), the slow lane's takes endpoints whose recent attempts were
 * slow, with a worker concurrency of its own (docs/delivery-scheduling.md).
 */
export const DELIVERY_QUEUE_NAMES = Object.freeze({ fast: 'deliveries', slow: 'deliveries-slow' });
export type DeliveryLane = keyof typeof DELIVERY_QUEUE_NAMES;
export const DELIVERY_QUEUE_NAME = DELIVERY_QUEUE_NAMES.fast;
/** Name of the custom backoff strategy the delivery worker registers. */
export const DELIVERY_BACKOFF = 'hookrelay';

/**
 * A job is one attempt of each delivery in it; the deliveries' retries are the scheduler's (its due
 * set), not BullMQ's.
 * BullMQ retries a job only when the processor throws outside an attempt (Redis unreachable), so
 * its attempt budget is a backstop against a runaway loop.
 */
export const JOB_ATTEMPT_CEILING = 1000;

/** BullMQ's key prefix for a deployment: under the store prefix so both share a cluster hash tag. */
export function bullPrefix(keyPrefix: string): string {
  return `${keyPrefix}:bull`;
}

export const DELIVERY_JOB_OPTIONS: Readonly<JobsOptions> = Object.freeze({
  attempts: JOB_ATTEMPT_CEILING,
  backoff: { type: DELIVERY_BACKOFF },
});

/**
 * Retention of finished jobs, set on the worker rather than on each job (options on a job are
 * stored with it). The attempt records are the history; a completed job is removed at once, failed
 * ones (the processor threw a thousand times) are kept for a day (at most 1000) for inspection.
 */
export const DELIVERY_JOB_RETENTION = Object.freeze({ removeOnComplete: { count: 0 }, removeOnFail: { count: 1000, age: 24 * 3600 } });

export interface DeliveryQueueOptions {
  connection: ConnectionOptions;
  /** @defaultValue 'hookrelay' */
  keyPrefix?: string;
  /** @defaultValue 'fast' */
  lane?: DeliveryLane;
}

export type DeliveryQueue = Queue<DeliveryJobData>;

export function createDeliveryQueue(options: DeliveryQueueOptions): DeliveryQueue {
  return new Queue<DeliveryJobData>(DELIVERY_QUEUE_NAMES[options.lane ?? 'fast'], {
    connection: options.connection,
    prefix: bullPrefix(options.keyPrefix ?? 'hookrelay'),
    defaultJobOptions: DELIVERY_JOB_OPTIONS,
  });
}

/** The list of a queue's jobs waiting for a worker: the scheduler keeps it short. */
export function waitListKey(queue: DeliveryQueue): string {
  const key = queue.keys.wait;
  if (!key) throw new Error(`queue ${queue.name} has no wait list key`);
  return key;
}
