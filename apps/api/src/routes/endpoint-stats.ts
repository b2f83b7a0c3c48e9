import { Router } from 'express';
import { HOUR_MS, HOURS_KEPT } from '@hookrelay/store';
import { z } from 'zod';
import type { ApiDeps } from '../deps';
import { fromZod, ValidationError } from '../errors';
import { endpointOf } from '../subscriber-access';
import { timeParam } from './deliveries';

/** Hours answered when the caller names no `since`: the portal's chart, the current hour last. */
const DEFAULT_HOURS = 24;

const statsQuery = z.object({ since: timeParam.optional(), until: timeParam.optional() }).strict();

/**
 * An endpoint's attempts per hour (EndpointHourlyCounts, counted as attempts are recorded), for
 * the portal's chart: one read of one small hash, where the chart used to page up to 1,000 of the
 * endpoint's deliveries a minute and count them in the browser.
 */
export function endpointStatsRoutes(deps: ApiDeps): Router {
  const router = Router({ mergeParams: true });
  const { store } = deps;

  router.get('/:eid/stats', async (req, res) => {
    // Ownership first: another subscriber's endpoint (or an unknown one) is a 404 before anything is read.
    const endpoint = await endpointOf(req, store);
    const parsed = statsQuery.safeParse(req.query);
    if (!parsed.success) throw fromZod(parsed.error, ['query']);
    const now = deps.now();
    const currentHour = Math.floor(now / HOUR_MS) * HOUR_MS;
    const oldestKept = currentHour - (HOURS_KEPT - 1) * HOUR_MS;
    // Hours after the current one have nothing counted yet: a client clock ahead of ours is no error.
    const lastHour = Math.min(Math.floor((parsed.data.until ?? now) / HOUR_MS) * HOUR_MS, currentHour);
    const since = parsed.data.since ?? lastHour - (DEFAULT_HOURS - 1) * HOUR_MS;
    const firstHour = Math.floor(since / HOUR_MS) * HOUR_MS;
    const tooOld = `counts are kept for the last ${HOURS_KEPT} hours: at the earliest ${new Date(oldestKept).toISOString()}`;
    if (lastHour < oldestKept) throw ValidationError.at('query.until', tooOld);
    if (firstHour < oldestKept) throw ValidationError.at('query.since', tooOld);
    if (firstHour > lastHour) throw ValidationError.at('query.since', 'must not be after until (nor after the current hour)');
    const hours = await store.hourlyCounts.read(endpoint.id, firstHour, lastHour + HOUR_MS);
    res.json({ endpointId: endpoint.id, since: firstHour, until: lastHour + HOUR_MS - 1, hours });
  });

  return router;
}
