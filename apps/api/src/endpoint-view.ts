import { publicAuthView, type Endpoint } from '@hookrelay/contracts';
import type { EndpointHealth } from '@hookrelay/store';

/**
 * An endpoint as the API shows it: never its secrets. The signing secret only the secret routes
 * reveal; auth secrets (passwords, tokens, keys) nothing does: they are write-only.
 */
export function endpointView(endpoint: Endpoint, health?: EndpointHealth) {
  const { secret: _secret, previousSecrets, auth, ...rest } = endpoint;
  return {
    ...rest,
    verify: rest.verify ?? 'none',
    rateLimit: rest.rateLimit ?? null,
    ...(health ? { health } : {}),
    auth: publicAuthView(auth),
    secretRotation: previousSecrets.length ? { retiringUntil: Math.max(...previousSecrets.map((s) => s.expiresAt)) } : null,
  };
}
