import type { Endpoint } from '@hookrelay/contracts';

/** An endpoint as the API shows it: never its secrets, which only the secret routes reveal. */
export function endpointView(endpoint: Endpoint) {
  const { secret: _secret, previousSecrets, ...rest } = endpoint;
  return { ...rest, secretRotation: previousSecrets.length ? { retiringUntil: Math.max(...previousSecrets.map((s) => s.expiresAt)) } : null };
}
