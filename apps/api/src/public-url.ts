import type { Request } from 'express';

/**
 * The base URL of links this API hands out (a portal session's URL): HOOKRELAY_PUBLIC_URL when set,
 * which is what a deployment behind a proxy or a load balancer needs; otherwise the origin the
 * request came to, which is right when callers reach the API directly.
 */
export function publicBaseUrl(req: Request, configured: string | undefined): string {
  if (configured) return configured;
  return `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}
