import { QueueKeys } from 'bullmq';
import { deliveryId, type EarlierVersionJobData } from '@hookrelay/contracts';
import { bullPrefix, DELIVERY_QUEUE_NAMES } from './delivery-queue';

/**
 * The job hash fields a queued delivery is read from: BullMQ's names for the job's data (JSON) and
 * the time it was added (epoch ms). bullmq-facts.int.test.ts pins them against the installed BullMQ.
 */
const JOB_FIELDS = ['data', 'timestamp'] as const;

/** A delivery queued as a job by a version before the scheduler, as its job names it. */
export interface QueuedDelivery {
  id: string;
  eventId: string;
  endpointId: string;
  /** When the job was added, epoch ms. */
  createdAt: number;
}

/**
 * Deliveries that versions before the scheduler queued as BullMQ jobs (one delivery each, job id =
 * delivery id, the fast lane's queue): such a delivery has no record and no scheduler entry until a
 * worker takes it over, so the store looks for its job to tell that it exists. The store reads the
 * job in its own scripts; the job's key and hash fields are computed here, so no other package
 * knows BullMQ's key layout.
 */
export class QueuedDeliveries {
  private readonly keys: QueueKeys;

  /** @param keyPrefix - the deployment's key prefix, as given to `createDeliveryQueue`. */
  constructor(keyPrefix: string) {
    this.keys = new QueueKeys(bullPrefix(keyPrefix));
  }

  /** The Redis key of the job that would hold the delivery (BullMQ's own layout, from its QueueKeys). */
  jobKey(id: string): string {
    return this.keys.toKey(DELIVERY_QUEUE_NAMES.fast, id);
  }

  /** The job's hash fields `parse` reads, in its order (the store reads them in read-deliveries.lua). */
  readonly fields: readonly string[] = JOB_FIELDS;

  /** The delivery from the job's `fields`, as read, or null when it has no job. */
  parse(id: string, reply: unknown): QueuedDelivery | null {
    const [data, timestamp] = (Array.isArray(reply) ? reply : []) as Array<string | null>;
    if (!data) return null;
    const job = JSON.parse(data) as EarlierVersionJobData;
    return { id, eventId: job.eventId, endpointId: job.endpointId, createdAt: Number(timestamp) };
  }
}

/** The delivery a job of an earlier version is for. */
export function deliveryIdOf(data: EarlierVersionJobData): string {
  return data.deliveryId ?? deliveryId(data.eventId, data.endpointId);
}
