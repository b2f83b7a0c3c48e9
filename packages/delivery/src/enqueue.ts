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
  /** Where it goes: only the ids are read (a summary will do, no secret is needed). */
  endpoints: readonly Pick<Endpoint, 'id'>[];
}

export interface EnqueueOptions {
  /**
   * The events may have been enqueued before (a replay, a caller retrying): look up which pairs
   * have deliveries and queue jobs only for the others. Fresh events (a publish) skip the lookup.
   * @defaultValue false
   */
  mayExist?: boolean;
}

/** One caller's share of a transaction. */
interface Share {
  store: Store;
  items: readonly EventFanOut[];
  existing: Set<string>;
  deliveries: number;
  resolve(created: NewDelivery[][]): void;
  reject(err: unknown): void;
}

/** A transaction being gathered, per queue. */
interface Gathering {
  shares: Share[];
  deliveries: number;
}

/** A transaction stops taking more callers at this many deliveries; later ones start the next. */
const GROUP_DELIVERIES = 5000;
const gathering = new WeakMap<DeliveryQueue, Gathering>();

/**
 * Records events and one delivery per (event, endpoint), and queues a BullMQ job for each, in ONE
 * Redis transaction on the queue's connection: either all of it is there or none of it is, so an
 * accepted event can never be left recorded but unqueued (BullMQ's `Job.addJob` takes a
 * transaction, as its FlowProducer uses it).
 *
 * Calls made while the event loop is busy with other requests share that transaction (a group
 * commit, run once the loop turns): under load the per-transaction costs (ioredis builds a
 * pipeline object per MULTI, ~35 us here; MULTI/EXEC in Redis) are paid once for many publishes.
 * Each caller still resolves only once its own writes are in, and sees only its own errors.
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
  const deliveries = items.reduce((n, { endpoints }) => n + endpoints.length, 0);
  return new Promise((resolve, reject) => {
    let group = gathering.get(deps.queue);
    if (!group || group.deliveries >= GROUP_DELIVERIES) {
      const fresh: Gathering = { shares: [], deliveries: 0 };
      gathering.set(deps.queue, fresh);
      setImmediate(() => {
        if (gathering.get(deps.queue) === fresh) gathering.delete(deps.queue);
        void commit(deps.queue, fresh.shares);
      });
      group = fresh;
    }
    group.shares.push({ store: deps.store, items, existing, deliveries, resolve, reject });
    group.deliveries += deliveries;
  });
}

async function commit(queue: DeliveryQueue, shares: readonly Share[]): Promise<void> {
  try {
    const client = await queue.client;
    defineDeliveryCommands(client as never);
    const multi = (client as unknown as { multi(): ChainableCommander }).multi();
    let at = 0;
    const placed = shares.map((share) => {
      const created = share.store.deliveries.appendCreateForEvents(multi, share.items);
      const place = { share, createAt: at, jobsAt: at + created.commands, jobs: 0, read: created.read };
      // The ids computed for the records serve the jobs too (a SHA-256 each).
      for (const deliveries of created.planned) {
        for (const { id, eventId, endpointId } of deliveries) {
          if (share.existing.has(id)) continue;
          const data: DeliveryJobData = { eventId, endpointId };
          const spec = deliveryJob(data, { jobId: id });
          const job = new Job<DeliveryJobData>(queue, spec.name, data, spec.opts, spec.opts.jobId);
          // A delivery not attempted yet reads its creation time from its job: the time its log entries carry.
          job.timestamp = created.createdAt;
          // addJob queues its script on the transaction synchronously; its promise settles with the exec.
          void job.addJob(multi as never).catch(() => undefined);
          place.jobs++;
        }
      }
      at = place.jobsAt + place.jobs;
      return place;
    });
    const results = (await multi.exec()) as Array<[Error | null, unknown]> | null;
    if (!results) throw new Error('enqueue transaction aborted');
    for (const { share, createAt, jobsAt, jobs, read } of placed) {
      try {
        for (const [err] of results.slice(jobsAt, jobsAt + jobs)) if (err) throw err;
        share.resolve(read(results.slice(createAt)));
      } catch (err) {
        share.reject(err);
      }
    }
  } catch (err) {
    for (const share of shares) share.reject(err);
  }
}

async function existingDeliveries(store: Store, items: readonly EventFanOut[]): Promise<Set<string>> {
  const ids = items.flatMap(({ event, endpoints }) => endpoints.map((e) => deliveryId(event.id, e.id)));
  const found = await store.deliveries.getMany(ids);
  return new Set(found.map((d) => d.id));
}

/** The library entry point for one (event, endpoint) pair; safe to call twice for the same pair. */
export async function enqueueDelivery(deps: EnqueueDeps, event: StoredEvent, endpoint: Pick<Endpoint, 'id'>): Promise<NewDelivery> {
  const [[delivery] = []] = await enqueueEvents(deps, [{ event, endpoints: [endpoint] }], { mayExist: true });
  if (!delivery) throw new Error('enqueueEvents returned no delivery');
  return delivery;
}
