import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { ChainableCommander } from 'ioredis';
import type { Endpoint } from '@hookrelay/contracts';
import type { Keys } from './keys';

/**
 * Writes a stored endpoint only if it still holds what the caller read (compare-and-set.ts), and
 * files its id under its status in the same call, so the index never disagrees with the record.
 * KEYS: the endpoint, every live endpoint's set, the disabled ones' set; ARGV: expected, next, id,
 * status. Returns 1 when written, 0 when not.
 */
const SET_ENDPOINT_IF_UNCHANGED = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
redis.call('SADD', KEYS[2], ARGV[3])
if ARGV[4] == 'disabled' then redis.call('SADD', KEYS[3], ARGV[3]) else redis.call('SREM', KEYS[3], ARGV[3]) end
return 1`;

/**
 * Files each endpoint id named under what its record says now: under its status when it exists,
 * nowhere when it is gone. Each id is read and filed in the same call, so a create, change or
 * delete running beside a rebuild is never undone by it. The record is decoded (a custom header
 * may be named `status` too), so calls are kept to ~100 ids: ~15 ms of Redis at 40 KB records.
 * KEYS: every live endpoint's set, the disabled ones' set; ARGV: the endpoint key prefix, ids...
 */
const FILE_ENDPOINTS = `
for i = 2, #ARGV do
  local id = ARGV[i]
  local raw = redis.call('GET', ARGV[1] .. id)
  if raw then
    redis.call('SADD', KEYS[1], id)
    local ok, endpoint = pcall(cjson.decode, raw)
    if ok and type(endpoint) == 'table' and endpoint.status == 'disabled' then
      redis.call('SADD', KEYS[2], id)
    else
      redis.call('SREM', KEYS[2], id)
    end
  else
    redis.call('SREM', KEYS[1], id)
    redis.call('SREM', KEYS[2], id)
  end
end
return #ARGV - 1`;

/**
 * Takes out of both sets each id named whose endpoint is gone (EXISTS only: no record is read).
 * KEYS: every live endpoint's set, the disabled ones' set; ARGV: the endpoint key prefix, ids...
 */
const DROP_GONE = `
for i = 2, #ARGV do
  if redis.call('EXISTS', ARGV[1] .. ARGV[i]) == 0 then
    redis.call('SREM', KEYS[1], ARGV[i])
    redis.call('SREM', KEYS[2], ARGV[i])
  end
end
return #ARGV - 1`;

/** Deletes a claim only while it is the caller's. KEYS: the claim; ARGV: the caller's value. */
const RELEASE_CLAIM = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

type IndexRedis = Redis & {
  hookrelaySetEndpointIfUnchanged(...args: string[]): Promise<number>;
  hookrelayFileEndpoints(...args: string[]): Promise<number>;
  hookrelayDropGoneEndpoints(...args: string[]): Promise<number>;
  hookrelayReleaseClaim(key: string, claim: string): Promise<number>;
};

/** Endpoint ids a rebuild files per script call, and subscribers it reads the endpoints of per round trip. */
const FILED_PER_CALL = 100;
const SUBSCRIBERS_PER_READ = 200;

/**
 * Every live endpoint's id in one set and the disabled ones' in another, kept with each create,
 * change and delete, so counting endpoints by status is two SCARDs. The metrics sampler used to
 * read every subscriber record and every subscriber's endpoints in every worker every 10 s: work
 * and a reply (an MGET of every subscriber) that grew with the deployment, and past 10,000
 * subscribers reloaded every endpoint each time (EndpointStore keeps that many parsed).
 * Set writes are idempotent: one made twice, or by a rebuild beside a change, changes nothing.
 *
 * A deployment whose data predates the index has neither set: its counts leave that data out
 * until `rebuild` has filed every endpoint. The sampler builds it then, and again once a day
 * (under a claim, one worker at a time), which also mends what processes of an earlier version
 * wrote without it during a rolling upgrade.
 */
export class EndpointStatusIndex {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {
    if (!('hookrelaySetEndpointIfUnchanged' in redis)) {
      redis.defineCommand('hookrelaySetEndpointIfUnchanged', { numberOfKeys: 3, lua: SET_ENDPOINT_IF_UNCHANGED });
      redis.defineCommand('hookrelayFileEndpoints', { numberOfKeys: 2, lua: FILE_ENDPOINTS });
      redis.defineCommand('hookrelayDropGoneEndpoints', { numberOfKeys: 2, lua: DROP_GONE });
      redis.defineCommand('hookrelayReleaseClaim', { numberOfKeys: 1, lua: RELEASE_CLAIM });
    }
  }

