import type { Request } from 'express';
import { isIdOf, type Endpoint, type EndpointSummary, type IdKind } from '@hookrelay/contracts';
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

/** An endpoint of that subscriber, without its secrets; another subscriber's is "not found". */
export async function endpointOf(req: Request, store: Store, id: string = String(req.params.eid)): Promise<EndpointSummary> {
  const sid = await subscriberOf(req, store);
  if (!isIdOf('ep', id)) throw new NotFoundError('endpoint');
  const endpoint = await store.endpoints.getSummary(id);
  if (!endpoint || endpoint.subscriberId !== sid) throw new NotFoundError('endpoint');
  return endpoint;
}

/**
 * The same endpoint with its secrets, for routes that sign, authenticate or reveal. Ownership is
 * checked first, on the summary, so a secret that cannot be decrypted (SecretUnreadableError, a 500
 * `secret_unreadable`) is reported only to the endpoint's own subscriber, never to a prober.
 */
export async function endpointWithSecretsOf(req: Request, store: Store): Promise<Endpoint> {
  const summary = await endpointOf(req, store);
  const endpoint = await store.endpoints.get(summary.id);
  if (!endpoint) throw new NotFoundError('endpoint');
  return endpoint;
}
