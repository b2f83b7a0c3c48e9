import type Redis from 'ioredis';
import { hashApiKey } from './subscriber-store';
import type { Keys } from './keys';

/** A portal session: a short-lived credential for one subscriber, handed out as a magic link. */
export interface PortalSession {
  id: string;
  subscriberId: string;
  /** A read-only session may look but not change anything (every write is a 403). */
  readOnly: boolean;
  createdAt: number;
  /** Epoch ms; the session authenticates nothing from then on. */
  expiresAt: number;
}

/** What a presented token resolves to: the session, and its subscriber's name when the subscriber still exists. */
export interface PortalSessionLookup {
  session: PortalSession;
  subscriber: { id: string; name: string } | null;
}

/** How many live sessions one subscriber may have; each is a few hundred bytes and expires within a day. */
export const MAX_PORTAL_SESSIONS_PER_SUBSCRIBER = 1000;

/**
 * Prunes the subscriber's index of expired sessions, counts the live ones and, under the cap, writes
 * the new session, in one step: checked and written apart, concurrent creates all passed a count
 * read before any of them wrote (1,400 live sessions from two rounds of 700). The index expires with
 * its latest session.
 * KEYS: 1 the subscriber's index (session id -> `<token hash>:<expiresAt>`), 2 the session record
 * ARGV: 1 nowMs, 2 the cap, 3 session id, 4 its index entry, 5 session JSON, 6 its expiresAt
 * Returns 0 when created, else when the earliest live session ends (nothing written).
 */
const CREATE_PORTAL_SESSION = `
local now, cap, expiresAt = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[6])
local flat = redis.call('HGETALL', KEYS[1])
local live, earliest, latest = 0, nil, expiresAt
for i = 1, #flat, 2 do
  local at = tonumber(string.match(flat[i + 1], ':(%d+)$') or '0')
  if at <= now then
    redis.call('HDEL', KEYS[1], flat[i])
  else
    live = live + 1
    if not earliest or at < earliest then earliest = at end
    if at > latest then latest = at end
  end
end
if live >= cap then return earliest end
redis.call('SET', KEYS[2], ARGV[5], 'PXAT', expiresAt)
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
redis.call('PEXPIREAT', KEYS[1], latest)
return 0`;

type PortalSessionRedis = Redis & {
  hookrelayCreatePortalSession(
    index: string,
    record: string,
    nowMs: number,
    cap: number,
    id: string,
    entry: string,
    json: string,
    expiresAt: number,
  ): Promise<number>;
};

/**
 * Portal sessions, stored like API keys: the record is keyed by the SHA-256 of the token, so Redis
 * never holds a usable token. Each record expires (Redis PEXPIREAT) with its session; the
 * subscriber's index (session id -> token hash) lets one be revoked by id and all of them be
 * revoked with the subscriber, and is pruned of expired entries whenever a session is created.
 */
export class PortalSessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {
    if (!('hookrelayCreatePortalSession' in redis))
      redis.defineCommand('hookrelayCreatePortalSession', { numberOfKeys: 2, lua: CREATE_PORTAL_SESSION });
  }

  /**
   * Saves a session for `token`. Returns false (and saves nothing) when the subscriber already has
   * `MAX_PORTAL_SESSIONS_PER_SUBSCRIBER` live sessions, with the time the earliest of them ends.
   */
  async create(token: string, session: PortalSession, nowMs: number): Promise<{ created: true } | { created: false; retryAt: number }> {
    const hash = hashApiKey(token);
    const earliest = await (this.redis as PortalSessionRedis).hookrelayCreatePortalSession(
      this.keys.subscriberPortalSessions(session.subscriberId),
      this.keys.portalSession(hash),
      nowMs,
      MAX_PORTAL_SESSIONS_PER_SUBSCRIBER,
      session.id,
      `${hash}:${session.expiresAt}`,
      JSON.stringify(session),
      session.expiresAt,
    );
    return earliest === 0 ? { created: true } : { created: false, retryAt: earliest };
  }

  /**
   * The session a token's SHA-256 (`hashApiKey`) names, with its subscriber: a session whose
   * subscriber is gone authenticates nothing, whoever deleted it.
   */
  async find(tokenHash: string): Promise<PortalSessionLookup | null> {
    const raw = await this.redis.get(this.keys.portalSession(tokenHash));
    if (!raw) return null;
    const session = JSON.parse(raw) as PortalSession;
    const subscriberRaw = await this.redis.get(this.keys.subscriber(session.subscriberId));
    const subscriber = subscriberRaw ? (JSON.parse(subscriberRaw) as { id: string; name: string }) : null;
    return { session, subscriber: subscriber ? { id: subscriber.id, name: subscriber.name } : null };
  }

  /** Ends one session of the subscriber at once. False when the subscriber has no live session with that id. */
  async revoke(subscriberId: string, id: string, nowMs: number): Promise<boolean> {
    const index = this.keys.subscriberPortalSessions(subscriberId);
    const entry = parseEntry(await this.redis.hget(index, id));
    if (!entry) return false;
    await this.redis.multi().del(this.keys.portalSession(entry.hash)).hdel(index, id).exec();
    return entry.expiresAt > nowMs;
  }

  /** Ends every session of the subscriber (for deleting a subscriber). Returns how many were live. */
  async revokeAll(subscriberId: string, nowMs: number): Promise<number> {
    const index = this.keys.subscriberPortalSessions(subscriberId);
    const entries = Object.values(await this.redis.hgetall(index)).flatMap((v) => parseEntry(v) ?? []);
    const multi = this.redis.multi();
    for (const e of entries) multi.del(this.keys.portalSession(e.hash));
    await multi.del(index).exec();
    return entries.filter((e) => e.expiresAt > nowMs).length;
  }
}

function parseEntry(value: string | null | undefined): { hash: string; expiresAt: number } | null {
  if (!value) return null;
  const at = value.lastIndexOf(':');
  const expiresAt = Number(value.slice(at + 1));
  return at > 0 && Number.isFinite(expiresAt) ? { hash: value.slice(0, at), expiresAt } : null;
}
