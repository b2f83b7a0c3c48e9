import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';
import type { SecretBox, SecretUnreadableError } from '@hookrelay/secrets';
import { pageByCreation, type Page } from './creation-order-page';
import type { Keys } from './keys';
import { appendToLog, defineHistoryLogCommands, pageLogNewestFirst, type NewestFirstPage, type TimeWindow } from './history-log';
import { openReadableSecrets, openSecrets, sealSecrets } from './record-secrets';

const CREATE_SOURCE = readFileSync(join(__dirname, 'create-source-3.lua'), 'utf8');
const TAKE_INGEST_RATE = readFileSync(join(__dirname, 'take-ingest-rate-4.lua'), 'utf8');

/**
 * A change to a source, and its first verification, are written only while the source exists: a
 * PATCH or a request that read the source before its DELETE would otherwise bring back the record,
 * its index entry and its ingest token (the deleted URL taking requests again), or leave a
 * verified mark with no expiry. KEYS: the source record, then what to write; returns 1 when written.
 */
const SAVE_SOURCE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('SET', KEYS[3], ARGV[2])
return 1`;
const MARK_SOURCE_VERIFIED = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'NX')
return 1`;

/** A source's record, index and token keys, then its JSON, id and creation time. */
type SourceWrite = [record: string, index: string, token: string, json: string, id: string, createdAt: number];

type SourceRedis = Redis & {
  hookrelayCreateSource(...args: [...SourceWrite, quota: number]): Promise<number>;
  hookrelaySaveSource(...args: SourceWrite): Promise<number>;
  hookrelayMarkSourceVerified(record: string, verified: string, at: string): Promise<number>;
  hookrelayTakeIngestRate(...args: [...keys: [string, string, string, string], ...limits: number[]]): Promise<0 | [number, number]>;
};

/** What the store needs of a source; the API owns the rest of its shape (verification, matches, ...). */
export interface SourceBase {
  id: string;
  subscriberId: string;
  /** The secret part of the ingest URL `/in/<token>`; looked up by its SHA-256, stored sealed. */
  token: string;
  createdAt: number;
}

/** A stored source record: its secrets sealed, and the token's hash, so it can be deleted unopened. */
type StoredSource = Record<string, unknown> & { id: string; subscriberId: string; tokenHash?: string; token?: unknown };

/** `duplicate`: a replay of a request already published (same signature in its window, or same dedupe key). */
export type SourceRequestOutcome = 'published' | 'ignored' | 'rejected' | 'duplicate';

/** Who holds a replay key: nobody (the claim is the caller's), a publish in progress, or the event it published. */
export type ReplayClaim =
  { claimed: true; release(): Promise<void>; confirm(eventId: string): Promise<void> } | { claimed: false; eventId: string | null };

const PENDING = 'pending:';

/**
 * A claim whose publish has not finished holds for this long at most: if its process died, a copy
 * arriving later is not refused for the whole window (same reasoning as IDEMPOTENCY_CLAIM_PENDING_MS).
 */
export const REPLAY_CLAIM_PENDING_MS = 30_000;

/** KEYS: the claim; ARGV: pending value, pending ttl ms. Nil when claimed, else the holder's value. */
const CLAIM_REPLAY = `
if redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]), 'NX') then return false end
return redis.call('GET', KEYS[1])`;

