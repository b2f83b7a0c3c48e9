/**
 * Waits until `condition` holds, looking every `pollMs`; fails naming `what` after `timeoutMs`.
 * Tests wait for a condition (an arrival, a state), never a fixed sleep.
 */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000, pollMs = 10): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
