import type { Endpoint } from '@hookrelay/contracts';
import type { OutboundRequest } from '../send';
import { signAwsSigV4 } from './aws-sigv4';
import { staticAuthHeaders } from './static-auth';

/**
 * The auth that can be applied while the request is prepared, with no network call: the static
 * headers (after the custom ones, so a custom header cannot displace them) and, last of all,
 * the SigV4 signature over the finished request.
 */
export function applyPreparedAuth(request: OutboundRequest, endpoint: Pick<Endpoint, 'auth'>, nowMs: number): OutboundRequest {
  const auth = endpoint.auth;
  if (!auth || auth.type === 'none') return request;
  if (auth.type === 'aws-sigv4') return signAwsSigV4(request, auth, nowMs);
  const extra = staticAuthHeaders(auth);
  if (Object.keys(extra).length === 0) return request;
  const headers: Record<string, string> = {};
  // Drop any header of the same name in another case, so the auth value is the only one sent.
  const names = new Set(Object.keys(extra));
  for (const [name, value] of Object.entries(request.headers)) if (!names.has(name.toLowerCase())) headers[name] = value;
  return { ...request, headers: { ...headers, ...extra } };
}
