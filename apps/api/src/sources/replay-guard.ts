import type { IncomingHttpHeaders } from 'node:http';
import type { SourceStore } from '@hookrelay/store';
import type { Source } from './source-input';
import type { ReplayKey } from './verify-kit';

/**
 * The keys that make a verified request a copy of an earlier one: its signature's (timestamped
 * schemes) or message id's (Standard Webhooks), from the verifier, and its dedupe header's value
 * when the source names one. A request without the header is not deduplicated by it.
 */
export function replayKeysOf(source: Pick<Source, 'dedupe'>, headers: IncomingHttpHeaders, verified: ReplayKey | undefined): ReplayKey[] {
  const keys = verified ? [verified] : [];
  if (source.dedupe) {
    const raw = headers[source.dedupe.header];
    const value = Array.isArray(raw) ? raw.join(', ') : raw;
    if (value)
      keys.push({
        key: `header:${source.dedupe.header}:${value}`,
        windowMs: source.dedupe.windowSeconds * 1000,
        what: `${source.dedupe.header} already published`,
        endsWithRetention: true,
      });
  }
  return keys;
}

/** A request to publish (confirm with its event, or release if it publishes nothing), or a copy. */
export type ReplayVerdict =
  | { duplicate: false; confirm(eventId: string): Promise<void>; release(): Promise<void> }
  | { duplicate: true; eventId: string | null; what: string };

/**
 * Claims every key of a request before it is published (SourceStore.claimReplay: one SET NX each).
 * The first key already held makes the request a duplicate of the request holding it, and gives
 * back the claims this one took, so racing copies publish once.
 */
export async function claimReplayKeys(sources: SourceStore, sourceId: string, keys: readonly ReplayKey[]): Promise<ReplayVerdict> {
  const held: Array<{ confirm(eventId: string): Promise<void>; release(): Promise<void> }> = [];
  const releaseAll = () => Promise.all(held.map((c) => c.release()));
  try {
    for (const k of keys) {
      const claim = await sources.claimReplay(sourceId, k.key, k.windowMs, { endsWithRetention: k.endsWithRetention === true });
      if (!claim.claimed) {
        await releaseAll();
        return { duplicate: true, eventId: claim.eventId, what: k.what };
      }
      held.push(claim);
    }
  } catch (err) {
    await releaseAll().catch(() => undefined);
    throw err;
  }
  return {
    duplicate: false,
    confirm: async (eventId) => void (await Promise.all(held.map((c) => c.confirm(eventId)))),
    release: async () => void (await releaseAll()),
  };
}
