import { matchesAny, newId, type StoredEvent } from '@hookrelay/contracts';
import { enqueueEvents, type EventFanOut } from '@hookrelay/delivery';
import type { ApiDeps } from './deps';
import { AppError } from './errors';

/** An event ready to publish: its type and payload already validated by the caller. */
export interface EventInput {
  type: string;
  payload?: unknown;
  idempotencyKey?: string;
}

export interface PublishedEvent {
  id: string;
  type: string;
  deliveries: Array<{ id: string; endpointId: string }>;
}

export type Publish = (sid: string, inputs: EventInput[]) => Promise<PublishedEvent[]>;

/**
 * The one publish path, shared by `POST /events` and inbound sources: idempotency keys claimed
 * first, then every new event's fan-out recorded and scheduled in one transaction.
 * Resolves only once the events are durably recorded and queued. Returns, per input, the event and
 * its deliveries (the first event's, for a repeated idempotency key).
 */
export function createPublisher(deps: Pick<ApiDeps, 'store' | 'metrics' | 'now' | 'catalog'>): Publish {
  const { store } = deps;

  async function existingAnswer(eventId: string): Promise<PublishedEvent> {
    const event = await store.events.get(eventId);
    if (!event) throw new AppError(409, 'idempotency_conflict', 'an event with this idempotency key is still being accepted; retry shortly');
    const deliveries = await store.history.deliveriesOfEvent(event);
    return { id: event.id, type: event.type, deliveries: deliveries.map((d) => ({ id: d.id, endpointId: d.endpointId })) };
  }

  return async function publish(sid, inputs) {
    const now = deps.now();
    const endpoints = (await store.endpoints.listAll(sid)).filter((e) => e.status === 'active');
    const drafts = inputs.map((input) => ({ input, event: { id: newId('evt', now), subscriberId: sid, type: input.type, payload: JSON.stringify(input.payload), createdAt: now } as StoredEvent }));
    // A key repeated inside one batch names the first event that carries it.
    const firstWithKey = new Map<string, StoredEvent>();
    const holders = await Promise.all(
      drafts.map(async ({ input, event }) => {
        if (!input.idempotencyKey) return null;
        const earlier = firstWithKey.get(input.idempotencyKey);
        if (earlier) return earlier.id;
        firstWithKey.set(input.idempotencyKey, event);
        return store.idempotency.claim(sid, input.idempotencyKey, event.id);
      }),
    );
    const claimed = drafts.filter((_, i) => holders[i] === null);
    const repeatOf = new Map(drafts.map((d, i) => [d, holders[i]] as const));
    const fanOuts: EventFanOut[] = claimed.map(({ event }) => ({ event, endpoints: endpoints.filter((e) => matchesAny(e.eventTypes, event.type)) }));
    try {
      const results = await enqueueEvents({ store }, fanOuts);
      const answers = new Map<string, PublishedEvent>();
      fanOuts.forEach(({ event }, index) => {
        deps.metrics.eventsPublished.inc({ type: deps.catalog.labelOf(event.type) });
        answers.set(event.id, { id: event.id, type: event.type, deliveries: (results[index] ?? []).map((d) => ({ id: d.id, endpointId: d.endpointId })) });
      });
      return Promise.all(
        drafts.map(async (draft) => {
          const holder = repeatOf.get(draft) ?? null;
          return answers.get(holder ?? draft.event.id) ?? existingAnswer(holder ?? draft.event.id);
        }),
      );
    } catch (err) {
      // Nothing was accepted: let the client retry with the same idempotency keys.
      await Promise.all(claimed.filter((c) => c.input.idempotencyKey).map((c) => store.idempotency.release(sid, c.input.idempotencyKey as string, c.event.id).catch(() => undefined)));
      throw err;
    }
  };
}
