import { join } from 'node:path';
import type Redis from 'ioredis';
import { summarizeEndpoint, type Endpoint, type EndpointSummary } from '@hookrelay/contracts';
import type { SecretBox } from '@hookrelay/secrets';
import { pageByCreation, type Page } from './creation-order-page';
import type { EndpointHealthStore } from './endpoint-health-store';
import type { EndpointHourlyCounts } from './endpoint-hourly-counts';
import { EndpointStatusIndex } from './endpoint-status-index';
import type { Keys } from './keys';
import { laneScript, type LaneStore } from './lanes/lane-store';
import { openSecrets, sealSecrets } from './record-secrets';
import { ConcurrentChangeError } from './concurrent-change-error';

const CREATE_ENDPOINT = laneScript(join(__dirname, 'create-endpoint-5.lua'));

type EndpointRedis = Redis & { hookrelayCreateEndpoint(...args: Array<string | number>): Promise<number> };

/** Subscribers whose endpoints a process keeps parsed at once. */
const CACHED_SUBSCRIBERS = 10_000;

/**
 * A change to a stored endpoint: the fields named replace the stored ones (secrets among them are
 * sealed), a field set to undefined is removed, every other field is kept as stored, sealed
 * secrets included, so a change that does not touch a secret never needs to read it.
 */
export type EndpointChanges = Partial<Omit<Endpoint, 'id' | 'subscriberId' | 'createdAt'>>;

/** Attempts of one update before giving up on a record that keeps changing under it. */
const UPDATE_ATTEMPTS = 10;

/**
 * Endpoints as JSON strings, indexed per subscriber by creation time, their secrets sealed
 * (record-secrets.ts). Each subscriber's endpoints carry a version, bumped by every change, so a
 * process may keep them parsed between publishes.
 *
 * Two ways to read: `get` opens every secret (SecretUnreadableError when one cannot be), for those
 * that sign, authenticate or reveal; `getSummary`, `list` and `listAll` read no secret at all.
 */
export class EndpointStore {
  /**
   * Subscriber id -> its endpoints as of a version, and each endpoint's own version, so a change
   * rereads only what changed. Bounded: cleared when it grows past the cap.
   */
  private readonly cached = new Map<
    string,
    { version: string; endpoints: readonly EndpointSummary[]; versions: ReadonlyMap<string, string> }
  >();

