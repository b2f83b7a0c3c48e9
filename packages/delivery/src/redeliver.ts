import type { DeliveryRecord, Endpoint, StoredEvent } from '@hookrelay/contracts';
import { enqueueEvents, type EnqueueDeps } from './enqueue';

/**
 * Re-opens ended deliveries (failed, or delivered too when `includeDelivered`) and queues one attempt
 * each, asked for by a person. Re-opening and queueing are one atomic step per delivery
 * (reopen-delivery.lua), only from the state the caller read (same attempt count), so two
 * overlapping calls queue each delivery once and a stale read queues nothing.
 */
export async function redeliver(deps: EnqueueDeps, deliveries: readonly DeliveryRecord[], includeDelivered: boolean): Promise<string[]> {
  const from = includeDelivered ? (['failed', 'delivered'] as const) : (['failed'] as const);
  return deps.store.deliveries.reopen(deliveries, from);
}

/** Every failed delivery to an endpoint in a time window, queued again (Svix's recover). */
export async function recoverEndpoint(
  deps: EnqueueDeps,
  endpoint: Pick<Endpoint, 'id' | 'subscriberId'>,
  window: { since: number; until?: number },
): Promise<number> {
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
export async function replayEvent(
  deps: EnqueueDeps,
  event: StoredEvent,
  endpoints: readonly Pick<Endpoint, 'id'>[],
): Promise<{ created: string[]; requeued: string[] }> {
  const [results = []] = await enqueueEvents(deps, [{ event, endpoints }]);
  const created = results.filter((d) => d.created).map((d) => d.id);
  const existing = await deps.store.deliveries.getMany(results.filter((d) => !d.created).map((d) => d.id));
  const requeued = await redeliver(deps, existing, true);
  return { created, requeued };
}
