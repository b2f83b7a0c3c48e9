import { z } from 'zod';
import type { ClusterNode, RedisOptions } from 'ioredis';

/** Where Redis is, as REDIS_URL says it: one server, a Sentinel-managed master, or a Cluster. */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'sentinel'; sentinels: Array<{ host: string; port: number }>; name: string; options: RedisOptions }
  | { kind: 'cluster'; nodes: ClusterNode[]; options: RedisOptions };

function hosts(list: string, defaultPort: number): Array<{ host: string; port: number }> {
  return list.split(',').map((entry) => {
    const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(entry.trim());
    if (!m?.[1]) throw new Error(`REDIS_URL: "${entry}" is not host:port`);
    return { host: m[1], port: m[2] ? Number(m[2]) : defaultPort };
  });
}

/**
 * Reads REDIS_URL. Besides `redis://` and `rediss://` (one server, as ioredis reads them):
 * - `redis-sentinel://[:password@]host:26379,host2:26379/mymaster[?db=0]`: the master Sentinel names;
 *   on failover ioredis follows the new master.
 * - `redis-cluster://[:password@]host:6379,host2:6379`: a Redis Cluster. Every key of a queue must
 *   share one slot, so QUEUE_PREFIX must then carry a {hash tag}, e.g. `{hookrelay}`.
 * A `+tls` suffix on either scheme (`redis-sentinel+tls://`) connects with TLS.
 */
export function parseRedisUrl(url: string): RedisTarget {
  const m = /^(redis-sentinel|redis-cluster)(\+tls)?:\/\/(?:(?:([^:@/]*):)?([^@/]*)@)?([^/?]+)(?:\/([^?]*))?(?:\?(.*))?$/.exec(url);
  if (!m) return { kind: 'single', url };
  const [, scheme, tls, username, password, list = '', path, query] = m;
  const options: RedisOptions = {};
  if (password) options.password = decodeURIComponent(password);
  if (username) options.username = decodeURIComponent(username);
  if (tls) options.tls = {};
  const db = new URLSearchParams(query ?? '').get('db');
  if (db) options.db = Number(db);
  if (scheme === 'redis-cluster') return { kind: 'cluster', nodes: hosts(list, 6379), options };
  if (!path) throw new Error('REDIS_URL: redis-sentinel:// needs the master name as its path, e.g. redis-sentinel://host:26379/mymaster');
  return { kind: 'sentinel', sentinels: hosts(list, 26379), name: decodeURIComponent(path), options };
}

/** The URL as it may be printed or logged: any password replaced. */
export function safeRedisUrl(url: string): string {
  return url.replace(/(\/\/(?:[^:@/]*:)?)([^@/]+)@/, (_all, head: string) => `${head}***@`);
}

/** REDIS_URL in a config schema: any form parseRedisUrl reads. */
export const redisUrlSchema = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    try {
      const target = parseRedisUrl(value);
      if (target.kind === 'single' && !/^rediss?:\/\/./.test(value))
        throw new Error('use redis://, rediss://, redis-sentinel:// or redis-cluster://');
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^REDIS_URL: /, '') });
    }
  });

/** On Redis Cluster every key of a deployment must hash to one slot: the prefix needs a {hash tag}. */
export function checkPrefixForCluster(redisUrl: string, prefix: string): string | null {
  if (!/^redis-cluster/.test(redisUrl)) return null;
  return /\{[^{}]+\}/.test(prefix) ? null : 'must contain a {hash tag} (e.g. {hookrelay}) when REDIS_URL is a redis-cluster:// URL';
}
