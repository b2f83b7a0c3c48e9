// Test-only: where a secret must never show up once a delivery has been made.
import type { EngineHarness } from '../../engine-harness';

/** Every place a secret could leak from the worker: its log lines and the stored attempts. */
export async function leakedSecrets(h: EngineHarness, deliveryIds: string[], secrets: string[]): Promise<string[]> {
  const attempts = await Promise.all(deliveryIds.map((id) => h.store.deliveries.attempts(id)));
  const records = await Promise.all(deliveryIds.map((id) => h.store.deliveries.get(id)));
  const haystack = [JSON.stringify(h.logLines), JSON.stringify(attempts), JSON.stringify(records)].join('\n');
  const forms = (s: string) => [s, Buffer.from(s).toString('base64'), encodeURIComponent(s)];
  return secrets.filter((s) => forms(s).some((f) => haystack.includes(f)));
}
