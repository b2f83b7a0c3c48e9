import { Router } from 'express';
import { newId, type StoredEvent } from '@hookrelay/contracts';
import { recoverEndpoint } from '@hookrelay/delivery';
import { z } from 'zod';
import type { ApiDeps } from '../deps';
import { fromZod } from '../errors';
import { endpointOf } from '../subscriber-access';
import { timeParam } from './deliveries';

const recoverBody = z.object({ since: timeParam, until: timeParam.optional() }).strict();
const testBody = z.object({ type: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/).max(200).optional() }).strict();

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
    const endpoint = await endpointOf(req, store);
    const parsed = testBody.safeParse(req.body ?? {});
    if (!parsed.success) throw fromZod(parsed.error);
    const now = deps.now();
    const type = parsed.data.type ?? 'hookrelay.test';
    const event: StoredEvent = {
      id: newId('evt', now),
      subscriberId: endpoint.subscriberId,
      type,
      payload: JSON.stringify({ type, test: true, endpointId: endpoint.id, sentAt: new Date(now).toISOString() }),
      createdAt: now,
    };
    const result = await deps.sendTest(endpoint, event);
    res.status(200).json(result);
  });

  return router;
}
