import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import { isIdOf } from '@hookrelay/contracts';
import type { Keys } from './keys';

export interface Subscriber {
  id: string;
  name: string;
  createdAt: number;
}

/**
 * What one subscriber may use. The server's defaults come from configuration; the admin may
 * override each one per subscriber.
 */
export interface SubscriberLimits {
  /** Endpoints it may have at once (deleted ones do not count). */
  maxEndpoints: number;
  /** Inbound sources it may have at once. */
  maxSources: number;
  /** Events it may publish per second, across all API processes; 0 for no limit. */
  eventsPerSecond: number;
  /**
   * Endpoints it may have deleted within the retention period: each stays in its history (an
   * index entry, its version and scheduler settings) until then, so creating past it is refused.
   */
  maxDeletedEndpoints: number;
  /**
   * Requests to all of its source URLs together per second and per minute, counted before
   * verification (each source has its own limit too, and what that refuses does not count here):
   * what its senders can make the API verify and record.
   */
  sourceRequestsPerSecond: number;
  sourceRequestsPerMinute: number;
  /**
   * Its work budget, across all API processes: units (about one record read, ~10 us of Redis)
   * refilled per second, and the most it holds. Heavy requests it makes (recovers, filtered
   * listings, replays, retries, test sends) are charged by the work they did.
   */
  workUnitsPerSecond: number;
  workUnitsBurst: number;
  /**
   * Bytes it may have written within the retention period that Redis keeps for that long (its
   * events, their deliveries and attempts; stored-bytes.lua counts them); 0 for no limit. Over it,
   * its publishes are refused; a tenth over it, its deliveries wait.
   */
  maxStoredBytes: number;
}

export const SUBSCRIBER_LIMIT_NAMES = [
  'maxEndpoints',
  'maxSources',
  'eventsPerSecond',
  'maxDeletedEndpoints',
  'sourceRequestsPerSecond',
  'sourceRequestsPerMinute',
  'workUnitsPerSecond',
  'workUnitsBurst',
  'maxStoredBytes',
] as const satisfies ReadonlyArray<keyof SubscriberLimits>;

export type ApiKeyRole = 'subscriber' | 'publisher';

export interface ApiKeyRecord {
  id: string;
  role: ApiKeyRole;
  /** Set for subscriber keys: the one subscriber the key may act for. */
  subscriberId?: string;
  createdAt: number;
  /** A revoked key authenticates nothing. */
  revokedAt?: number;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

const SEEN_SUBSCRIBERS = 100_000;

/**
 * How long a process may act on an API key it looked up: every request presents one, and reading it
 * each time was one of a publish's three round trips to Redis. A revocation therefore reaches other
 * API processes within this (the process that revokes forgets its copies at once), the same bound
 * the per-subscriber limits have (SubscriberLimitsReader). Unknown keys are not kept: a key made in
 * another process works at once.
 */
export const API_KEY_CACHE_MS = 1000;
const CACHED_API_KEYS = 10_000;

/** Subscribers and the API keys that act for them. Keys are stored only as SHA-256 hashes. */
export class SubscriberStore {
  /**
   * Subscribers this process has seen exist. There is no deleting a subscriber, so once seen one
   * stays, and every route naming a subscriber skips a round trip. Bounded: cleared past the cap.
   */
  private readonly seen = new Set<string>();
  /** Keys found lately, by hash, with when they were read. */
  private readonly foundKeys = new Map<string, { at: number; record: ApiKeyRecord }>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly now: () => number = Date.now,
  ) {}

  async create(subscriber: Subscriber, key: { plain: string; record: ApiKeyRecord }): Promise<void> {
    await this.redis
      .multi()
      .set(this.keys.subscriber(subscriber.id), JSON.stringify(subscriber))
      .zadd(this.keys.subscribers(), subscriber.createdAt, subscriber.id)
      .set(this.keys.apiKey(hashApiKey(key.plain)), JSON.stringify(key.record))
      .hset(this.keys.apiKeysById(), key.record.id, hashApiKey(key.plain))
      .exec();
  }

  /**
   * Whether a subscriber record has this id. Exact: an id that is not a subscriber id is refused
   * before it names a key, and the record itself is read, not "any key by that name": before,
   * `EXISTS <prefix>:sub:<sid>` took `<sid>:eps` (the subscriber's endpoint set) for a subscriber.
   */
  async exists(id: string): Promise<boolean> {
    if (this.seen.has(id)) return true;
    const found = (await this.get(id))?.id === id;
    if (found) {
      if (this.seen.size >= SEEN_SUBSCRIBERS) this.seen.clear();
      this.seen.add(id);
    }
    return found;
  }

