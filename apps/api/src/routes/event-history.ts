import { Router, type Request } from 'express';
import { routerOf } from '@hookrelay/publishing';
import { z } from 'zod';
import type { ApiDeps } from '../deps';
import { fromZod, NotFoundError, ValidationError } from '../errors';
import { idParam, subscriberOf } from '../subscriber-access';
import { sendWithStoredJson } from '../stored-json';
import { cursorParam, timeParam } from './deliveries';
import { admitEvents, admitStoredBytes, InFlightPerSubscriber, MAX_REPLAYS_IN_FLIGHT } from '../subscriber-limits';
import { admitWork, FREE_READS, recordReadCost, WORK_COSTS } from '../work-budget';
import { readListingPage } from '../filtered-listing';

const listQuery = z
  .object({
    type: z.string().max(200).optional(),
    since: timeParam.optional(),
    until: timeParam.optional(),
    cursor: cursorParam.optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    /** `outcomes`: each event with its deliveries counted by state (at most 50 events a page then). */
    include: z.literal('outcomes').optional(),
  })
  .strict()
  .refine((q) => !q.include || q.limit <= 50, { path: ['limit'], message: 'at most 50 with include=outcomes' });

/**
 * The longest stored event whose read may be free: its payload (free up to FREE_READS.storedKb) is
 * stored as a JSON string, at most twice as long escaped, beside its id, type and time (~700 bytes).
 */
const MAY_BE_FREE_BYTES = 2 * FREE_READS.storedKb * 1024 + 1024;

const replayBody = z.object({ endpointIds: z.array(z.string().max(64)).min(1).max(1000).optional() }).strict();

/**
 * Reading events back (payload and deliveries) and replaying them. `heavyListings`: the places
 * listings that read many records share (heavyListingsPerSubscriber).
 */
