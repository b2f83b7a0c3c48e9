import { Router, type Request, type Response } from 'express';
import { validateEventPayload, EVENT_TYPE_RE, OPERATIONAL_EVENTS, type EventPayloadIssue } from '@hookrelay/contracts';
import { z } from 'zod';
import type { LiveCatalog } from '../catalog/live-catalog';
import { subscriberOf } from '../subscriber-access';
import type { ApiDeps } from '../deps';
import { AppError, fromZod, ValidationError } from '../errors';
import { bodyIsShallow, MAX_JSON_DEPTH, nestsDeeperThan, tooDeepError } from '../json-depth';
import { createPublisher, type PublishedEvent } from '../publish';
import { admitEvents } from '../subscriber-limits';
import { admitDigests, UnwrittenDigests } from '../work-budget';

/** With the u flag a surrogate pair is one code point: what matches is a surrogate standing alone. */
const LONE_SURROGATE = /\p{Surrogate}/u;

const eventInputSchema = z
  .object({
    type: z.string().min(1).max(200).regex(EVENT_TYPE_RE, 'must be dot-separated words, e.g. incident.triggered'),
    payload: z.unknown(),
    // Well-formed Unicode only: a lone surrogate has no UTF-8 form, so it would be stored as U+FFFD
    // and collide with that character and with every other lone surrogate.
    idempotencyKey: z
      .string()
      .min(1)
      .max(255)
      .refine((key) => !LONE_SURROGATE.test(key), 'must be well-formed Unicode (a lone surrogate such as \\ud800 is not)')
      .optional(),
  })
  .strict();

const batchSchema = z.object({ events: z.array(z.unknown()).min(1).max(1000) }).strict();

type EventInput = z.infer<typeof eventInputSchema>;

/** A validated event, and when its type is deprecated, since when. */
interface ValidEvent {
  input: EventInput;
  deprecatedAt: number | null;
}

/** What the catalog says of a type's payload, as issues under `payload` (or `type`). */
async function payloadIssues(
  catalog: LiveCatalog,
  type: string,
  payload: unknown,
  typePath: string,
): Promise<{ issues: EventPayloadIssue[] | null; deprecatedAt: number | null }> {
  const verdict = await catalog.check(type, payload);
  if (verdict.kind === 'built-in' || verdict.kind === 'custom') {
    const checked = validateEventPayload(type, payload);
    return { issues: checked.ok ? null : checked.issues, deprecatedAt: null };
  }
  if (verdict.kind === 'archived') {
    throw new AppError(400, 'event_type_archived', `${typePath}: event type ${type} is archived and takes no new events`, [
      { path: typePath, message: 'archived' },
    ]);
  }
  if (verdict.kind === 'defined') return { issues: verdict.issues, deprecatedAt: verdict.deprecatedAt };
  const message = `unknown event type "${type}": use a type from GET /v1/event-types or one under "custom." such as custom.order.paid`;
  return { issues: [{ path: ['type'], message }], deprecatedAt: null };
}

/**
 * Validates one event: its shape, its payload's nesting (unless the whole body is known to be
 * shallow enough), then its payload against the catalog's current schema for its type.
 */
async function validateEvent(catalog: LiveCatalog, raw: unknown, root: (string | number)[], shallow: boolean): Promise<ValidEvent> {
  const parsed = eventInputSchema.safeParse(raw);
  if (!parsed.success) throw fromZod(parsed.error, root);
  if (parsed.data.payload === undefined) throw ValidationError.at([...root, 'payload'].join('.'), 'required');
  if (!shallow && nestsDeeperThan(parsed.data.payload, MAX_JSON_DEPTH)) throw tooDeepError([...root, 'payload'].join('.'));
  const typePath = [...root, 'type'].join('.');
  if ((OPERATIONAL_EVENTS as readonly string[]).includes(parsed.data.type)) {
    throw ValidationError.at(typePath, 'reserved for events Hookrelay sends itself');
  }
  const { issues, deprecatedAt } = await payloadIssues(catalog, parsed.data.type, parsed.data.payload, typePath);
  if (issues) {
    const details = issues.map((i) => ({ path: [...root, ...i.path].map(String).join('.'), message: i.message }));
    throw new ValidationError(`invalid event: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`.slice(0, 1000), details);
  }
  return { input: parsed.data, deprecatedAt };
}

/**
 * RFC 9745: `Deprecation: @<epoch seconds>` when a published type is deprecated (the earliest, for
 * a batch), with a `Link` to each deprecated type's catalog entry.
 */
function markDeprecated(res: Response, events: ValidEvent[]): void {
  const deprecated = events.filter((e) => e.deprecatedAt !== null);
  if (deprecated.length === 0) return;
  res.set('Deprecation', `@${Math.floor(Math.min(...deprecated.map((e) => e.deprecatedAt as number)) / 1000)}`);
  const types = [...new Set(deprecated.map((e) => e.input.type))];
  res.set('Link', types.map((t) => `</v1/event-types/${encodeURIComponent(t)}>; rel="deprecation"; type="application/json"`).join(', '));
}

export function eventRoutes(deps: ApiDeps): Router {
  const router = Router({ mergeParams: true });
  const { store, catalog } = deps;

  const subscriberFor = (req: Request) => subscriberOf(req, store, 'publish');

  const publish = createPublisher(deps);
  const unwritten = new UnwrittenDigests(deps.now);

  router.post('/', async (req, res) => {
    const sid = await subscriberFor(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const header = req.get('idempotency-key');
    await catalog.fresh();
    const event = await validateEvent(
      catalog,
      header && body && typeof body === 'object' && !('idempotencyKey' in body) ? { ...body, idempotencyKey: header } : body,
      [],
      bodyIsShallow(res, 1),
    );
    // Taken once the payload's size has passed (the Publisher's check), so a refused publish takes none of it.
    const [answer] = await publish(sid, [event.input], {
      beforeWrite: () => admitEvents(deps, sid, 1),
      admitDigests: admitDigests(deps, req, sid, unwritten),
    });
    markDeprecated(res, [event]);
    const { replayed, ...published } = answer as PublishedEvent;
    // The IETF Idempotency-Key draft's marker: this answer is the first request's, nothing was written.
    if (replayed) res.set('Idempotent-Replayed', 'true');
    res.status(202).json(published);
  });

  router.post('/batch', async (req, res) => {
    const sid = await subscriberFor(req);
    const parsed = batchSchema.safeParse(req.body);
    if (!parsed.success) throw fromZod(parsed.error);
    await catalog.fresh();
    // All or nothing: every event is validated before any is accepted.
    const shallow = bodyIsShallow(res, 3);
    const events: ValidEvent[] = [];
    for (const [i, raw] of parsed.data.events.entries()) events.push(await validateEvent(catalog, raw, ['events', i], shallow));
    const answers = await publish(
      sid,
      events.map((e) => e.input),
      {
        itemPath: (i) => `events.${i}`,
        maxDeliveries: deps.maxBatchDeliveries,
        // After the fan-out check: a batch refused as too large takes none of the publish rate.
        beforeWrite: () => admitEvents(deps, sid, events.length),
        admitDigests: admitDigests(deps, req, sid, unwritten),
      },
    );
    markDeprecated(res, events);
    if (answers.every((a) => a.replayed)) res.set('Idempotent-Replayed', 'true');
    res.status(202).json({ events: answers.map(({ replayed: _replayed, ...answer }) => answer) });
  });

  return router;
}
