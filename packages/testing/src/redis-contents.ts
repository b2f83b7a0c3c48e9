import type Redis from 'ioredis';

/**
 * Every string stored under `prefix`, whatever the key's type, with the key names themselves: what
 * a test searches for a secret that must never be stored, or an id that must be gone.
 */
export async function everythingStoredUnder(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for (const key of await redis.keys(`${prefix}*`)) {
    found.push(key);
    const type = await redis.type(key);
    if (type === 'string') found.push((await redis.get(key)) ?? '');
    else if (type === 'hash') found.push(...Object.entries(await redis.hgetall(key)).flat());
    else if (type === 'list') found.push(...(await redis.lrange(key, 0, -1)));
    else if (type === 'set') found.push(...(await redis.smembers(key)));
    else if (type === 'zset') found.push(...(await redis.zrange(key, 0, -1)));
    else if (type === 'stream') found.push(...(await redis.xrange(key, '-', '+')).flatMap(([id, fields]) => [id, ...fields]));
    // 'none': the worker removed the key between KEYS and TYPE.
    else if (type !== 'none') throw new Error(`unexpected Redis type ${type} at ${key}`);
  }
  return found;
}

/** Deletes every key under `prefix`: a fixture's clean-up of its private prefix. */
export async function deleteKeysUnder(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
}
