import type { EndpointSummary } from '@hookrelay/contracts';
import type { EndpointHealth } from '@hookrelay/store';

/**
 * An endpoint as the API shows it: never its secrets. The signing secret only the secret routes
 * reveal; auth secrets (passwords, tokens, keys) nothing does: they are write-only. Built from a
 * summary, which holds no secret, so it can be shown even when a secret cannot be decrypted.
 */
export function endpointView(endpoint: EndpointSummary, health?: EndpointHealth) {
  const { previousSecrets, ...rest } = endpoint;
  return {
    ...rest,
    verify: rest.verify ?? 'none',
    rateLimit: rest.rateLimit ?? null,
    ...(health ? { health } : {}),
    secretRotation: previousSecrets.length ? { retiringUntil: Math.max(...previousSecrets.map((s) => s.expiresAt)) } : null,
  };
}