  /** Endpoint ids by status, kept with every write here: `hookrelay_endpoints` counts from it. */
  readonly byStatus: EndpointStatusIndex;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly lanes: LaneStore,
    private readonly health: EndpointHealthStore,
    private readonly hourlyCounts: EndpointHourlyCounts,
    private readonly retentionMs: number,
    private readonly now: () => number,
    private readonly box: SecretBox,
  ) {
    if (!('hookrelayCreateEndpoint' in redis)) redis.defineCommand('hookrelayCreateEndpoint', { numberOfKeys: 5, lua: CREATE_ENDPOINT });
    this.byStatus = new EndpointStatusIndex(redis, keys);
  }

  private seal(endpoint: Endpoint): string {
    return JSON.stringify(sealSecrets(this.box, 'endpoint', { recordId: endpoint.id, subscriberId: endpoint.subscriberId }, endpoint));
  }

  /**
   * Stores a new endpoint, its secrets sealed under the first key, unless its subscriber already
   * has `quota` of them (deleted ones do not count); false when it has. Checked and written in one
   * script, with the scheduler's copy of its subscriber and rate limit, so concurrent creates
   * cannot pass the quota together.
   */
  async create(endpoint: Endpoint, quota: number): Promise<boolean> {
    const { id, subscriberId, createdAt } = endpoint;
    const created = await (this.redis as EndpointRedis).hookrelayCreateEndpoint(
      this.keys.endpoint(id),
      this.keys.subscriberEndpoints(subscriberId),
      this.keys.subscriberEndpointsVersion(subscriberId),
      this.keys.endpointIds(),
      this.keys.disabledEndpointIds(),
      this.seal(endpoint),
      id,
      createdAt,
      quota,
      this.keys.endpointChanges(),
      this.keys.sched(),
      this.now(),
      subscriberId,
      endpoint.rateLimit?.perSecond ?? '',
      endpoint.status,
    );
    return created === 1;
  }

  /**
   * Writes the whole endpoint, its secrets sealed under the first key, with no quota (tests,
   * fixtures; the API creates through `create` and changes through `update`).
   */
  async save(endpoint: Endpoint): Promise<void> {
    const multi = this.redis.multi();
    // The scheduler's copy of its subscriber and rate limit, written with the endpoint so that a
    // changed limit applies to the deliveries already waiting.
    this.lanes.appendEndpointSettings(multi, endpoint);
    this.byStatus.appendSave(multi, endpoint);
    await multi
      .set(this.keys.endpoint(endpoint.id), this.seal(endpoint))
      .incr(this.keys.endpointVersion(endpoint.id))
      .zadd(this.keys.subscriberEndpoints(endpoint.subscriberId), endpoint.createdAt, endpoint.id)
      .incr(this.keys.subscriberEndpointsVersion(endpoint.subscriberId))
      .publish(this.keys.endpointChanges(), endpoint.id)
      .exec();
  }

  /** True for the one caller that may disable this endpoint now (a 60 s claim). */
  async claimDisable(id: string): Promise<boolean> {
    return (await this.redis.set(`${this.keys.endpoint(id)}:disabling`, '1', 'PX', 60_000, 'NX')) === 'OK';
  }

  /** Re-enabling ends the claim, so the endpoint can be disabled again at once. */
  async releaseDisable(id: string): Promise<void> {
    await this.redis.del(`${this.keys.endpoint(id)}:disabling`);
  }

  /** The endpoint with its secrets opened; SecretUnreadableError when one cannot be decrypted. */
  async get(id: string): Promise<Endpoint | null> {
    const raw = await this.redis.get(this.keys.endpoint(id));
    if (!raw) return null;
    const stored = JSON.parse(raw) as Record<string, unknown>;
    return openSecrets<Endpoint>(this.box, 'endpoint', { recordId: id, subscriberId: String(stored.subscriberId) }, stored);
  }

  /** The endpoint without its secrets: readable whatever state they are in. */
  async getSummary(id: string): Promise<EndpointSummary | null> {
    const raw = await this.redis.get(this.keys.endpoint(id));
    return raw ? summarizeEndpoint(JSON.parse(raw) as Endpoint) : null;
  }

  /**
   * Applies `changes` to the stored record, retrying when another writer (`npm run rekey`, a
   * concurrent PATCH) changed it in between, so neither overwrites the other. Null when the
   * endpoint is gone; ConcurrentChangeError when other writers won every one of the attempts.
   */
  async update(id: string, changes: EndpointChanges): Promise<EndpointSummary | null> {
    const key = this.keys.endpoint(id);
    for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
      const raw = await this.redis.get(key);
      if (!raw) return null;
      const stored = JSON.parse(raw) as Endpoint;
      const sealed = sealSecrets(this.box, 'endpoint', { recordId: id, subscriberId: stored.subscriberId }, changes);
      const next = { ...stored, ...sealed };
      if (await this.byStatus.setIfUnchanged(raw, next, JSON.stringify(next))) {
        const multi = this.redis.multi();
        if ('rateLimit' in changes) this.lanes.appendEndpointSettings(multi, next);
        // Bumped before the change is answered: an attempt starting after that reloads the endpoint.
        await multi
          .incr(this.keys.endpointVersion(id))
          .incr(this.keys.subscriberEndpointsVersion(stored.subscriberId))
          .publish(this.keys.endpointChanges(), id)
          .exec();
        return summarizeEndpoint(next);
      }
    }
    throw new ConcurrentChangeError('endpoint', id, UPDATE_ATTEMPTS);
  }

  /** The endpoint (null when deleted) and its version (0 before its first change), read together. */
  async getVersioned(id: string): Promise<{ endpoint: Endpoint | null; version: number }> {
    const replies = await this.redis.multi().get(this.keys.endpoint(id)).get(this.keys.endpointVersion(id)).exec();
    if (!replies) throw new Error('transaction aborted');
    for (const [err] of replies) if (err) throw err;
    const [raw, version] = replies.map(([, value]) => value as string | null);
    if (!raw) return { endpoint: null, version: Number(version ?? 0) };
    const stored = JSON.parse(raw) as Record<string, unknown>;
    // Its secrets opened, as `get` does (SecretUnreadableError when one cannot be).
    const endpoint = openSecrets<Endpoint>(this.box, 'endpoint', { recordId: id, subscriberId: String(stored.subscriberId) }, stored);
    return { endpoint, version: Number(version ?? 0) };
  }

  async delete(endpoint: Pick<Endpoint, 'id' | 'subscriberId'>): Promise<void> {
    const deleted = this.keys.subscriberEndpointsDeleted(endpoint.subscriberId);
    const now = this.now();
    const multi = this.redis.multi();
    // Its health and attempt counts go with it, in the same transaction, leaving a tombstone that
    // attempts ending later respect (neither is written again).
    this.health.appendDelete(multi, endpoint.id, this.retentionMs);
    this.hourlyCounts.appendDelete(multi, endpoint.id);
    // Its rate limit goes first (waking it if it sleeps for the rate): the deliveries left in its
    // lane are only ended by the worker (endpoint_deleted), and need not wait a turn each.
    this.lanes.appendEndpointSettings(multi, { id: endpoint.id, subscriberId: endpoint.subscriberId, rateLimit: undefined });
    this.byStatus.appendDelete(multi, endpoint.id);
    await multi
      .del(this.keys.endpoint(endpoint.id))
      // Deleted is a change too: a worker's cached copy must not be used once this is answered.
      .incr(this.keys.endpointVersion(endpoint.id))
      .pexpire(this.keys.endpointVersion(endpoint.id), this.retentionMs)
      .zrem(this.keys.subscriberEndpoints(endpoint.subscriberId), endpoint.id)
      .zadd(deleted, now, endpoint.id)
      .zremrangebyscore(deleted, '-inf', now - this.retentionMs)
      .pexpire(deleted, this.retentionMs)
      // Deliveries may still wait in its lane (the worker ends them as endpoint_deleted); its
      // settings go once they cannot. Marked deleted: an attempt ending later must not move it to
      // the slow lane (sched:slow has no expiry), nor a racing PATCH's settings keep them for good.
      .hset(this.keys.laneEndpoint(endpoint.id), 'deleted', '1')
      .pexpire(this.keys.laneEndpoint(endpoint.id), this.retentionMs)
      .srem(`${this.keys.sched()}:slow`, endpoint.id)
      .incr(this.keys.subscriberEndpointsVersion(endpoint.subscriberId))
      .publish(this.keys.endpointChanges(), endpoint.id)
      .exec();
  }

  /** Endpoints the subscriber deleted within the retention period (what its history still keeps of them). */
  async deletedCount(subscriberId: string): Promise<number> {
    return this.redis.zcount(this.keys.subscriberEndpointsDeleted(subscriberId), this.now() - this.retentionMs, '+inf');
  }

  /**
   * Ids of every endpoint the subscriber has, and of those it deleted since `deletedSince` (epoch
   * ms) with when each was deleted: what the history reads to find an event's deliveries.
   */
  async idsForHistory(
    subscriberId: string,
    deletedSince: number,
  ): Promise<{ current: string[]; deleted: Array<{ id: string; deletedAt: number }> }> {
    const [current, flat] = await Promise.all([
      this.redis.zrange(this.keys.subscriberEndpoints(subscriberId), 0, -1),
      this.redis.zrangebyscore(this.keys.subscriberEndpointsDeleted(subscriberId), Math.floor(deletedSince), '+inf', 'WITHSCORES'),
    ]);
    const deleted: Array<{ id: string; deletedAt: number }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) deleted.push({ id: flat[i] as string, deletedAt: Number(flat[i + 1]) });
    return { current, deleted };
  }

  /**
   * All of a subscriber's endpoints, oldest first: the fan-out set for a new event. Read on every
   * publish, so kept parsed in this process and re-read only when the subscriber's endpoints
   * version has moved: one small GET instead of reading and parsing every endpoint, and never
   * stale (a change made by any process is seen by the next call). Frozen: shared between callers.
   */
  async listAll(subscriberId: string): Promise<readonly EndpointSummary[]> {
    // The version is read before the endpoints: a change landing in between makes the copy look
    // older than it is (re-read next time), never newer.
    const version = (await this.redis.get(this.keys.subscriberEndpointsVersion(subscriberId))) ?? '0';
    const hit = this.cached.get(subscriberId);
    if (hit && hit.version === version) return hit.endpoints;
    // Only the endpoints whose own version moved are read again: rereading all of them after each
    // change made a loop of one-field PATCHes and publishes read 4 MB (100 endpoints of 41 KB) a
    // publish. Each endpoint's version is read before its record, as the subscriber's is above.
    const ids = await this.redis.zrange(this.keys.subscriberEndpoints(subscriberId), 0, -1);
    const versions = ids.length ? await this.redis.mget(ids.map((id) => this.keys.endpointVersion(id))) : [];
    const known = new Map((hit?.endpoints ?? []).map((e) => [e.id, e]));
    const stale = ids.filter((id, i) => !known.has(id) || hit?.versions.get(id) !== (versions[i] ?? '0'));
    // A stale one gone by the time it is read (deleted meanwhile) is left out, not kept as it was.
    for (const id of stale) known.delete(id);
    for (const endpoint of await this.load(stale)) known.set(endpoint.id, Object.freeze(endpoint));
    const endpoints = Object.freeze(ids.flatMap((id) => known.get(id) ?? []));
    const kept = new Map(ids.map((id, i) => [id, versions[i] ?? '0']));
    if (this.cached.size >= CACHED_SUBSCRIBERS) this.cached.clear();
    this.cached.set(subscriberId, { version, endpoints, versions: kept });
    return endpoints;
  }

  /**
   * What `listAll` last read for the subscriber in this process, and the version of its endpoints
   * it is as of, without asking Redis whether they changed since: for a writer that has the
   * version checked where it writes (create-event.lua's `endpointsVersion`), which saves the GET
   * and its round trip before each publish. Undefined when nothing is kept.
   */
  lastListed(subscriberId: string): { endpoints: readonly EndpointSummary[]; version: string } | undefined {
    const hit = this.cached.get(subscriberId);
    return hit && { endpoints: hit.endpoints, version: hit.version };
  }

  /**
   * A page of a subscriber's endpoints, oldest first. The cursor is the last endpoint's position
   * (creation time and id), not its membership, so deleting it between pages skips nothing and
   * repeats nothing (pageByCreation).
   */
  async list(subscriberId: string, opts: { limit: number; cursor?: string }): Promise<Page<EndpointSummary>> {
    const page = await pageByCreation(this.redis, this.keys.subscriberEndpoints(subscriberId), opts);
    const raws = await this.loadRaw(page.items);
    const storedChars = raws.reduce((n, raw) => n + raw.length, 0);
    return { ...page, items: raws.map((r) => summarizeEndpoint(JSON.parse(r) as Endpoint)), storedChars };
  }

  /**
   * Whether the endpoint is the subscriber's, or was until deleted within the retention period
   * (its deliveries are still history): read from the subscriber's own indexes, never from the
   * endpoint's keys, so another subscriber's endpoint costs one round trip and reads nothing of it.
   */
  async isOrWasOf(subscriberId: string, endpointId: string): Promise<boolean> {
    const [[, current], [, deleted]] = (await this.redis
      .pipeline()
      .zscore(this.keys.subscriberEndpoints(subscriberId), endpointId)
      .zscore(this.keys.subscriberEndpointsDeleted(subscriberId), endpointId)
      .exec()) as [[Error | null, string | null], [Error | null, string | null]];
    return current !== null || deleted !== null;
  }

  async count(subscriberId: string): Promise<number> {
    return this.redis.zcard(this.keys.subscriberEndpoints(subscriberId));
  }

  private async load(ids: string[]): Promise<EndpointSummary[]> {
    return (await this.loadRaw(ids)).map((r) => summarizeEndpoint(JSON.parse(r) as Endpoint));
  }

  /** The stored JSON of those still there (one deleted meanwhile is left out). */
  private async loadRaw(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.keys.endpoint(id)));
    return raws.filter((r): r is string => r !== null);
  }
}
