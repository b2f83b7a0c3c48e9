import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';
import type { Keys } from './keys';
import { appendToLog, pageLogNewestFirst, type NewestFirstPage, type TimeWindow } from './history-log';

const CREATE_SOURCE = readFileSync(join(__dirname, 'create-source-3.lua'), 'utf8');

type SourceRedis = Redis & { hookrelayCreateSource(record: string, index: string, token: string, json: string, id: string, createdAt: number, quota: number): Promise<number> };

/** What the store needs of a source; the API owns the rest of its shape (verification, matches, ...). */
export interface SourceBase {
  id: string;
  subscriberId: string;
  /** The secret part of the ingest URL `/in/<token>`; looked up by its SHA-256 only. */
  token: string;
  createdAt: number;
}

export type SourceRequestOutcome = 'published' | 'ignored' | 'rejected';

/** One inbound request as the source's history shows it. */
export interface SourceRequestRecord {
  id: string;
  at: number;
  method: string;
  /** The HTTP status the sender was answered. */
  status: number;
  outcome: SourceRequestOutcome;
  reason?: string;
  eventId?: string;
  bytes: number;
}

export interface RateWindowLimits {
  perSecond: number;
  perMinute: number;
}

/** Null when under both limits, else how long the sender should wait. */
export type RateVerdict = null | { retryAfterSeconds: number; window: 'second' | 'minute' };

/** Oldest entries beyond this are trimmed: the history is for diagnosis, not an archive. */
export const SOURCE_HISTORY_CAP = 1000;

export function hashSourceToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Inbound sources: the record (JSON), a per-subscriber index, the token lookup, the verified mark
 * (its own key, so marking never races a PATCH of the record), the request history and the rate
 * counters.
 */
export class SourceStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly retentionMs: number,
    private readonly now: () => number,
  ) {
    if (!('hookrelayCreateSource' in redis)) redis.defineCommand('hookrelayCreateSource', { numberOfKeys: 3, lua: CREATE_SOURCE });
  }

  /**
   * Stores a new source unless its subscriber already has `quota` of them; false when it has.
   * Checked and written in one script, so concurrent creates cannot pass the quota together.
   */
  async create(source: SourceBase, quota: number): Promise<boolean> {
    const created = await (this.redis as SourceRedis).hookrelayCreateSource(
      this.keys.source(source.id),
      this.keys.subscriberSources(source.subscriberId),
      this.keys.sourceToken(hashSourceToken(source.token)),
      JSON.stringify(source),
      source.id,
      source.createdAt,
      quota,
    );
    return created === 1;
  }

  /** Stores a changed source (new ones go through create, which holds the quota). */
  async save(source: SourceBase): Promise<void> {
    await this.redis
      .multi()
      .set(this.keys.source(source.id), JSON.stringify(source))
      .zadd(this.keys.subscriberSources(source.subscriberId), source.createdAt, source.id)
      .set(this.keys.sourceToken(hashSourceToken(source.token)), source.id)
      .exec();
  }

  /** The record as saved; the caller names its full type (the store only reads the base fields). */
  async get<T extends SourceBase = SourceBase>(id: string): Promise<T | null> {
    const raw = await this.redis.get(this.keys.source(id));
    return raw ? (JSON.parse(raw) as T) : null;
  }

  async findByToken<T extends SourceBase = SourceBase>(token: string): Promise<T | null> {
    const id = await this.redis.get(this.keys.sourceToken(hashSourceToken(token)));
    const source = id ? await this.get<T>(id) : null;
    // Defence in depth: the record must still name this token (a stale lookup key never matches).
    return source && source.token === token ? source : null;
  }

  async delete(source: SourceBase): Promise<void> {
    await this.redis
      .multi()
      .del(this.keys.source(source.id), this.keys.sourceVerified(source.id), this.keys.sourceRequests(source.id))
      .zrem(this.keys.subscriberSources(source.subscriberId), source.id)
      .del(this.keys.sourceToken(hashSourceToken(source.token)))
      .exec();
  }

  /** All of a subscriber's sources, oldest first. */
  async list<T extends SourceBase = SourceBase>(subscriberId: string): Promise<T[]> {
    const ids = await this.redis.zrange(this.keys.subscriberSources(subscriberId), 0, -1);
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.keys.source(id)));
    return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as T);
  }

  async count(subscriberId: string): Promise<number> {
    return this.redis.zcard(this.keys.subscriberSources(subscriberId));
  }

  /** Epoch ms of the first request that passed verification, or null while unverified. */
  async verifiedAt(id: string): Promise<number | null> {
    const raw = await this.redis.get(this.keys.sourceVerified(id));
    return raw === null ? null : Number(raw);
  }

  /** Marks the source verified once; later calls keep the first time. */
  async markVerified(id: string, at: number): Promise<void> {
    await this.redis.set(this.keys.sourceVerified(id), String(at), 'NX');
  }

  /** Back to unverified, e.g. when the verification config changes. */
  async clearVerified(id: string): Promise<void> {
    await this.redis.del(this.keys.sourceVerified(id));
  }

  /**
   * Counts one request in fixed one-second and one-minute windows. Rejected requests count too, so
   * a sender that ignores 429 stays limited.
   */
  async hitRateLimit(id: string, limits: RateWindowLimits): Promise<RateVerdict> {
    const now = this.now();
    const second = Math.floor(now / 1000);
    const minute = Math.floor(now / 60_000);
    const secondKey = this.keys.sourceRate(id, `s${second}`);
    const minuteKey = this.keys.sourceRate(id, `m${minute}`);
    const replies = await this.redis.multi().incr(secondKey).pexpire(secondKey, 2000).incr(minuteKey).pexpire(minuteKey, 120_000).exec();
    const inSecond = Number(replies?.[0]?.[1] ?? 0);
    const inMinute = Number(replies?.[2]?.[1] ?? 0);
    if (inSecond > limits.perSecond) return { retryAfterSeconds: 1, window: 'second' };
    if (inMinute > limits.perMinute) return { retryAfterSeconds: Math.max(1, Math.ceil(((minute + 1) * 60_000 - now) / 1000)), window: 'minute' };
    return null;
  }

  /**
   * Appends to the source's history, trimming by age (the store's retention, like deliveries) and
   * by count, and refreshing the key's expiry so an idle source's history disappears on its own.
   */
  async recordRequest(sourceId: string, record: SourceRequestRecord): Promise<void> {
    await appendToLog(this.redis, this.keys.sourceRequests(sourceId), { ms: record.at, retentionMs: this.retentionMs, nowMs: this.now(), maxLen: SOURCE_HISTORY_CAP }, JSON.stringify(record));
  }

  /** The history newest first, in pages. */
  async listRequests(
    sourceId: string,
    opts: TimeWindow & { limit: number; cursor?: string; outcome?: SourceRequestOutcome },
  ): Promise<NewestFirstPage<SourceRequestRecord>> {
    return pageLogNewestFirst<SourceRequestRecord>(
      this.redis,
      this.keys.sourceRequests(sourceId),
      opts,
      async (entries) => entries.map((e) => JSON.parse(e) as SourceRequestRecord),
      (r) => !opts.outcome || r.outcome === opts.outcome,
    );
  }
}
