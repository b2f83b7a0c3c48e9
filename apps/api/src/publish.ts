import { createHash } from 'node:crypto';
import { matchesAny, newId, type StoredEvent } from '@hookrelay/contracts';
import { publishEvents, type EventFanOut } from '@hookrelay/delivery';
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
  /** True when an idempotency key named an earlier event of the same request: nothing was written. Not part of the JSON answer. */
  replayed?: boolean;
}

export type Publish = (sid: string, inputs: EventInput[], opts?: { fieldOf?: (index: number) => string }) => Promise<PublishedEvent[]>;

/** JSON with every object's keys sorted, so two encodings of one value give one text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * What an idempotency key is stored with: the SHA-256 of the request it came with (type and
 * payload, key order aside), so a reuse with another request is told from a repeat (Stripe's rule,
 * and the IETF Idempotency-Key draft's 422).
 */
export function requestDigest(input: Pick<EventInput, 'type' | 'payload'>): string {
  return createHash('sha256')
    .update(canonicalJson([input.type, input.payload ?? null]))
    .digest('base64url');
}

/**
 * The one publish path, shared by `POST /events` and inbound sources: every new event's fan-out
 * recorded and scheduled, with its idempotency key, in one transaction (create-event.lua), and the
 * request's events all or none. Resolves only once the events are durably recorded and queued.
 * Returns, per input, the event and its deliveries; for a key seen before with the same request,
 * the first event's (`replayed`); a key seen with another request is a 422 and nothing is written.
 */
export function createPublisher(deps: Pick<ApiDeps, 'store' | 'metrics' | 'now' | 'catalog'>): Publish {
  const { store } = deps;

  async function earlierAnswer(eventId: string): Promise<PublishedEvent> {
    const event = await store.events.get(eventId);
    // The key is written with its event and expires no later: a key without its event cannot be.
    if (!event) throw new Error(`idempotency key names ${eventId}, which does not exist`);
    const deliveries = await store.history.deliveriesOfEvent(event);
    return { id: event.id, type: event.type, deliveries: deliveries.map((d) => ({ id: d.id, endpointId: d.endpointId })), replayed: true };
  }

  return async function publish(sid, inputs, opts = {}) {
    const now = deps.now();
    const endpoints = (await store.endpoints.listAll(sid)).filter((e) => e.status === 'active');
    const fanOuts: EventFanOut[] = inputs.map((input) => {
      const event: StoredEvent = {
        id: newId('evt', now),
        subscriberId: sid,
        type: input.type,
        payload: JSON.stringify(input.payload),
        createdAt: now,
      };
      return {
        event,
        endpoints: endpoints.filter((e) => matchesAny(e.eventTypes, event.type)),
        ...(input.idempotencyKey
          ? { idempotency: { key: store.idempotency.keyOf(sid, input.idempotencyKey), digest: requestDigest(input) } }
          : {}),
      };
    });
    const written = await publishEvents({ store }, fanOuts);
    const reused = written.findIndex((w) => w.kind === 'reused');
    if (reused >= 0) {
      const field = opts.fieldOf?.(reused) ?? (inputs.length === 1 ? 'idempotencyKey' : `events.${reused}.idempotencyKey`);
      const message =
        'this idempotency key was used with a different request (type and payload) within the last 24 hours; use a new key for a new event';
      throw new AppError(422, 'idempotency_key_reused', `${field}: ${message}`, [{ path: field, message }]);
    }
    const answers = new Map<string, PublishedEvent>();
    written.forEach((w, i) => {
      const { event } = fanOuts[i] as EventFanOut;
      if (w.kind !== 'new') return;
      deps.metrics.eventsPublished.inc({ type: deps.catalog.labelOf(event.type) });
      answers.set(event.id, {
        id: event.id,
        type: event.type,
        deliveries: w.deliveries.map((d) => ({ id: d.id, endpointId: d.endpointId })),
      });
    });
    return Promise.all(
      written.map(async (w, i): Promise<PublishedEvent> => {
        if (w.kind === 'new') return answers.get((fanOuts[i] as EventFanOut).event.id) as PublishedEvent;
        if (w.kind !== 'repeat') throw new Error(`event ${i} was ${w.kind} without a reused key in its request`);
        // A key repeated inside this request names its first event, written just now.
        const first = answers.get(w.eventId);
        return first ? { ...first, replayed: true } : earlierAnswer(w.eventId);
      }),
    );
  };
}
