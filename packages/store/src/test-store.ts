// Test-only: a store on a private key prefix of the test Redis, fresh for each test.
import { useRedisPrefix, type RedisPrefix } from '@hookrelay/testing';
import { createStore, type Store } from './index';
import type { StoreOptions } from './store-options';

export interface TestStore extends RedisPrefix {
  readonly store: Store;
}

/**
 * A store created before each test on a prefix of its own (`useRedisPrefix(label)`), whose keys are
 * deleted after it. `options` are read when each store is created, so a `now` closure over the
 * suite's clock works.
 */
export function useTestStore(label: string, options: Omit<StoreOptions, 'redis' | 'prefix'> = {}): TestStore {
  const db = useRedisPrefix(label);
  let store: Store | undefined;
  beforeEach(() => {
    store = createStore({ ...options, redis: db.redis, prefix: db.prefix });
  });
  return {
    get redis() {
      return db.redis;
    },
    get prefix() {
      return db.prefix;
    },
    get store() {
      if (!store) throw new Error('useTestStore: the store is created in beforeEach');
      return store;
    },
  };
}
