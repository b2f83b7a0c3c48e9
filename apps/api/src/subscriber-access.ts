import type { Request } from 'express';
import type { Endpoint } from '@hookrelay/contracts';
import type { Store } from '@hookrelay/store';
import { assertSubscriberAccess } from './auth';
import { NotFoundError } from './errors';

/** The subscriber a route is about, once the caller may act for it and it exists. */
export async function subscriberOf(req: Request, store: Store, access: 'read' | 'publish' = 'read'): Promise<string> {
  const sid = String(req.params.sid);
  assertSubscriberAccess(req, sid, access);
  if (!(await store.subscribers.exists(sid))) throw new NotFoundError('subscriber');
  return sid;
}

/** An endpoint of that subscriber; another subscriber's is "not found". */
export async function endpointOf(req: Request, store: Store, id: string = String(req.params.eid)): Promise<Endpoint> {
  const sid = await subscriberOf(req, store);
  const endpoint = await store.endpoints.get(id);
  if (!endpoint || endpoint.subscriberId !== sid) throw new NotFoundError('endpoint');
  return endpoint;
}
