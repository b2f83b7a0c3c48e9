import { Job, type IRedisTransaction } from 'bullmq';
import type { DeliveryJobData } from '@hookrelay/contracts';
import { DELIVERY_JOB_OPTIONS, type DeliveryQueue } from './delivery-queue';

/**
 * One MULTI on a lane queue's own connection (BullMQ's scripts are loaded there) holding delivery
 * jobs and the caller's own writes: the jobs exist exactly when the rest ran. The admission pump
 * adds the jobs it admitted and removes their admission leases in one.
 *
 * BullMQ's transaction type (what `Job.addJob` takes, as its FlowProducer uses it) is kept in here:
 * callers see only the operations they need.
 */
export class DeliveryJobTransaction {
  private constructor(
    private readonly queue: DeliveryQueue,
    private readonly multi: IRedisTransaction,
  ) {}

  static async open(queue: DeliveryQueue): Promise<DeliveryJobTransaction> {
    return new DeliveryJobTransaction(queue, (await queue.client).multi());
  }

  /** One job per entry (job id as given, so an id that exists already is not added again). */
  addJobs(jobs: ReadonlyArray<{ jobId: string; data: DeliveryJobData }>): this {
    for (const { jobId, data } of jobs) {
      const job = new Job<DeliveryJobData>(this.queue, 'deliver', data, { ...DELIVERY_JOB_OPTIONS, jobId }, jobId);
      // addJob queues its script on the transaction synchronously; its promise settles with the exec.
      void job.addJob(this.multi).catch(() => undefined);
    }
    return this;
  }

  /** Removes members from a sorted set of the caller's, in the same transaction. */
  zrem(key: string, ...members: string[]): this {
    this.multi.runCommand('zrem', [key, ...members]);
    return this;
  }

  /** Runs everything; throws the first command's error, or when the transaction was aborted. */
  async exec(): Promise<void> {
    const results = await this.multi.exec();
    if (!results) throw new Error('delivery job transaction aborted');
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0];
  }
}
