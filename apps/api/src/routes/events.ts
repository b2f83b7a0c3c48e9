import { Router, type Request } from 'express';
import { validateEventPayload, EVENT_TYPE_RE, OPERATIONAL_EVENTS } from '@hookrelay/contracts';
import { z } from 'zod';
import { subscriberOf } from '../subscriber-access';
import type { ApiDeps } from '../deps';
import { fromZod, ValidationError } from '../errors';
import { bodyIsShallow, MAX_JSON_DEPTH, nestsDeeperThan, tooDeepError } from '../json-depth';
import { createPublisher } from '../publish';
import { admitEvents } from '../subscriber-limits';

const eventInputSchema = z
  .object({
    type: z.string().min(1).max(200).regex(EVENT_TYPE_RE, 'must be dot-separated words, e.g. incident.triggered'),
    payload: z.unknown(),
    idempotencyKey: z.string().min(1).max(255).optional(),
  })
  .strict();

const batchSchema = z.object({ events: z.array(z.unknown()).min(1).max(1000) }).strict();

type EventInput = z.infer<typeof eventInputSchema>;

/**
 * Validates one event: its shape, its payload's nesting (unless the whole body is known to be
 * shallow enough), then its payload against the catalog schema for its type.
 */
function validateEvent(raw: unknown, root: (string | number)[], shallow: boolean): EventInput {
  const parsed = eventInputSchema.safeParse(raw);
  if (!parsed.success) throw fromZod(parsed.error, root);
  if (parsed.data.payload === undefined) throw new ValidationError(`${[...root, 'payload'].join('.')}: required`, [{ path: [...root, 'payload'].join('.'), message: 'required' }]);
  if (!shallow && nestsDeeperThan(parsed.data.payload, MAX_JSON_DEPTH)) throw tooDeepError([...root, 'payload'].join('.'));
  if ((OPERATIONAL_EVENTS as readonly string[]).includes(parsed.data.type)) {
    const path = [...root, 'type'].join('.');
    throw new ValidationError(`${path}: reserved for events Hookrelay sends itself`, [{ path, message: 'reserved for events Hookrelay sends itself' }]);
  }
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

  const subscriberFor = (req: Request) => subscriberOf(req, store, 'publish');

  const publish = createPublisher(deps);

  router.post('/', async (req, res) => {
    const sid = await subscriberFor(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const header = req.get('idempotency-key');
    const input = validateEvent(header && body && typeof body === 'object' && !('idempotencyKey' in body) ? { ...body, idempotencyKey: header } : body, [], bodyIsShallow(res, 1));
    await admitEvents(deps, sid, 1);
    const [answer] = await publish(sid, [input]);
    res.status(202).json(answer);
  });

  router.post('/batch', async (req, res) => {
    const sid = await subscriberFor(req);
    const parsed = batchSchema.safeParse(req.body);
    if (!parsed.success) throw fromZod(parsed.error);
    // All or nothing: every event is validated before any is accepted.
    const shallow = bodyIsShallow(res, 3);
    const inputs = parsed.data.events.map((raw, i) => validateEvent(raw, ['events', i], shallow));
    await admitEvents(deps, sid, inputs.length);
    res.status(202).json({ events: await publish(sid, inputs) });
  });

  return router;
}
