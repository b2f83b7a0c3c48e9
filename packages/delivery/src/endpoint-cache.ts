import type Redis from 'ioredis';
import type { Endpoint } from '@hookrelay/contracts';
import type { EndpointStore, Keys } from '@hookrelay/store';

export interface EndpointSource {
  /**
   * The endpoint, or null once deleted. `atLeastVersion`: the endpoint's version as the attempt's
   * own Redis read saw it (load-for-attempts.lua); a copy older than that is not used.
   */
  get(id: string, atLeastVersion?: number): Promise<Endpoint | null>;
}

export interface EndpointCacheOptions {
  store: Pick<EndpointStore, 'getVersioned'>;
  keys: Keys;
  /** A connection of its own: once subscribed, a Redis connection can do nothing else. */
  subscriber: Redis;
  /** Longest a cached copy is trusted without hearing of a change. @defaultValue 5000 */
  ttlMs?: number;
  now?: () => number;
  /** Called once a change message has been applied (tests wait on it). */
  onChange?: (id: string) => void;
  /** Called on each reconnect, when changes may have been missed (onChange was not called for them). */
  onResync?: () => void;
}

interface Versioned {
  endpoint: Endpoint | null;
  version: number;
}

/**
 * The worker reads an endpoint for every attempt; caching saves a Redis round trip per delivery.
 * Every change bumps the endpoint's version in the same transaction that writes it, and the
 * attempt's own read (load-for-attempts.lua) returns that version, so a copy older than the change
 * is never used for an attempt that starts after the change was acknowledged (a disabled or
 * re-pointed endpoint gets no delivery from a stale copy), whatever pub/sub does. Change messages
 * drop cached copies early, and a load that was under way when a change was announced is used for
 * its own caller but not kept (it may have read the endpoint before the change); the TTL bounds
 * what is kept without a version to check it against.
 */
export class EndpointCache implements EndpointSource {
  private readonly entries = new Map<string, Versioned & { expiresAt: number }>();
  private readonly inflight = new Map<string, Promise<Versioned>>();
  /**
   * Per endpoint with loads running: how many run, and the change messages (and reconnects) heard
   * for it meanwhile; a load is kept only if none arrived while it ran. Counted per endpoint, not
   * for all: with one counter, a subscriber changing its own endpoints a thousand times a second
   * kept every other subscriber's loads out of the cache, each attempt reading its endpoint from
   * Redis and opening its secrets again. An entry lives only while its loads run.
   */
  private readonly loading = new Map<string, { running: number; changes: number }>();
  private readonly ttlMs: number;
  private readonly now: () => number;
  /**
   * Expired copies are dropped when the cache has grown to this many (then to twice what is left,
   * at least SWEEP_FROM): without it every endpoint the worker ever loaded stayed, its secrets open
   * in memory, until the process ended (the deleted ones as a `null` each), growing with every
   * subscriber's endpoint churn for the process's life.
   */
  private sweepAt = SWEEP_FROM;

  private constructor(private readonly options: EndpointCacheOptions) {
    this.ttlMs = options.ttlMs ?? 5000;
    this.now = options.now ?? Date.now;
  }

  static async start(options: EndpointCacheOptions): Promise<EndpointCache> {
    const cache = new EndpointCache(options);
    const channel = options.keys.endpointChanges();
    options.subscriber.on('message', (ch: string, id: string) => {
      if (ch !== channel) return;
      cache.forget(id);
      options.onChange?.(id);
    });
    // Messages sent while disconnected are lost: forget everything on reconnect.
    options.subscriber.on('ready', () => {
      for (const state of cache.loading.values()) state.changes++;
      cache.entries.clear();
      cache.inflight.clear();
      options.onResync?.();
    });
    // A SUBSCRIBE sent in ioredis's "connect" status (socket open, its ready check not yet run)
    // is written at once, and the INFO of the ready check that follows then fails in subscriber
    // mode: ioredis reconnects and, never having been ready, does not subscribe again, so the
    // cache heard no change for the process's life (redis/ioredis#2037). Subscribe once ready.
    if (options.subscriber.status === 'connect') await untilReady(options.subscriber);
    await options.subscriber.subscribe(channel);
    return cache;
  }

  async get(id: string, atLeastVersion = 0): Promise<Endpoint | null> {
    const hit = this.entries.get(id);
    if (hit && hit.expiresAt > this.now() && hit.version >= atLeastVersion) return hit.endpoint;
    let loaded = await this.load(id, false);
    // A load shared with an earlier caller may predate the version this caller saw.
    if (loaded.version < atLeastVersion) loaded = await this.load(id, true);
    return loaded.endpoint;
  }

  invalidate(id: string): void {
    this.forget(id);
  }

  async close(): Promise<void> {
    await this.options.subscriber.unsubscribe().catch(() => undefined);
  }

  /** Copies kept now, expired or not (for tests and the curious). */
  get size(): number {
    return this.entries.size;
  }

  /** Drops the expired copies; the next sweep comes at twice what is left. */
  private sweep(): void {
    const now = this.now();
    for (const [id, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(id);
    this.sweepAt = Math.max(SWEEP_FROM, 2 * this.entries.size);
  }

  private forget(id: string): void {
    const state = this.loading.get(id);
    if (state) state.changes++;
    this.entries.delete(id);
    this.inflight.delete(id);
  }

  private load(id: string, fresh: boolean): Promise<Versioned> {
    const pending = fresh ? undefined : this.inflight.get(id);
    if (pending) return pending;
    let state = this.loading.get(id);
    if (!state) this.loading.set(id, (state = { running: 0, changes: 0 }));
    state.running++;
    const changesAtStart = state.changes;
    const load = this.options.store.getVersioned(id).then((loaded) => {
      const kept = this.entries.get(id);
      if (state.changes === changesAtStart && (!kept || kept.version <= loaded.version)) {
        this.entries.set(id, { ...loaded, expiresAt: this.now() + this.ttlMs });
        if (this.entries.size >= this.sweepAt) this.sweep();
      }
      return loaded;
    });
    const settled = load.finally(() => {
      if (this.inflight.get(id) === settled) this.inflight.delete(id);
      if (--state.running === 0 && this.loading.get(id) === state) this.loading.delete(id);
    });
    this.inflight.set(id, settled);
    return settled;
  }
}

/** The cache is first swept of expired copies at this many. */
const SWEEP_FROM = 1024;

/** Resolves when `redis` is ready; fails if it ends first. */
function untilReady(redis: Redis): Promise<void> {
  return new Promise((resolve, reject) => {
    const onReady = () => {
      redis.off('end', onEnd);
      resolve();
    };
    const onEnd = () => {
      redis.off('ready', onReady);
      reject(new Error('the Redis connection closed before it was ready'));
    };
    redis.once('ready', onReady).once('end', onEnd);
  });
}
