import { Router } from 'express';
import { isIdOf } from '@hookrelay/contracts';
import { ATTEMPT_LIMITS, isCursor } from '@hookrelay/store';
import { z } from 'zod';
import type { ApiDeps } from '../deps';
import { AppError, fromZod, NotFoundError } from '../errors';
import { idParam, subscriberOf } from '../subscriber-access';
import { admitEvents, admitStoredBytes, type InFlightPerSubscriber } from '../subscriber-limits';
import { admitRecordRead, admitWork, FREE_READS, recordReadCost, WORK_COSTS } from '../work-budget';
import { sendWithStoredJson } from '../stored-json';
import { readListingPage } from '../filtered-listing';

/** A point in time: epoch milliseconds (a number, or digits in a query string) or ISO 8601. */
export const timeParam = z.union([
  z.number().int().min(0),
  z
    .string()
    .regex(/^\d{1,15}$/)
    .transform(Number),
  z
    .string()
    .datetime({ offset: true })
    .transform((s) => Date.parse(s)),
]);

/** A nextCursor from an earlier page; a client that echoes `null` or garbage gets a 400, not page 1 again. */
export const cursorParam = z.string().max(200).refine(isCursor, 'not a cursor from a previous page (omit it for the first page)');

const listQuery = z
  .object({
    endpointId: z.string().max(64).optional(),
    eventType: z.string().max(200).optional(),
    status: z.enum(['pending', 'retrying', 'delivered', 'failed']).optional(),
    since: timeParam.optional(),
    until: timeParam.optional(),
    cursor: cursorParam.optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strict();

/** The most one kept attempt takes as JSON: its bounded headers, response preview and error, and its other fields. */
const MOST_ATTEMPT_BYTES =
  ATTEMPT_LIMITS.requestHeadersJsonBytes + ATTEMPT_LIMITS.responseBodyJsonBytes + ATTEMPT_LIMITS.errorMessageJsonBytes + 512;

/**
 * Whether a delivery's kept attempts are over the free size to read, found before they are read:
 * with 5 or fewer (each ~11.3 KB at most) they cannot be, past that what they take in Redis says.
 */
async function overFreeRead(store: ApiDeps['store'], delivery: { id: string; attempts: number }): Promise<boolean> {
  const free = FREE_READS.storedKb * 1024;
  if (Math.min(delivery.attempts, ATTEMPT_LIMITS.attemptsPerDelivery) * MOST_ATTEMPT_BYTES <= free) return false;
  return (await store.deliveries.attemptsMemoryBytes(delivery.id)) > free;
}

/**
 * Delivery history and one-click retry, scoped to the subscriber. `heavyListings`: the places
 * listings that read many records share (heavyListingsPerSubscriber).
 */
export function deliveryRoutes(deps: ApiDeps, heavyListings: InFlightPerSubscriber): Router {
  const router = Router({ mergeParams: true });
  const { store } = deps;

  router.get('/', async (req, res) => {
    const sid = await subscriberOf(req, store);
    const parsed = listQuery.safeParse(req.query);
    if (!parsed.success) throw fromZod(parsed.error, ['query']);
    // Another subscriber's endpoint is a 404 like every cross-tenant reference, answered before its
    // log is read: listing it used to scan up to 5,000 of the other subscriber's entries.
    const { endpointId } = parsed.data;
    if (endpointId !== undefined && !(isIdOf('ep', endpointId) && (await store.endpoints.isOrWasOf(sid, endpointId))))
      throw new NotFoundError('endpoint');
    // A status or event type filter reads deliveries it may not keep, up to 5,000 for one page.
    const filter = parsed.data.status ? 'status' : parsed.data.eventType ? 'eventType' : undefined;
    const page = await readListingPage(
      deps,
      req,
      sid,
      heavyListings,
      filter,
      () => store.history.listDeliveries(sid, parsed.data),
      (p) => p.scanned,
    );
    res.json({ data: page.items, nextCursor: page.nextCursor ?? null });
  });

  router.get('/:did', async (req, res) => {
    const sid = await subscriberOf(req, store);
    const delivery = await store.deliveries.get(idParam(req, 'did', 'dlv', 'delivery'));
    if (!delivery || delivery.subscriberId !== sid) throw new NotFoundError('delivery');
    // Charged beyond FREE_READS by the attempts' size (60 of ~10 KB: 6.5 ms of the API to answer).
    // A delivery whose kept attempts are over the free size is checked before they are read: read
    // first, a subscriber in debt looping such GETs had each refused after the read (~684 KB,
    // 2.4-2.7 ms of the API and ~1 ms of Redis each, an audit's probe), charged nothing. A free
    // one is read as before, and makes no budget call.
    // Such a read takes one of the subscriber's heavy-listing places too, as an event's large read does.
    const release = (await overFreeRead(store, delivery)) ? heavyListings.take(sid, 'did') : undefined;
    let attempts: string;
    let endpoint: Awaited<ReturnType<typeof store.endpoints.getSummary>>;
    try {
      const early = release ? await admitWork(deps, req, sid) : undefined;
      [attempts, endpoint] = await Promise.all([
        store.deliveries.attemptsJson(delivery.id),
        store.endpoints.getSummary(delivery.endpointId),
      ]);
      const cost = recordReadCost({ stored: attempts });
      if (early) await early(cost);
      else await (await admitRecordRead(deps, req, sid, cost))();
    } finally {
      release?.();
    }
    const fields = {
      ...delivery,
      nextAttemptAt: delivery.nextAttemptAt ?? null,
      endpoint: endpoint ? { id: endpoint.id, url: endpoint.url, status: endpoint.status } : null,
      // The list keeps the newest 60 (ATTEMPT_LIMITS): the record counts them all.
      attemptCount: delivery.attempts,
    };
    // The attempts as stored (up to 60 of ~10 KB).
    sendWithStoredJson(res, fields, { attempts });
  });

  router.post('/:did/retry', async (req, res) => {
    const sid = await subscriberOf(req, store);
    const delivery = await store.deliveries.get(idParam(req, 'did', 'dlv', 'delivery'));
    if (!delivery || delivery.subscriberId !== sid) throw new NotFoundError('delivery');
    const inProgress = () =>
      new AppError(409, 'delivery_in_progress', `delivery is ${delivery.state}: it will be attempted without a retry request`);
    if (delivery.state !== 'failed' && delivery.state !== 'delivered') throw inProgress();
    // One more attempt, asked for: it counts against the publish rate as one event, and against the
    // work budget as a delivery written.
    const charge = await admitWork(deps, req, sid);
    await admitStoredBytes(deps, sid);
    await admitEvents(deps, sid, 1);
    // Re-opened only from the state read above: one that moved on meanwhile is in progress after all.
    const queued = await deps.publisher.redeliver([delivery], true);
    await charge(WORK_COSTS.recordRead + queued.length * WORK_COSTS.deliveryWritten);
    if (queued.length === 0) throw inProgress();
    res.status(202).json({ id: delivery.id, state: 'pending', queued: true });
  });

  return router;
}
