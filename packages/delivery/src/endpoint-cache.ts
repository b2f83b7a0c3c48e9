import type Redis from 'ioredis';
import type { Endpoint } from '@hookrelay/contracts';
import type { EndpointStore, Keys } from '@hookrelay/store';

export interface EndpointSource {
  get(id: string): Promise<Endpoint | null>;
}

export interface EndpointCacheOptions {
  store: EndpointStore;
  keys: Keys;
  /** A connection of its own: once subscribed, a Redis connection can do nothing else. */
  subscriber: Redis;
  /** Longest a cached copy is trusted without hearing of a change. @defaultValue 5000 */
  ttlMs?: number;
  now?: () => number;
}

/**
 * The worker reads an endpoint for every attempt; caching saves a Redis round trip per delivery.
 * Changes are announced on a pub/sub channel and drop the cached copy at once; the TTL bounds the
 * staleness if a message is missed (pub/sub is fire-and-forget, e.g. across a reconnect).
 */
export class EndpointCache implements EndpointSource {
  private readonly entries = new Map<string, { endpoint: Endpoint | null; expiresAt: number }>();
  private readonly inflight = new Map<string, Promise<Endpoint | null>>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  private constructor(private readonly options: EndpointCacheOptions) {
    this.ttlMs = options.ttlMs ?? 5000;
    this.now = options.now ?? Date.now;
  }

  static async start(options: EndpointCacheOptions): Promise<EndpointCache> {
    const cache = new EndpointCache(options);
    const channel = options.keys.endpointChanges();
    options.subscriber.on('message', (ch: string, id: string) => {
      if (ch === channel) cache.entries.delete(id);
    });
    // Messages sent while disconnected are lost: forget everything on reconnect.
    options.subscriber.on('ready', () => cache.entries.clear());
    await options.subscriber.subscribe(channel);
    return cache;
  }

  async get(id: string): Promise<Endpoint | null> {
    const hit = this.entries.get(id);
    if (hit && hit.expiresAt > this.now()) return hit.endpoint;
    const pending = this.inflight.get(id);
    if (pending) return pending;
    const load = this.options.store
      .get(id)
      .then((endpoint) => {
        this.entries.set(id, { endpoint, expiresAt: this.now() + this.ttlMs });
        return endpoint;
      })
      .finally(() => this.inflight.delete(id));
    this.inflight.set(id, load);
    return load;
  }

  invalidate(id: string): void {
    this.entries.delete(id);
  }

  async close(): Promise<void> {
    await this.options.subscriber.unsubscribe().catch(() => undefined);
  }
}
