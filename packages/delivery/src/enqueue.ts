import type { Endpoint, StoredEvent } from '@hookrelay/contracts';
import { deliveryJob, type DeliveryQueue } from '@hookrelay/queue';
import type { NewDelivery, Store } from '@hookrelay/store';

export interface EnqueueDeps {
  store: Store;
  queue: DeliveryQueue;
}

export interface EventFanOut {
  event: StoredEvent;
  endpoints: readonly Endpoint[];
}

/**
 * Records events and one delivery per (event, endpoint), then queues a job for each new delivery.
 * Records are written first, in one transaction, with each delivery in the outbox; the outbox entry
 * is cleared only once BullMQ holds the job. If the process dies in between, the worker's outbox
 * sweeper queues what is left, so an accepted event is never stranded.
 * A pair (event, endpoint) seen before is neither recorded nor queued again.
 */
export async function enqueueEvents(deps: EnqueueDeps, items: readonly EventFanOut[]): Promise<NewDelivery[][]> {
  const results = await deps.store.deliveries.createForEvents(items);
  const jobs = results.flatMap((deliveries, i) => {
    const event = (items[i] as EventFanOut).event;
    return deliveries
      .filter((d) => d.created)
      .map((d) => deliveryJob({ deliveryId: d.id, eventId: event.id, endpointId: d.endpointId }));
  });
  if (jobs.length > 0) {
    await deps.queue.addBulk(jobs);
    await deps.store.deliveries.clearOutbox(jobs.map((j) => j.data.deliveryId));
  }
  return results;
}

/** The library entry point for one (event, endpoint) pair. */
export async function enqueueDelivery(deps: EnqueueDeps, event: StoredEvent, endpoint: Endpoint): Promise<NewDelivery> {
  const [[delivery] = []] = await enqueueEvents(deps, [{ event, endpoints: [endpoint] }]);
  if (!delivery) throw new Error('enqueueEvents returned no delivery');
  return delivery;
}
