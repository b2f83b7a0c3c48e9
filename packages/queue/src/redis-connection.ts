import Redis, { Cluster, type RedisOptions } from 'ioredis';
import { parseRedisUrl } from './redis-url';

export type RedisRole =
  /** BullMQ's connections: it requires commands to wait for a reconnect rather than fail. */
  | 'queue'
  /** Store reads and writes: pipelined automatically, so concurrent jobs share round trips. */
  | 'store'
  /**
   * The API's store connection: fails fast while Redis is down so a publish answers 503, not a hang.
   * That covers a frozen Redis too (a stopped process, a partition that drops packets without a reset):
   * a command unanswered after STORE_COMMAND_TIMEOUT_MS fails instead of holding the request forever.
   */
  | 'store-fail-fast'
  | 'subscriber';

/**
 * Longest an API request waits for one Redis reply. Found by test/reliability/redis-outage: with no
 * timeout, a publish against a SIGSTOPped Redis hung until the client gave up. Generous next to a
 * healthy reply (well under a millisecond), short enough that the caller gets a 503 and retries.
 */
export const STORE_COMMAND_TIMEOUT_MS = 2_000;

/** createRedis's disconnectTimeout: a live connection's close takes well under it. */
export const DISCONNECT_TIMEOUT_MS = 200;

export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  // disconnectTimeout: how long disconnect() waits for the server to close a connection before
  // destroying it, armed on a timer that only the socket's close clears. A connection whose socket
  // had closed already (reconnecting while Redis is down) never clears it: 2 s by default, each such
  // timer held the process that long after its work was done (disconnectRedis).
  const base: RedisOptions = { connectionName: `hookrelay-${role}`, lazyConnect: false, disconnectTimeout: DISCONNECT_TIMEOUT_MS };
  const byRole: Record<RedisRole, RedisOptions> = {
    queue: { maxRetriesPerRequest: null, enableReadyCheck: true },
    store: { enableAutoPipelining: true, maxRetriesPerRequest: 3 },
    'store-fail-fast': {
      enableAutoPipelining: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      commandTimeout: STORE_COMMAND_TIMEOUT_MS,
    },
    subscriber: { maxRetriesPerRequest: null },
  };
  const options = { ...base, ...byRole[role], ...extra };
  const target = parseRedisUrl(url);
  if (target.kind === 'sentinel') return new Redis({ ...options, ...target.options, sentinels: target.sentinels, name: target.name });
  if (target.kind === 'cluster') {
    // A Cluster speaks the same commands; BullMQ and the store accept it where they take a Redis.
    // lazyConnect belongs to the Cluster itself too: otherwise it connects at once and the start-up
    // check's connect() fails with "already connecting".
    const { maxRetriesPerRequest, enableOfflineQueue, enableReadyCheck, enableAutoPipelining, lazyConnect, ...redisOptions } = options;
    return new Cluster(target.nodes, {
      redisOptions: { ...redisOptions, ...target.options, maxRetriesPerRequest },
      enableOfflineQueue,
      enableReadyCheck,
      enableAutoPipelining,
      lazyConnect,
    }) as unknown as Redis;
  }
  return new Redis(url, options);
}

/**
 * Closes a connection at once, unless it has ended already. ioredis's disconnect() arms a timer
 * (2 s by default) that only the socket's 'close' clears, and on a connection that had ended (the
 * lane signal's, which its listener closes to break its BLPOP) that close had passed: the timer held
 * the worker's process (and each jest worker: "A worker process has failed to exit gracefully") 2 s
 * after everything else was done. A connection reconnecting has no live socket either: its timer is
 * createRedis's DISCONNECT_TIMEOUT_MS.
 */
export function disconnectRedis(connection: Redis): void {
  if (connection.status !== 'end') connection.disconnect();
}
