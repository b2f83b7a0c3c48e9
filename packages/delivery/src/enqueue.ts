import { Job } from 'bullmq';
import type { ChainableCommander } from 'ioredis';
import { deliveryId, type DeliveryJobData, type Endpoint, type StoredEvent } from '@hookrelay/contracts';
import { deliveryJob, type DeliveryQueue } from '@hookrelay/queue';
import { defineDeliveryCommands, type NewDelivery, type Store } from '@hookrelay/store';

export interface EnqueueDeps {
  store: Store;
  queue: DeliveryQueue;
}

export interface EventFanOut {
  event: StoredEvent;
  endpoints: readonly Endpoint[];
}

/**
 * Records events and one delivery per (event, endpoint), and queues a BullMQ job for each, in ONE
 * Redis transaction on the queue's connection: either all of it is there or none of it is, so an
 * accepted event can never be left recorded but unqueued (BullMQ's `Job.addJob` takes a
 * transaction, as its FlowProducer uses it).
 *
 * A pair (event, endpoint) seen before is not recorded again, and its job id is the delivery id:
 * BullMQ ignores the add while the first job lives, and once it has finished the processor skips
 * a delivery that already ended. So enqueueing a pair twice delivers once.
 */
export async function enqueueEvents(deps: EnqueueDeps, items: readonly EventFanOut[], opts: EnqueueOptions = {}): Promise<NewDelivery[][]> {
  if (items.length === 0) return [];
  // For events that may have been enqueued before, no job is added for a pair that has a delivery
  // already: a replay re-opens those itself, and a second job could race its manual attempt.
  const existing = opts.mayExist ? await existingDeliveries(deps.store, items) : new Set<string>();
  const client = await deps.queue.client;
  defineDeliveryCommands(client as never);
  const multi = (client as unknown as { multi(): ChainableCommander }).multi();
  const { commands: jobsAt, createdAt, read } = deps.store.deliveries.appendCreateForEvents(multi, items);
  let jobs = 0;
  for (const { event, endpoints } of items) {
    for (const endpoint of endpoints) {
      const id = deliveryId(event.id, endpoint.id);
      if (existing.has(id)) continue;
      const data: DeliveryJobData = { eventId: event.id, endpointId: endpoint.id };
      const spec = deliveryJob(data);
      const job = new Job<DeliveryJobData>(deps.queue, spec.name, data, spec.opts, spec.opts.jobId);
      // A delivery not attempted yet reads its creation time from its job: the time its log entries carry.
      job.timestamp = createdAt;
      // addJob queues its script on the transaction synchronously; its promise settles with the exec.
      void job.addJob(multi as never).catch(() => undefined);
      jobs++;
    }
  }
  const results = (await multi.exec()) as Array<[Error | null, unknown]> | null;
  if (!results) throw new Error('enqueue transaction aborted');
  for (const [err] of results.slice(jobsAt, jobsAt + jobs)) if (err) throw err;
  return read(results);
}

export interface EnqueueOptions {
  /**
   * The events may have been enqueued before (a replay, a caller retrying): look up which pairs
   * have deliveries and queue jobs only for the others. Fresh events (a publish) skip the lookup.
   * @defaultValue false
   */
  mayExist?: boolean;
}

async function existingDeliveries(store: Store, items: readonly EventFanOut[]): Promise<Set<string>> {
  const ids = items.flatMap(({ event, endpoints }) => endpoints.map((e) => deliveryId(event.id, e.id)));
  const found = await store.deliveries.getMany(ids);
  return new Set(found.map((d) => d.id));
}

/** The library entry point for one (event, endpoint) pair; safe to call twice for the same pair. */
export async function enqueueDelivery(deps: EnqueueDeps, event: StoredEvent, endpoint: Endpoint): Promise<NewDelivery> {
  const [[delivery] = []] = await enqueueEvents(deps, [{ event, endpoints: [endpoint] }], { mayExist: true });
  if (!delivery) throw new Error('enqueueEvents returned no delivery');
  return delivery;
}
