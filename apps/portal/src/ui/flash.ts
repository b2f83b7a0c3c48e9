/**
 * A message for the next view, such as "Endpoint created" with its secret. Held in memory only: a
 * signing secret must not travel in the URL fragment or storage to get to the next page.
 */
let pending: string | null = null;

export function setFlash(message: string): void {
  pending = message;
}

export function takeFlash(): string | null {
  const m = pending;
  pending = null;
  return m;
}

/**
 * A signing secret to show once, with a copy button, on the endpoint's page right after it was made
 * (creating the endpoint, or a change of scheme). In memory only, like the flash, and for that one
 * endpoint; later the secret is behind "Reveal secret".
 */
let secretOnce: { endpointId: string; secret: string } | null = null;

export function setSecretOnce(endpointId: string, secret: string): void {
  secretOnce = { endpointId, secret };
}

export function takeSecretOnce(endpointId: string): string | null {
  const held = secretOnce?.endpointId === endpointId ? secretOnce.secret : null;
  if (held) secretOnce = null;
  return held;
}