  async get(id: string): Promise<Subscriber | null> {
    if (!isIdOf('sub', id)) return null;
    const raw = await this.redis.get(this.keys.subscriber(id));
    return raw ? (JSON.parse(raw) as Subscriber) : null;
  }

  /** Changes the name; null when there is no such subscriber. */
  async rename(id: string, name: string): Promise<Subscriber | null> {
    const current = await this.get(id);
    if (!current) return null;
    const next = { ...current, name };
    await this.redis.set(this.keys.subscriber(id), JSON.stringify(next));
    return next;
  }

  /** The limits the admin set for this subscriber, each apart from the server's default. */
  async limitOverrides(id: string): Promise<Partial<SubscriberLimits>> {
    const raw = await this.redis.hgetall(this.keys.subscriberLimits(id));
    const out: Partial<SubscriberLimits> = {};
    for (const name of SUBSCRIBER_LIMIT_NAMES) {
      const value = Number(raw[name]);
      if (raw[name] !== undefined && Number.isSafeInteger(value) && value >= 0) out[name] = value;
    }
    return out;
  }

  /** Sets overrides (a number) and removes them (null: back to the server's default), field by field. */
  async setLimitOverrides(id: string, changes: { [K in keyof SubscriberLimits]?: number | null }): Promise<void> {
    const key = this.keys.subscriberLimits(id);
    const set = Object.entries(changes).filter((e): e is [string, number] => typeof e[1] === 'number');
    const clear = Object.entries(changes)
      .filter(([, v]) => v === null)
      .map(([k]) => k);
    const multi = this.redis.multi();
    if (set.length > 0) multi.hset(key, ...set.flat());
    if (clear.length > 0) multi.hdel(key, ...clear);
    await multi.exec();
  }

  async list(): Promise<Subscriber[]> {
    const ids = await this.redis.zrange(this.keys.subscribers(), 0, -1);
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.keys.subscriber(id)));
    return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as Subscriber);
  }

  async saveApiKey(plain: string, record: ApiKeyRecord): Promise<void> {
    const hash = hashApiKey(plain);
    await this.redis.multi().set(this.keys.apiKey(hash), JSON.stringify(record)).hset(this.keys.apiKeysById(), record.id, hash).exec();
  }

  /** Every key's record (never the key itself), oldest first. */
  async listApiKeys(): Promise<ApiKeyRecord[]> {
    const hashes = Object.values(await this.redis.hgetall(this.keys.apiKeysById()));
    if (hashes.length === 0) return [];
    const raws = await this.redis.mget(hashes.map((h) => this.keys.apiKey(h)));
    return raws
      .filter((r): r is string => r !== null)
      .map((r) => JSON.parse(r) as ApiKeyRecord)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  /**
   * Marks a key revoked: from now on it authenticates nothing in this process, and within
   * API_KEY_CACHE_MS in every other. Null when no key has that id.
   */
  async revokeApiKey(id: string, nowMs: number): Promise<ApiKeyRecord | null> {
    const hash = await this.redis.hget(this.keys.apiKeysById(), id);
    const raw = hash ? await this.redis.get(this.keys.apiKey(hash)) : null;
    if (!hash || !raw) return null;
    const record = JSON.parse(raw) as ApiKeyRecord;
    const revoked = { ...record, revokedAt: record.revokedAt ?? nowMs };
    await this.redis.set(this.keys.apiKey(hash), JSON.stringify(revoked));
    this.foundKeys.delete(hash);
    return revoked;
  }

  /**
   * Looks a presented key up by its SHA-256 in hex (`hashApiKey`); an unknown key and a wrong key
   * look the same.
   */
  async findApiKey(keyHash: string): Promise<ApiKeyRecord | null> {
    const now = this.now();
    const hit = this.foundKeys.get(keyHash);
    if (hit && now - hit.at < API_KEY_CACHE_MS && now >= hit.at) return hit.record;
    const raw = await this.redis.get(this.keys.apiKey(keyHash));
    if (!raw) {
      this.foundKeys.delete(keyHash);
      return null;
    }
    const record = JSON.parse(raw) as ApiKeyRecord;
    if (this.foundKeys.size >= CACHED_API_KEYS) this.foundKeys.clear();
    this.foundKeys.set(keyHash, { at: now, record });
    return record;
  }
}