export function eventHistoryRoutes(deps: ApiDeps, heavyListings: InFlightPerSubscriber): Router {
  const router = Router({ mergeParams: true });
  const { store } = deps;
  const replays = new InFlightPerSubscriber(MAX_REPLAYS_IN_FLIGHT, 'replays_in_flight', 'replays running');

  /** The subscriber's event the path names, as `read` reads it (whole, or its summary); 404 for another's. */
  async function eventOf<T extends { subscriberId: string }>(sid: string, req: Request, read: (id: string) => Promise<T | null>) {
    const event = await read(idParam(req, 'eid', 'evt', 'event'));
    if (!event || event.subscriberId !== sid) throw new NotFoundError('event');
    return event;
  }

  /** A page of events, with outcomes when asked; `read`: the log entries and deliveries it read. */
  async function eventsPage(sid: string, query: z.infer<typeof listQuery>) {
    const page = await store.history.listEvents(sid, query);
    if (!query.include) return { items: page.items, nextCursor: page.nextCursor, read: page.scanned };
    const { outcomes, covered, lookedUp } = await store.history.outcomesOfEvents(sid, page.items);
    const read = page.scanned + lookedUp;
    // A page whose events have more possible deliveries than one page looks up ends early, with a cursor.
    if (covered < page.items.length)
      return { items: page.items.slice(0, covered), nextCursor: page.cursorAfter[covered - 1], outcomes, read };
    return { items: page.items, nextCursor: page.nextCursor, outcomes, read };
  }

  router.get('/', async (req, res) => {
    const sid = await subscriberOf(req, store);
    const parsed = listQuery.safeParse(req.query);
    if (!parsed.success) throw fromZod(parsed.error, ['query']);
    // Outcomes look up to 5,000 deliveries for a page; a type filter reads up to 5,000 log entries
    // it may not keep (16 ms of the API and 5 ms of Redis a page that matches nothing), as a
    // delivery listing's filters do.
    const heavy = parsed.data.include ? 'include' : parsed.data.type !== undefined ? 'type' : undefined;
    const page = await readListingPage(
      deps,
      req,
      sid,
      heavyListings,
      heavy,
      () => eventsPage(sid, parsed.data),
      (p) => p.read,
    );
    const { items, nextCursor, outcomes } = page;
    res.json({
      data: items.map((e) => ({
        id: e.id,
        type: e.type,
        createdAt: e.createdAt,
        ...(outcomes ? { outcomes: outcomes.get(e.id) } : {}),
      })),
      nextCursor: nextCursor ?? null,
    });
  });

  router.get('/:eid', async (req, res) => {
    const sid = await subscriberOf(req, store);
    const id = idParam(req, 'eid', 'evt', 'event');
    // Charged beyond FREE_READS by its payload and its lookups (1 MiB with ~1,000 lookups, an event
    // replayed to endpoints deleted since: 25.5 ms of the API and 9.9 ms of Redis a read). One
    // stored longer than MAY_BE_FREE_BYTES is charged surely: checked before it is read whole, as
    // refused reads that read it first still took ~7 ms of the API each. A small one is read in one
    // round trip as before, checked only if its lookups are over; a free read makes no budget call.
    const read = await store.events.getUpTo(id, MAY_BE_FREE_BYTES);
    const head = read && ('event' in read ? read.event : read.summary);
    if (!read || !head || head.subscriberId !== sid) throw new NotFoundError('event');
    // A read that is not free takes one of the subscriber's heavy-listing places too: the budget
    // only asks that its balance be positive, so any number of 1 MiB reads passed it at once, their
    // answers queued on the API's one Redis connection ahead of everyone's commands (an audit: 200
    // at once held another subscriber's command 1.6 s, near the 2 s that answers 503).
    let release: (() => void) | undefined;
    try {
      if (!('event' in read)) release = heavyListings.take(sid, 'eid');
      const large = release ? await admitWork(deps, req, sid) : undefined;
      const event = 'event' in read ? read.event : await store.events.get(id);
      if (!event) throw new NotFoundError('event');
      const possible = await store.history.possibleDeliveriesOf(event);
      const cost = recordReadCost({ stored: event.payload, lookups: possible.length });
      if (!release && cost > 0) release = heavyListings.take(sid, 'eid');
      const charge = large ?? (cost > 0 ? await admitWork(deps, req, sid) : undefined);
      const deliveries = await store.history.deliveriesOfEvent(event, possible);
      await charge?.(cost);
      // The payload is stored as the JSON text receivers get.
      sendWithStoredJson(
        res,
        { id: event.id, type: event.type, createdAt: event.createdAt },
        { payload: event.payload, deliveries: JSON.stringify(deliveries) },
      );
    } finally {
      release?.();
    }
  });

  router.post('/:eid/replay', async (req, res) => {
    const sid = await subscriberOf(req, store);
    // Its summary: a replay never needs the payload (up to 1 MiB, 2 MB stored).
    const event = await eventOf(sid, req, async (id) => (await store.events.summaries([id]))[0] ?? null);
    const parsed = replayBody.safeParse(req.body ?? {});
    if (!parsed.success) throw fromZod(parsed.error);
    // The place and the budget before the endpoints are read and routed: routing them builds the
    // subscriber's router after any change of an endpoint (up to ~1 ms at 100 endpoints of 100
    // patterns; ~12 ms before each endpoint's patterns were kept split), which a replay refused
    // afterwards cost for nothing, looped between PATCHes (an audit).
    const release = replays.take(sid, 'event');
    try {
      // A replay makes attempts like a publish does: it counts against the publish rate as one event
      // (one that reaches no endpoint makes none).
      // And against the work budget: the endpoints read to route it, a delivery written to each target.
      const charge = await admitWork(deps, req, sid);
      const endpoints = await store.endpoints.listAll(sid);
      const all = routerOf(endpoints).route(event.type, { steps: 0 });
      // Every endpoint read and routed, matched or not: one that matched none was charged nothing.
      const read = endpoints.length * WORK_COSTS.recordRead;
      let targets = all;
      let result: Awaited<ReturnType<typeof deps.publisher.replay>>;
      try {
        if (parsed.data.endpointIds) {
          const wanted = new Set(parsed.data.endpointIds);
          targets = all.filter((e) => wanted.has(e.id));
          const missing = parsed.data.endpointIds.filter((id) => !targets.some((e) => e.id === id));
          // Named up to ten: a body may carry 1,000 ids of 64 characters.
          const named = missing.length > 10 ? `${missing.slice(0, 10).join(', ')} and ${missing.length - 10} more` : missing.join(', ');
          if (missing.length)
            throw new ValidationError(`endpointIds: not active endpoints of this subscriber matching ${event.type}: ${named}`, [
              { path: 'endpointIds', message: 'unknown, disabled or not matching the event type' },
            ]);
        }
        if (targets.length > 0) {
          await admitStoredBytes(deps, sid);
          await admitEvents(deps, sid, 1);
        }
        result = await deps.publisher.replay(event, targets);
      } catch (err) {
        // Refused (400, or 429 for the storage quota or the publish rate), it still read and routed the endpoints.
        await charge(read);
        throw err;
      }
      await charge(read + targets.length * WORK_COSTS.deliveryWritten);
      res.status(202).json({ id: event.id, created: result.created, requeued: result.requeued });
    } finally {
      release();
    }
  });

  return router;
}
