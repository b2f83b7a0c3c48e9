import Redis from 'ioredis';
import { deleteKeysUnder } from './redis-contents';
import { requireRedisUrl, uniquePrefix } from './unique';

/** A connection to the test Redis for the suite, and a key prefix of each test's own. */
export interface RedisPrefix {
  readonly redis: Redis;
  readonly prefix: string;
}

/**
 * Opens a connection to the test Redis before the suite and closes it after; gives each test a
 * fresh prefix (`uniquePrefix(label)`) and deletes every key under it after the test.
 */
export function useRedisPrefix(label: string): RedisPrefix {
  let redis: Redis | undefined;
  let prefix: string | undefined;
  beforeAll(() => {
    redis = new Redis(requireRedisUrl());
  });
  afterAll(() => redis?.disconnect());
  beforeEach(() => {
    prefix = uniquePrefix(label);
  });
  afterEach(async () => {
    if (redis && prefix) await deleteKeysUnder(redis, prefix);
    prefix = undefined;
  });
  return {
    get redis() {
      if (!redis) throw new Error('useRedisPrefix: the connection opens in beforeAll');
      return redis;
    },
    get prefix() {
      if (!prefix) throw new Error('useRedisPrefix: the prefix is set in beforeEach');
      return prefix;
    },
  };
}
