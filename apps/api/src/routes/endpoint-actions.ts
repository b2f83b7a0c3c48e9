import { Router } from 'express';
import { newId, type StoredEvent } from '@hookrelay/contracts';
import { z } from 'zod';
import type { ApiDeps } from '../deps';
import type { LiveCatalog } from '../catalog/live-catalog';
import { AppError, fromZod, ValidationError } from '../errors';
import { endpointOf, endpointWithSecretsOf } from '../subscriber-access';
import { admitEvents, admitStoredBytes, type InFlightPerSubscriber } from '../subscriber-limits';
import { admitWork, WORK_COSTS } from '../work-budget';
import { cursorParam, timeParam } from './deliveries';

/** `cursor`: a previous answer's `nextCursor`, to go on where its scan stopped (same window). */
const recoverBody = z.object({ since: timeParam, until: timeParam.optional(), cursor: cursorParam.optional() }).strict();
const testBody = z
  .object({
    type: z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/)
      .max(200)
      .optional(),
  })
  .strict();

/**
 * What a test event carries: a catalog type sends its first example (what a real one looks like;
 * the built-in types' and operator-defined types' alike); `hookrelay.test`, custom types and a
 * defined type without examples a small marker. `endpoint.disabled`, archived types and types the
 * catalog does not know are refused: a test must not forge what Hookrelay itself sends.
 */
async function testPayload(catalog: LiveCatalog, type: string, endpointId: string, now: number): Promise<string> {
  const marker = () => JSON.stringify({ type, test: true, endpointId, sentAt: new Date(now).toISOString() });
  if (type === 'hookrelay.test') return marker();
  await catalog.fresh();
  const resolved = catalog.resolve(type);
  if (resolved.kind === 'custom') return marker();
  if (resolved.kind === 'built-in' && type !== 'endpoint.disabled') return JSON.stringify(resolved.info.example);
  if (resolved.kind === 'defined') {
    if (resolved.state.archived)
      throw new AppError(400, 'event_type_archived', `type: event type ${type} is archived`, [{ path: 'type', message: 'archived' }]);
    const view = await catalog.get(type);
    return view && view.examples.length > 0 ? JSON.stringify(view.examples[0]) : marker();
  }
  throw new ValidationError(`type: not a type a test can send (${type})`, [
    { path: 'type', message: 'use hookrelay.test, a custom.* type or a type from GET /v1/event-types' },
  ]);
}

/**
 * Recovering an endpoint's failed deliveries and sending it a test event. `testSends`: the places
 * test sends share with endpoint verifications (receiverWaitsPerSubscriber); `recovers`, those
 * recovers share with endpoint disables (endpointBulkWorkPerSubscriber).
 */
export function endpointActionRoutes(deps: ApiDeps, places: { testSends: InFlightPerSubscriber; recovers: InFlightPerSubscriber }): Router {
  const router = Router({ mergeParams: true });
  const { store } = deps;
  const { testSends, recovers } = places;

  router.post('/:eid/recover', async (req, res) => {
    const endpoint = await endpointOf(req, store);
    const parsed = recoverBody.safeParse(req.body ?? {});
    if (!parsed.success) throw fromZod(parsed.error);
    const release = recovers.take(endpoint.subscriberId);
    try {
      // Each recover request counts against the publish rate as one event, however many it requeues,
      // and against the work budget by the entries it read and the deliveries it reopened.
      const charge = await admitWork(deps, req, endpoint.subscriberId);
      await admitStoredBytes(deps, endpoint.subscriberId);
      await admitEvents(deps, endpoint.subscriberId, 1);
      const { recovered, complete, nextCursor, scanned } = await deps.publisher.recover(endpoint, parsed.data);
      await charge(scanned * WORK_COSTS.recordRead + recovered * WORK_COSTS.deliveryWritten);
      res.status(202).json({ endpointId: endpoint.id, recovered, complete, nextCursor: nextCursor ?? null });
    } finally {
      release();
    }
  });

  router.post('/:eid/test', async (req, res) => {
    const endpoint = await endpointWithSecretsOf(req, store);
    const parsed = testBody.safeParse(req.body ?? {});
    if (!parsed.success) throw fromZod(parsed.error);
    const now = deps.now();
    const release = testSends.take(endpoint.subscriberId);
    try {
      // A test is an event, stored and sent like any other: it counts against the publish rate, and
      // against the work budget for what it keeps in Redis for the retention period.
      const charge = await admitWork(deps, req, endpoint.subscriberId);
      await admitStoredBytes(deps, endpoint.subscriberId);
      await admitEvents(deps, endpoint.subscriberId, 1);
      const type = parsed.data.type ?? 'hookrelay.test';
      const event: StoredEvent = {
        id: newId('evt', now),
        subscriberId: endpoint.subscriberId,
        type,
        payload: await testPayload(deps.catalog, type, endpoint.id, now),
        createdAt: now,
      };
      const result = await deps.sendTest(endpoint, event);
      await charge(WORK_COSTS.testSend);
      res.status(200).json(result);
    } finally {
      release();
    }
  });

  return router;
}
