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
 * Portal sessions, stored like API keys: the record is keyed by the SHA-256 of the token, so Redis
 * never holds a usable token. Each record expires (Redis PEXPIREAT) with its session; the
 * subscriber's index (session id -> token hash) lets one be revoked by id and all of them be
 * revoked with the subscriber, and is pruned of expired entries whenever a session is created.
 */
export class PortalSessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /**
   * Saves a session for `token`. Returns false (and saves nothing) when the subscriber already has
   * `MAX_PORTAL_SESSIONS_PER_SUBSCRIBER` live sessions, with the time the earliest of them ends.
   */
  async create(token: string, session: PortalSession, nowMs: number): Promise<{ created: true } | { created: false; retryAt: number }> {
    const index = this.keys.subscriberPortalSessions(session.subscriberId);
    const live = await this.liveEntries(session.subscriberId, nowMs);
    if (live.length >= MAX_PORTAL_SESSIONS_PER_SUBSCRIBER) {
      return { created: false, retryAt: Math.min(...live.map((e) => e.expiresAt)) };
    }
    const hash = hashApiKey(token);
    const latest = Math.max(session.expiresAt, ...live.map((e) => e.expiresAt));
    await this.redis
      .multi()
      .set(this.keys.portalSession(hash), JSON.stringify(session), 'PXAT', session.expiresAt)
      .hset(index, session.id, `${hash}:${session.expiresAt}`)
      .pexpireat(index, latest)
      .exec();
    return { created: true };
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

  /** The subscriber's index entries that have not expired; expired ones are dropped from it. */
  private async liveEntries(subscriberId: string, nowMs: number): Promise<Array<{ id: string; hash: string; expiresAt: number }>> {
    const index = this.keys.subscriberPortalSessions(subscriberId);
    const all = Object.entries(await this.redis.hgetall(index)).map(([id, v]) => ({
      id,
      ...(parseEntry(v) ?? { hash: '', expiresAt: 0 }),
    }));
    const expired = all.filter((e) => e.expiresAt <= nowMs).map((e) => e.id);
    if (expired.length) await this.redis.hdel(index, ...expired);
    return all.filter((e) => e.expiresAt > nowMs);
  }
}

function parseEntry(value: string | null | undefined): { hash: string; expiresAt: number } | null {
  if (!value) return null;
  const at = value.lastIndexOf(':');
  const expiresAt = Number(value.slice(at + 1));
  return at > 0 && Number.isFinite(expiresAt) ? { hash: value.slice(0, at), expiresAt } : null;
}