/** KEYS: the claim; ARGV: our pending value, the event id, the window's ttl ms. */
const CONFIRM_REPLAY = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', tonumber(ARGV[3]))
return 1`;

/** KEYS: the claim; ARGV: the value that must still be there. */
const DELETE_IF = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** One inbound request as the source's history shows it. */
export interface SourceRequestRecord {
  id: string;
  at: number;
  method: string;
  /** The HTTP status the sender was answered. */
  status: number;
  outcome: SourceRequestOutcome;
  reason?: string;
  /** The event it published (the first, when it published several). */
  eventId?: string;
  /**
   * The first SOURCE_HISTORY_EVENT_IDS events a split SendGrid body published (unless it published
   * exactly one and skipped none); `eventCount` says how many it published.
   */
  eventIds?: string[];
  eventCount?: number;
  bytes: number;
}

/**
 * Event ids one history record keeps: a split SendGrid body publishes up to 5,000, and keeping them
 * all made a record ~165 KB, a source's history ~197 MB and one page of it 33 MB (2 s of the shared
 * process). The answer to the sender still carries every id.
 */
export const SOURCE_HISTORY_EVENT_IDS = 20;

export interface RateWindowLimits {
  perSecond: number;
  perMinute: number;
}

/**
 * Null when under every limit, else which refused the request and how long the sender should wait.
 * `scope`: the source's own limit, or its subscriber's across all of its sources. `first`: the
 * window's first refused request (the history records only that one: a flood of refused requests
 * is otherwise one Redis write each).
 */
export type RateVerdict = null | {
  retryAfterSeconds: number;
  window: 'second' | 'minute';
  scope: 'source' | 'subscriber';
  /** The limit the window holds. */
  limit: number;
  first: boolean;
};

/** Sources a listing reads at once (records and verified marks, one MGET): ~265 KB at most. */
const LIST_READ_SOURCES = 10;

/** Oldest entries beyond this are trimmed: the history is for diagnosis, not an archive. */
export const SOURCE_HISTORY_CAP = 1000;

/** How long a rate window's counter (and its first-refusal mark) is kept: twice the window. */
const SECOND_WINDOW_KEPT_MS = 2000;
const MINUTE_WINDOW_KEPT_MS = 120_000;

export function hashSourceToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * A listed source: its secrets opened, or, where one could not be, that one null and the reason;
 * and when a request first passed its verification (null while unverified).
 */
export interface ListedSource<T> {
  source: T;
  unreadable: SecretUnreadableError | null;
  verifiedAt: number | null;
}

/**
 * Inbound sources: the record (JSON, its secrets sealed: record-secrets.ts), a per-subscriber index,
 * the token lookup, the verified mark (its own key, so marking never races a PATCH of the record),
 * the request history, the rate counters and the replay claims.
 */
export class SourceStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly retentionMs: number,
    private readonly now: () => number,
    private readonly box: SecretBox,
  ) {
    if (!('hookrelayCreateSource' in redis)) {
      redis.defineCommand('hookrelayCreateSource', { numberOfKeys: 3, lua: CREATE_SOURCE });
      redis.defineCommand('hookrelaySaveSource', { numberOfKeys: 3, lua: SAVE_SOURCE });
      redis.defineCommand('hookrelayMarkSourceVerified', { numberOfKeys: 2, lua: MARK_SOURCE_VERIFIED });
      redis.defineCommand('hookrelayTakeIngestRate', { numberOfKeys: 4, lua: TAKE_INGEST_RATE });
    }
    // recordRequest's, here with the rest: see defineHistoryLogCommands.
    defineHistoryLogCommands(redis);
  }

  /** The record as stored: its secrets sealed, with the token's hash so it can be deleted unopened. */
  private seal(source: SourceBase): { json: string; tokenHash: string } {
    const tokenHash = hashSourceToken(source.token);
    const sealed = sealSecrets(this.box, 'source', { recordId: source.id, subscriberId: source.subscriberId }, source);
    return { json: JSON.stringify({ ...sealed, tokenHash }), tokenHash };
  }

  /**
   * Stores a new source unless its subscriber already has `quota` of them; false when it has.
   * Checked and written in one script, so concurrent creates cannot pass the quota together.
   */
  async create(source: SourceBase, quota: number): Promise<boolean> {
    return (await (this.redis as SourceRedis).hookrelayCreateSource(...this.writeOf(source), quota)) === 1;
  }

  /**
   * Stores a changed source (new ones go through create, which holds the quota); false, with nothing
   * written, when it has been deleted since the caller read it.
   */
  async save(source: SourceBase): Promise<boolean> {
    return (await (this.redis as SourceRedis).hookrelaySaveSource(...this.writeOf(source))) === 1;
  }

  /** The keys and arguments create-source-3.lua and SAVE_SOURCE write a source with. */
  private writeOf(source: SourceBase): SourceWrite {
    const { json, tokenHash } = this.seal(source);
    return [
      this.keys.source(source.id),
      this.keys.subscriberSources(source.subscriberId),
      this.keys.sourceToken(tokenHash),
      json,
      source.id,
      source.createdAt,
    ];
  }

  /**
   * The record as saved, its secrets opened (SecretUnreadableError when one cannot be); the caller
   * names its full type (the store only reads the base fields).
   */
  async get<T extends SourceBase = SourceBase>(id: string): Promise<T | null> {
    const stored = await this.stored(id);
    return stored ? this.open<T>(stored) : null;
  }

  /** Whose source it is, read without opening any secret (deleting, reading its history). */
  async getOwner(id: string): Promise<Pick<SourceBase, 'id' | 'subscriberId'> | null> {
    const stored = await this.stored(id);
    return stored ? { id: stored.id, subscriberId: stored.subscriberId } : null;
  }

  private async stored(id: string): Promise<StoredSource | null> {
    const raw = await this.redis.get(this.keys.source(id));
    return raw ? (JSON.parse(raw) as StoredSource) : null;
  }

  /**
   * `stored` just parsed from Redis, its secrets opened in place: every caller passes a record it
   * parsed for this call and shares with nobody, so no copy is made (see OpenSecretsOptions.owned:
   * findByToken runs on every request to a source's URL, before its rate limit).
   */
  private open<T extends SourceBase>(stored: StoredSource): T {
    const { tokenHash: _hash, ...record } = stored;
    return openSecrets<T>(this.box, 'source', { recordId: stored.id, subscriberId: stored.subscriberId }, record, { owned: true });
  }

  /** As `open`, for a list: what cannot be opened is null, and the reason comes with it. */
  private openReadable<T extends SourceBase>(stored: StoredSource): Omit<ListedSource<T>, 'verifiedAt'> {
    const { tokenHash: _hash, ...record } = stored;
    const identity = { recordId: stored.id, subscriberId: stored.subscriberId };
    const opened = openReadableSecrets(this.box, 'source', identity, record, { owned: true });
    return { source: opened.record as unknown as T, unreadable: opened.unreadable };
  }

  async findByToken<T extends SourceBase = SourceBase>(token: string): Promise<T | null> {
    const id = await this.redis.get(this.keys.sourceToken(hashSourceToken(token)));
    const source = id ? await this.get<T>(id) : null;
    // Defence in depth: the record must still name this token (a stale lookup key never matches).
    return source && source.token === token ? source : null;
  }

  /** Deletes a source without opening its secrets (the token's lookup key is found by the stored hash). */
  async delete(source: Pick<SourceBase, 'id' | 'subscriberId'>): Promise<void> {
    const stored = await this.stored(source.id);
    // Records written before the hash was stored hold the token as plain text.
    const tokenHash = stored?.tokenHash ?? (typeof stored?.token === 'string' ? hashSourceToken(stored.token) : undefined);
    const multi = this.redis
      .multi()
      .del(this.keys.source(source.id), this.keys.sourceVerified(source.id), this.keys.sourceRequests(source.id))
      .zrem(this.keys.subscriberSources(source.subscriberId), source.id);
    if (tokenHash) multi.del(this.keys.sourceToken(tokenHash));
    await multi.exec();
  }

  /**
   * A page of a subscriber's sources, oldest first, for listing; the cursor is the last source's
   * position (creation time and id), as the endpoints' is (pageByCreation), so sources deleted or
   * created between pages make none repeat and none skipped. A source whose secrets cannot all be
   * opened (a key removed too early, a tampered record) is listed too, with those secrets null and
   * the reason in `unreadable`: one such source must not hide the others.
   */
  async list<T extends SourceBase = SourceBase>(
    subscriberId: string,
    opts: { limit: number; cursor?: string },
  ): Promise<Page<ListedSource<T>>> {
    const page = await pageByCreation(this.redis, this.keys.subscriberSources(subscriberId), opts);
    const ids = page.items;
    const listed: Array<ListedSource<T>> = [];
    let storedChars = 0;
    // The records and their verified marks in one read per LIST_READ_SOURCES: a mark each, read
    // apart, was 50 more round trips for the quota's 50 sources; all 50 at once (1.3 MB with the
    // largest `matches`) were parsed in one turn of the event loop, which every subscriber shares.
    for (let at = 0; at < ids.length; at += LIST_READ_SOURCES) {
      const chunk = ids.slice(at, at + LIST_READ_SOURCES);
      const raws = await this.redis.mget([...chunk.map((id) => this.keys.source(id)), ...chunk.map((id) => this.keys.sourceVerified(id))]);
      chunk.forEach((_id, i) => {
        const raw = raws[i];
        if (!raw) return; // deleted between the index read and this one
        storedChars += raw.length;
        const mark = raws[chunk.length + i];
        listed.push({ ...this.openReadable<T>(JSON.parse(raw) as StoredSource), verifiedAt: mark == null ? null : Number(mark) });
      });
    }
    return { ...page, items: listed, storedChars };
  }

  async count(subscriberId: string): Promise<number> {
    return this.redis.zcard(this.keys.subscriberSources(subscriberId));
  }

  /** Epoch ms of the first request that passed verification, or null while unverified. */
  async verifiedAt(id: string): Promise<number | null> {
    const raw = await this.redis.get(this.keys.sourceVerified(id));
    return raw === null ? null : Number(raw);
  }

  /** Marks the source verified once, while it exists; later calls keep the first time. */
  async markVerified(id: string, at: number): Promise<void> {
    await (this.redis as SourceRedis).hookrelayMarkSourceVerified(this.keys.source(id), this.keys.sourceVerified(id), String(at));
  }

  /** Back to unverified, e.g. when the verification config changes. */
  async clearVerified(id: string): Promise<void> {
    await this.redis.del(this.keys.sourceVerified(id));
  }

  /**
   * Counts one request to the source's URL in fixed one-second and one-minute windows, the
   * source's and, when the source's admit it, its subscriber's across all of its sources
   * (`subscriberLimits`), in one script call (take-ingest-rate-4.lua): one round trip, a refusal's
   * first-refusal mark included. Refused requests count too, so a sender that ignores 429 stays
   * limited.
   */
  async hitRateLimit(
    source: Pick<SourceBase, 'id' | 'subscriberId'>,
    limits: RateWindowLimits,
    subscriberLimits: RateWindowLimits,
  ): Promise<RateVerdict> {
    const now = this.now();
    const second = Math.floor(now / 1000);
    const minute = Math.floor(now / 60_000);
    const verdict = await (this.redis as SourceRedis).hookrelayTakeIngestRate(
      this.keys.sourceRate(source.id, `s${second}`),
      this.keys.sourceRate(source.id, `m${minute}`),
      this.keys.subscriberSourceRate(source.subscriberId, `s${second}`),
      this.keys.subscriberSourceRate(source.subscriberId, `m${minute}`),
      limits.perSecond,
      limits.perMinute,
      subscriberLimits.perSecond,
      subscriberLimits.perMinute,
      SECOND_WINDOW_KEPT_MS,
      MINUTE_WINDOW_KEPT_MS,
    );
    if (verdict === 0) return null;
    const [refusing, first] = verdict;
    const window = refusing % 2 === 1 ? 'second' : 'minute';
    const scope = refusing <= 2 ? 'source' : 'subscriber';
    const within = scope === 'source' ? limits : subscriberLimits;
    return {
      window,
      scope,
      limit: window === 'second' ? within.perSecond : within.perMinute,
      retryAfterSeconds: window === 'second' ? 1 : Math.max(1, Math.ceil(((minute + 1) * 60_000 - now) / 1000)),
      first: first === 1,
    };
  }

  /**
   * Claims a replay key (a signature already accepted, a dedupe header's value) for `windowMs`, the
   * time in which a copy is refused: one SET NX with an expiry, so two copies racing each other
   * publish once, and storage stays bounded by what was published within a window. While the
   * claimer publishes, the claim holds for REPLAY_CLAIM_PENDING_MS at most; it then confirms with
   * the event it published (the claim holds the window), or releases when it published nothing, so
   * the next copy is answered as the first was. With `endsWithRetention`, a claim lasts no longer
   * than the retention period either: the subscriber chooses a dedupe header's window (up to a
   * week), and a claim that outlived the event it guards would be storage the events' own expiry
   * does not bound. A signature's claim keeps its window (its tolerance, at most a day) whatever the
   * retention: a replay must be refused for as long as its timestamp would pass.
   */
  async claimReplay(
    sourceId: string,
    replayKey: string,
    windowMs: number,
    opts: { endsWithRetention?: boolean } = {},
  ): Promise<ReplayClaim> {
    const key = this.keys.sourceReplay(sourceId, createHash('sha256').update(replayKey).digest('hex'));
    const pending = `${PENDING}${randomUUID()}`;
    const ttlMs = Math.max(1, Math.ceil(opts.endsWithRetention ? Math.min(windowMs, this.retentionMs) : windowMs));
    const holder = (await this.redis.eval(CLAIM_REPLAY, 1, key, pending, Math.min(ttlMs, REPLAY_CLAIM_PENDING_MS))) as string | null;
    if (holder === null) {
      return {
        claimed: true,
        confirm: async (eventId) => {
          await this.redis.eval(CONFIRM_REPLAY, 1, key, pending, eventId, ttlMs);
        },
        release: async () => {
          await this.redis.eval(DELETE_IF, 1, key, pending);
        },
      };
    }
    return { claimed: false, eventId: holder.startsWith(PENDING) ? null : holder };
  }

  /**
   * Appends to the source's history, trimming by age (the store's retention, like deliveries) and
   * by count, and refreshing the key's expiry so an idle source's history disappears on its own.
   * Only while the source exists: a request read before its source was deleted ends after it.
   */
  async recordRequest(sourceId: string, record: SourceRequestRecord): Promise<void> {
    await appendToLog(
      this.redis,
      this.keys.sourceRequests(sourceId),
      { ms: record.at, retentionMs: this.retentionMs, nowMs: this.now(), maxLen: SOURCE_HISTORY_CAP },
      JSON.stringify(record),
      this.keys.source(sourceId),
    );
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
