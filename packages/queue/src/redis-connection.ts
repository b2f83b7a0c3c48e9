import Redis, { type RedisOptions } from 'ioredis';

export type RedisRole =
  /** BullMQ's connections: it requires commands to wait for a reconnect rather than fail. */
  | 'queue'
  /** Store reads and writes: pipelined automatically, so concurrent jobs share round trips. */
  | 'store'
  /** The API's store connection: fails fast while Redis is down so a publish answers 503, not a hang. */
  | 'store-fail-fast'
  | 'subscriber';

export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const base: RedisOptions = { connectionName: `hookrelay-${role}`, lazyConnect: false };
  const byRole: Record<RedisRole, RedisOptions> = {
    queue: { maxRetriesPerRequest: null, enableReadyCheck: true },
    store: { enableAutoPipelining: true, maxRetriesPerRequest: 3 },
    'store-fail-fast': { enableAutoPipelining: true, maxRetriesPerRequest: 0, enableOfflineQueue: false },
    subscriber: { maxRetriesPerRequest: null },
  };
  return new Redis(url, { ...base, ...byRole[role], ...extra });
}
