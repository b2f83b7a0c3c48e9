import type { Request } from 'express';
import { isIdOf, type Endpoint, type IdKind } from '@hookrelay/contracts';
import type { Store } from '@hookrelay/store';
import { assertSubscriberAccess } from './auth';
import { NotFoundError } from './errors';

/**
 * A path parameter that names a resource, checked for the shape of its kind of id before it names
 * any Redis key: `ep_...:dl-log` would otherwise address the endpoint's history stream, and
 * `sub_...:eps` the subscriber's endpoint set. A malformed id is "not found", like any other.
 */
export function idParam(req: Request, name: string, kind: IdKind, what: string): string {
  const id = String(req.params[name]);
  if (!isIdOf(kind, id)) throw new NotFoundError(what);
  return id;
}

/** The subscriber a route is about, once the caller may act for it and it exists. */
export async function subscriberOf(req: Request, store: Store, access: 'read' | 'publish' = 'read'): Promise<string> {
  const sid = idParam(req, 'sid', 'sub', 'subscriber');
  assertSubscriberAccess(req, sid, access);
  if (!(await store.subscribers.exists(sid))) throw new NotFoundError('subscriber');
  return sid;
}

/** An endpoint of that subscriber; another subscriber's is "not found". */
export async function endpointOf(req: Request, store: Store, id: string = String(req.params.eid)): Promise<Endpoint> {
  const sid = await subscriberOf(req, store);
  if (!isIdOf('ep', id)) throw new NotFoundError('endpoint');
  const endpoint = await store.endpoints.get(id);
  if (!endpoint || endpoint.subscriberId !== sid) throw new NotFoundError('endpoint');
  return endpoint;
}
