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