  /** Adds the index writes of a whole endpoint being stored to `multi`. */
  appendSave(multi: ChainableCommander, endpoint: Pick<Endpoint, 'id' | 'status'>): ChainableCommander {
    multi.sadd(this.keys.endpointIds(), endpoint.id);
    return endpoint.status === 'disabled'
      ? multi.sadd(this.keys.disabledEndpointIds(), endpoint.id)
      : multi.srem(this.keys.disabledEndpointIds(), endpoint.id);
  }

  /** Adds the index writes of an endpoint being deleted to `multi`. */
  appendDelete(multi: ChainableCommander, id: string): ChainableCommander {
    return multi.srem(this.keys.endpointIds(), id).srem(this.keys.disabledEndpointIds(), id);
  }

  /** compareAndSet for an endpoint record, filing it under `next`'s status in the same call. */
  async setIfUnchanged(expected: string, next: Pick<Endpoint, 'id' | 'status'>, nextJson: string): Promise<boolean> {
    const written = await (this.redis as IndexRedis).hookrelaySetEndpointIfUnchanged(
      this.keys.endpoint(next.id),
      this.keys.endpointIds(),
      this.keys.disabledEndpointIds(),
      expected,
      nextJson,
      next.id,
      next.status,
    );
    return written === 1;
  }

  /**
   * Endpoints by status and when the index was last built (null before its first build, when the
   * counts leave out what was written before the index existed).
   */
  async counts(): Promise<{ active: number; disabled: number; builtAt: number | null }> {
    const replies = await this.redis
      .multi()
      .get(this.keys.endpointIdsBuilt())
      .scard(this.keys.endpointIds())
      .scard(this.keys.disabledEndpointIds())
      .exec();
    if (!replies) throw new Error('transaction aborted');
    for (const [err] of replies) if (err) throw err;
    const [built, all, disabled] = replies.map(([, value]) => value as string | number | null);
    return { active: Number(all) - Number(disabled), disabled: Number(disabled), builtAt: built === null ? null : Number(built) };
  }

  /**
   * A claim for the one caller that may build the index now, held until it releases it or `forMs`
   * runs out; null when another caller holds it.
   */
  async claimRebuild(forMs: number): Promise<string | null> {
    const claim = randomUUID();
    return (await this.redis.set(this.keys.endpointIdsBuildClaim(), claim, 'PX', forMs, 'NX')) === 'OK' ? claim : null;
  }

  /** Gives up `claim`, unless it ran out and another caller holds the claim now. */
  async releaseRebuild(claim: string): Promise<void> {
    await (this.redis as IndexRedis).hookrelayReleaseClaim(this.keys.endpointIdsBuildClaim(), claim);
  }

  /**
   * Files every endpoint of every subscriber, then takes out ids whose endpoint is gone (written by
   * a process of an earlier version, which deletes without the index), and marks the index built
   * at `nowMs`. A hundred ids a call, one call after another: a walk, not a burst.
   */
  async rebuild(nowMs: number): Promise<void> {
    const redis = this.redis as IndexRedis;
    const sets = [this.keys.endpointIds(), this.keys.disabledEndpointIds(), this.keys.endpoint('')] as const;
    const inCalls = async (ids: readonly string[], call: (...args: string[]) => Promise<number>) => {
      for (let at = 0; at < ids.length; at += FILED_PER_CALL) await call(...sets, ...ids.slice(at, at + FILED_PER_CALL));
    };
    for (let at = 0; ; at += SUBSCRIBERS_PER_READ) {
      const subscribers = await this.redis.zrange(this.keys.subscribers(), at, at + SUBSCRIBERS_PER_READ - 1);
      if (subscribers.length === 0) break;
      const pipeline = this.redis.pipeline();
      for (const sid of subscribers) pipeline.zrange(this.keys.subscriberEndpoints(sid), 0, -1);
      const ids: string[] = [];
      for (const [err, value] of (await pipeline.exec()) ?? []) {
        if (err) throw err;
        ids.push(...(value as string[]));
      }
      await inCalls(ids, (...args) => redis.hookrelayFileEndpoints(...args));
    }
    let cursor = '0';
    do {
      const [next, ids] = await this.redis.sscan(this.keys.endpointIds(), cursor, 'COUNT', FILED_PER_CALL);
      await inCalls(ids, (...args) => redis.hookrelayDropGoneEndpoints(...args));
      cursor = next;
    } while (cursor !== '0');
    await this.redis.set(this.keys.endpointIdsBuilt(), String(nowMs));
  }
}
