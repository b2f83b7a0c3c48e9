import { Router, type Request } from 'express';
import { matchesAny, newId, validateEventPayload, eventTypeLabel, EVENT_TYPE_RE, type StoredEvent } from '@hookrelay/contracts';
import { enqueueEvents, type EventFanOut } from '@hookrelay/delivery';
import { z } from 'zod';
import { assertSubscriberAccess } from '../auth';
import type { ApiDeps } from '../deps';
import { AppError, fromZod, NotFoundError, ValidationError } from '../errors';

const eventInputSchema = z
  .object({
    type: z.string().min(1).max(200).regex(EVENT_TYPE_RE, 'must be dot-separated words, e.g. incident.triggered'),
    payload: z.unknown(),
    idempotencyKey: z.string().min(1).max(255).optional(),
  })
  .strict();

const batchSchema = z.object({ events: z.array(z.unknown()).min(1).max(1000) }).strict();

type EventInput = z.infer<typeof eventInputSchema>;

/** Validates one event: its shape, then its payload against the catalog schema for its type. */
function validateEvent(raw: unknown, root: (string | number)[]): EventInput {
  const parsed = eventInputSchema.safeParse(raw);
  if (!parsed.success) throw fromZod(parsed.error, root);
  if (parsed.data.payload === undefined) throw new ValidationError(`${[...root, 'payload'].join('.')}: required`, [{ path: [...root, 'payload'].join('.'), message: 'required' }]);
  const verdict = validateEventPayload(parsed.data.type, parsed.data.payload);
  if (!verdict.ok) {
    const details = verdict.issues.map((i) => ({ path: [...root, ...i.path].map(String).join('.'), message: i.message }));
    throw new ValidationError(`invalid event: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`.slice(0, 1000), details);
  }
  return parsed.data;
}

export function eventRoutes(deps: ApiDeps): Router {
  const router = Router({ mergeParams: true });
  const { store } = deps;

  async function subscriberFor(req: Request): Promise<string> {
    const sid = String(req.params.sid);
    assertSubscriberAccess(req, sid, 'publish');
    if (!(await store.subscribers.get(sid))) throw new NotFoundError('subscriber');
    return sid;
  }

  /**
   * Publishes validated events for one subscriber: idempotency keys claimed first, then every new
   * event's fan-out recorded and queued in one transaction and one addBulk. Returns, per input, the
   * event and its deliveries (the first event's, for a repeated idempotency key).
   */
  async function publish(sid: string, inputs: EventInput[]) {
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
      const results = await enqueueEvents({ store, queue: deps.queue }, fanOuts);
      const answers = new Map<string, { id: string; type: string; deliveries: Array<{ id: string; endpointId: string }> }>();
      fanOuts.forEach(({ event }, index) => {
        deps.metrics.eventsPublished.inc({ type: eventTypeLabel(event.type) });
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
  }

  async function existingAnswer(eventId: string) {
    const event = await store.events.get(eventId);
    if (!event) throw new AppError(409, 'idempotency_conflict', 'an event with this idempotency key is still being accepted; retry shortly');
    const ids = await store.events.deliveryIds(eventId);
    const deliveries = await store.deliveries.getMany(ids);
    return { id: event.id, type: event.type, deliveries: deliveries.map((d) => ({ id: d.id, endpointId: d.endpointId })) };
  }

  router.post('/', async (req, res) => {
    const sid = await subscriberFor(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const header = req.get('idempotency-key');
    const input = validateEvent(header && body && typeof body === 'object' && !('idempotencyKey' in body) ? { ...body, idempotencyKey: header } : body, []);
    const [answer] = await publish(sid, [input]);
    res.status(202).json(answer);
  });

  router.post('/batch', async (req, res) => {
    const sid = await subscriberFor(req);
    const parsed = batchSchema.safeParse(req.body);
    if (!parsed.success) throw fromZod(parsed.error);
    // All or nothing: every event is validated before any is accepted.
    const inputs = parsed.data.events.map((raw, i) => validateEvent(raw, ['events', i]));
    res.status(202).json({ events: await publish(sid, inputs) });
  });

  return router;
}
