import type Redis from 'ioredis';

/**
 * Writes a string key only if it still holds what the caller read, keeping its expiry: a
 * read-modify-write that never overwrites a change made in between (the caller reads again and
 * retries). KEYS: the key; ARGV: expected value, new value. Returns 1 when written, 0 when not.
 */
const COMPARE_AND_SET = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1`;

export async function compareAndSet(redis: Redis, key: string, expected: string, next: string): Promise<boolean> {
  return ((await redis.eval(COMPARE_AND_SET, 1, key, expected, next)) as number) === 1;
}
