import type { DigestChallenge } from './digest-response';

/**
 * The last Digest challenge each endpoint's receiver sent, with its nonce count. Later deliveries
 * answer it up front instead of taking a 401 first; nc counts upward per nonce, so concurrent
 * deliveries each get their own value and a receiver that rejects repeated nc (RFC 7616
 * section 3.4: replay protection) sees none.
 */
export class DigestSessions {
  private readonly entries = new Map<string, { challenge: DigestChallenge; nc: number }>();

  /** @param maxEntries endpoints remembered; the oldest is dropped past this. */
  constructor(private readonly maxEntries = 10_000) {}

  /** The cached challenge and the next nc for it, or null if this endpoint has none yet. */
  next(endpointId: string): { challenge: DigestChallenge; nc: number } | null {
    const entry = this.entries.get(endpointId);
    if (!entry) return null;
    entry.nc += 1;
    return { challenge: entry.challenge, nc: entry.nc };
  }

  /** Keeps a fresh challenge and returns nc 1 for the request about to answer it. */
  remember(endpointId: string, challenge: DigestChallenge): { challenge: DigestChallenge; nc: number } {
    const current = this.entries.get(endpointId);
    if (current && current.challenge.nonce === challenge.nonce) {
      current.nc += 1;
      return { challenge: current.challenge, nc: current.nc };
    }
    this.entries.delete(endpointId);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    const entry = { challenge: { ...challenge, stale: false }, nc: 1 };
    this.entries.set(endpointId, entry);
    return { challenge: entry.challenge, nc: 1 };
  }

  /** Endpoints with a session kept (for tests and the curious). */
  get size(): number {
    return this.entries.size;
  }

  forget(endpointId: string): void {
    this.entries.delete(endpointId);
  }

  /** Drops every session (the endpoint-change messages sent while the worker was disconnected are lost). */
  clear(): void {
    this.entries.clear();
  }
}
