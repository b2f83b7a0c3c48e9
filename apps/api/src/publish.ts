import {
  FanOutLimitError,
  MAX_PAYLOAD_BYTES,
  PayloadTooLargeError,
  RoutingLimitError,
  StoredBytesError,
  type EventInput,
  type PublishOptions,
} from '@hookrelay/publishing';
import { deliveryId } from '@hookrelay/contracts';
import type { ApiDeps } from './deps';
import { AppError, StoredBytesRefusal } from './errors';

export type { EventInput };

export interface PublishedEvent {
  id: string;
  type: string;
  deliveries: Array<{ id: string; endpointId: string }>;
  /** True when an idempotency key named an earlier event of the same request: nothing was written. Not part of the JSON answer. */
  replayed?: boolean;
}

/**
 * Deliveries one batch publish may create by default (HOOKRELAY_MAX_BATCH_DELIVERIES). A request's
 * events are one Redis transaction, which Redis runs alone: here 5,000 deliveries held every other
 * caller ~0.1 s, and 100,000 (a batch of 1,000 to 100 endpoints) ~2 s, past the API's 2 s Redis
 * timeout, so the batch was written and still answered 503.
 */
export const DEFAULT_MAX_BATCH_DELIVERIES = 5000;

export type Publish = (
  sid: string,
  inputs: EventInput[],
  /** `maxDeliveries` over: 413 batch_too_large naming `events`, nothing written (PublishOptions). */
  opts?: PublishOptions & {
    /** Where input `index` is in the request (`events.3`), for the errors that name its fields. @defaultValue none for a single input, else `events.<index>` */
    itemPath?: (index: number) => string;
  },
) => Promise<PublishedEvent[]>;

/**
 * The one publish path, shared by `POST /events` and inbound sources: every new event's fan-out
 * recorded and scheduled, with its idempotency key, in one transaction (create-event.lua), and the
 * request's events all or none. Resolves only once the events are durably recorded and queued.
 * Returns, per input, the event and its deliveries; for a key seen before with the same request,
 * the first event's (`replayed`); a key seen with another request is a 422 and nothing is written.
 */
export function createPublisher(deps: Pick<ApiDeps, 'store' | 'publisher' | 'metrics' | 'catalog'>): Publish {
  const { store } = deps;

  /**
   * The answer of the earlier publish a key repeats, for a key written before the endpoints
   * were kept beside keys (create-event.lua): looked up in the history, once per event in a request.
   */
  async function earlierAnswer(eventId: string): Promise<PublishedEvent> {
    const event = await store.events.get(eventId);
    // The key is written with its event and expires no later: a key without its event cannot be.
    if (!event) throw new Error(`idempotency key names ${eventId}, which does not exist`);
    const deliveries = await store.history.deliveriesOfEvent(event);
    return { id: event.id, type: event.type, deliveries: deliveries.map((d) => ({ id: d.id, endpointId: d.endpointId })), replayed: true };
  }

  return async function publish(sid, inputs, opts = {}) {
    const fieldOf = (index: number, field: string): string => {
      const item = opts.itemPath?.(index) ?? (inputs.length === 1 ? undefined : `events.${index}`);
      return item === undefined ? field : `${item}.${field}`;
    };
    const published = await deps.publisher.publish(sid, inputs, opts).catch((err: unknown) => {
      if (err instanceof PayloadTooLargeError) {
        const field = fieldOf(err.index, 'payload');
        const message = `is ${err.bytes} bytes as JSON; at most ${MAX_PAYLOAD_BYTES}`;
        throw new AppError(413, 'payload_too_large', `${field}: ${message}`, [{ path: field, message }]);
      }
      if (err instanceof StoredBytesError) throw new StoredBytesRefusal(err);
      if (err instanceof RoutingLimitError) {
        const message = `matching this batch's event types against the subscriber's endpoint filters (eventTypes) took too long by its event ${err.routed}: send fewer distinct event types per batch, or simplify the endpoints' eventTypes`;
        throw new AppError(413, 'batch_too_large', `events: ${message}`, [{ path: 'events', message }]);
      }
      if (!(err instanceof FanOutLimitError)) throw err;
      const message = `this batch would create ${err.deliveries} deliveries (its ${inputs.length} events to their subscribed endpoints); one batch may create at most ${err.limit} (HOOKRELAY_MAX_BATCH_DELIVERIES): send fewer events per batch`;
      throw new AppError(413, 'batch_too_large', `events: ${message}`, [{ path: 'events', message }]);
    });
    const reused = published.findIndex((p) => p.write.kind === 'reused');
    if (reused >= 0) {
      const field = fieldOf(reused, 'idempotencyKey');
      const message =
        'this idempotency key was used with a different request (type and payload) within the last 24 hours; use a new key for a new event';
      throw new AppError(422, 'idempotency_key_reused', `${field}: ${message}`, [{ path: field, message }]);
    }
    const answers = new Map<string, PublishedEvent>();
    for (const { event, write } of published) {
      if (write.kind !== 'new') continue;
      deps.metrics.eventsPublished.inc({ type: deps.catalog.labelOf(event.type) });
      answers.set(event.id, {
        id: event.id,
        type: event.type,
        deliveries: write.deliveries.map((d) => ({ id: d.id, endpointId: d.endpointId })),
      });
    }
    const lookedUp = new Map<string, Promise<PublishedEvent>>();
    return Promise.all(
      published.map(async ({ event, write }, i): Promise<PublishedEvent> => {
        if (write.kind === 'new') return answers.get(event.id) as PublishedEvent;
        if (write.kind !== 'repeat') throw new Error(`event ${i} was ${write.kind} without a reused key in its request`);
        // A key repeated inside this request names its first event, written just now.
        const first = answers.get(write.eventId);
        if (first) return { ...first, replayed: true };
        // The endpoints its publish created deliveries for, kept beside the key; its request (so its
        // type) is this one.
        const endpointIds = write.endpointIds;
        if (endpointIds) {
          const deliveries = endpointIds.map((endpointId) => ({ id: deliveryId(write.eventId, endpointId), endpointId }));
          return { id: write.eventId, type: event.type, deliveries, replayed: true };
        }
        let answer = lookedUp.get(write.eventId);
        if (!answer) lookedUp.set(write.eventId, (answer = earlierAnswer(write.eventId)));
        return answer;
      }),
    );
  };
}
