import type { Request } from 'express';
import type { Endpoint, EndpointSummary } from '@hookrelay/contracts';
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

/** An endpoint of that subscriber, without its secrets; another subscriber's is "not found". */
export async function endpointOf(req: Request, store: Store, id: string = String(req.params.eid)): Promise<EndpointSummary> {
  const sid = await subscriberOf(req, store);
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
