import { Router } from 'express';
import { isCustomEventType, listEventTypes, newId, OPERATIONAL_EVENTS, type StoredEvent } from '@hookrelay/contracts';
import { recoverEndpoint } from '@hookrelay/delivery';
import { z } from 'zod';
import type { ApiDeps } from '../deps';
import { fromZod, ValidationError } from '../errors';
import { endpointOf, endpointWithSecretsOf } from '../subscriber-access';
import { timeParam } from './deliveries';

const recoverBody = z.object({ since: timeParam, until: timeParam.optional() }).strict();
const testBody = z.object({ type: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/).max(200).optional() }).strict();

/**
 * What a test event carries: a built-in type sends the catalog's example (what a real one looks
 * like); `hookrelay.test` and custom types a small marker. Other operational types, and types
 * the catalog does not know, are refused: a test must not forge an `endpoint.disabled`.
 */
function testPayload(type: string, endpointId: string, now: number): string {
  if (type === 'hookrelay.test' || isCustomEventType(type)) {
    return JSON.stringify({ type, test: true, endpointId, sentAt: new Date(now).toISOString() });
  }
  const info = (OPERATIONAL_EVENTS as readonly string[]).includes(type) ? undefined : listEventTypes().find((t) => t.type === type);
  if (!info) throw new ValidationError(`type: not a type a test can send (${type})`, [{ path: 'type', message: 'use hookrelay.test, a custom.* type or a built-in type from GET /v1/event-types' }]);
  return JSON.stringify(info.example);
}

/** Recovering an endpoint's failed deliveries and sending it a test event. */
export function endpointActionRoutes(deps: ApiDeps): Router {
  const router = Router({ mergeParams: true });
  const { store } = deps;

  router.post('/:eid/recover', async (req, res) => {
    const endpoint = await endpointOf(req, store);
    const parsed = recoverBody.safeParse(req.body ?? {});
    if (!parsed.success) throw fromZod(parsed.error);
    const recovered = await recoverEndpoint({ store, queue: deps.queue }, endpoint, parsed.data);
    res.status(202).json({ endpointId: endpoint.id, recovered });
  });

  router.post('/:eid/test', async (req, res) => {
    const endpoint = await endpointWithSecretsOf(req, store);
    const parsed = testBody.safeParse(req.body ?? {});
    if (!parsed.success) throw fromZod(parsed.error);
    const now = deps.now();
    const type = parsed.data.type ?? 'hookrelay.test';
    const event: StoredEvent = { id: newId('evt', now), subscriberId: endpoint.subscriberId, type, payload: testPayload(type, endpoint.id, now), createdAt: now };
    const result = await deps.sendTest(endpoint, event);
    res.status(200).json(result);
  });

  return router;
}
