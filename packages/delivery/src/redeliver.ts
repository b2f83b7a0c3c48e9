import type { DeliveryRecord, Endpoint, StoredEvent } from '@hookrelay/contracts';
import { deliveryJob } from '@hookrelay/queue';
import { enqueueEvents, type EnqueueDeps } from './enqueue';

/**
 * A job for one more attempt of a delivery that had ended, asked for by a person. The job id names
 * the attempt it will be, so a second identical request while the first is queued adds nothing.
 */
function manualJob(delivery: Pick<DeliveryRecord, 'id' | 'eventId' | 'endpointId' | 'attempts'>) {
  return deliveryJob(
    { eventId: delivery.eventId, endpointId: delivery.endpointId, manual: true },
    { jobId: `${delivery.id}-m${delivery.attempts + 1}` },
  );
}

/**
 * Re-opens ended deliveries (failed, or delivered too when `includeDelivered`) and queues one attempt
 * each. Re-opening is atomic per delivery and only from the state the caller read (same attempt
 * count), so two overlapping calls queue each delivery once and a stale read queues nothing.
 */
export async function redeliver(deps: EnqueueDeps, deliveries: readonly DeliveryRecord[], includeDelivered: boolean): Promise<string[]> {
  const from = includeDelivered ? (['failed', 'delivered'] as const) : (['failed'] as const);
  const moved = new Set(await deps.store.deliveries.reopen(deliveries, from));
  const reopened = deliveries.filter((d) => moved.has(d.id));
  if (reopened.length > 0) await deps.queue.addBulk(reopened.map(manualJob));
  return reopened.map((d) => d.id);
}

/** Every failed delivery to an endpoint in a time window, queued again (Svix's recover). */
export async function recoverEndpoint(deps: EnqueueDeps, endpoint: Pick<Endpoint, 'id' | 'subscriberId'>, window: { since: number; until?: number }): Promise<number> {
  const failed: DeliveryRecord[] = [];
  let cursor: string | undefined;
  // Bounded: at most 50 pages of 1000 per call; a larger backlog is recovered by calling again.
  for (let page = 0; page < 50; page++) {
    const result = await deps.store.history.listDeliveries(endpoint.subscriberId, {
      endpointId: endpoint.id,
      status: 'failed',
      since: window.since,
      until: window.until,
      cursor,
      limit: 1000,
    });
    failed.push(...result.items);
    if (!result.nextCursor) break;
    cursor = result.nextCursor;
  }
  return (await redeliver(deps, failed, false)).length;
}

/**
 * Delivers an event again to the given endpoints: a new delivery for an endpoint that never had
 * one (say, created after the event), one more attempt for an ended one; in-flight ones are left.
 */
export async function replayEvent(deps: EnqueueDeps, event: StoredEvent, endpoints: readonly Pick<Endpoint, 'id'>[]): Promise<{ created: string[]; requeued: string[] }> {
  const [results = []] = await enqueueEvents(deps, [{ event, endpoints }], { mayExist: true });
  const created = results.filter((d) => d.created).map((d) => d.id);
  const existing = await deps.store.deliveries.getMany(results.filter((d) => !d.created).map((d) => d.id));
  const requeued = await redeliver(deps, existing, true);
  return { created, requeued };
}
