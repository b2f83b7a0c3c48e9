import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { deliveryId, type DeliveryJobData } from '@hookrelay/contracts';

export const DELIVERY_QUEUE_NAME = 'deliveries';
/** Name of the custom backoff strategy the delivery worker registers. */
export const DELIVERY_BACKOFF = 'hookrelay';

/**
 * The worker, not BullMQ, decides when a delivery has run out of retries (it reads the endpoint's
 * current policy), so BullMQ's own attempt budget is only a backstop against a runaway loop.
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
 * stored with it, ~60 bytes a pending delivery). The attempt records are the history; a completed
 * job is removed at once, failed ones are kept for a day (at most 1000) for inspection.
 */
export const DELIVERY_JOB_RETENTION = Object.freeze({ removeOnComplete: { count: 0 }, removeOnFail: { count: 1000, age: 24 * 3600 } });

export interface DeliveryQueueOptions {
  connection: ConnectionOptions;
  /** @defaultValue 'hookrelay' */
  keyPrefix?: string;
}

export type DeliveryQueue = Queue<DeliveryJobData>;

export function createDeliveryQueue(options: DeliveryQueueOptions): DeliveryQueue {
  return new Queue<DeliveryJobData>(DELIVERY_QUEUE_NAME, {
    connection: options.connection,
    prefix: bullPrefix(options.keyPrefix ?? 'hookrelay'),
    defaultJobOptions: DELIVERY_JOB_OPTIONS,
  });
}

/** One job per delivery; the job id is the delivery id, so BullMQ refuses a second copy while the first lives. */
export function deliveryJob(data: DeliveryJobData, opts: JobsOptions = {}) {
  return { name: 'deliver', data, opts: { ...DELIVERY_JOB_OPTIONS, ...opts, jobId: opts.jobId ?? deliveryIdOf(data) } };
}

/** The delivery a job is for. */
export function deliveryIdOf(data: DeliveryJobData): string {
  return data.deliveryId ?? deliveryId(data.eventId, data.endpointId);
}
