import Redis from 'ioredis';
import { newId } from '@hookrelay/contracts';
import { requireRedisUrl, uniquePrefix } from '@hookrelay/testing';
import { createStore } from './index';
import { API_KEY_CACHE_MS, hashApiKey } from './subscriber-store';

describe('API key lookups', () => {
  let redis: Redis;
  let prefix: string;
  let clock: number;
  const now = () => clock;

  beforeAll(() => {
    redis = new Redis(requireRedisUrl());
  });
  afterAll(() => redis.disconnect());
  beforeEach(() => {
    prefix = uniquePrefix('keys');
    clock = 1_800_000_000_000;
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  });

  it('keeps a found key for at most a second (the production bound)', () => {
    expect(API_KEY_CACHE_MS).toBe(1000);
  });

  it('a revocation holds at once in the revoking process and within API_KEY_CACHE_MS in another', async () => {
    // Two stores on one Redis: two API processes.
    const revoking = createStore({ redis, prefix, now });
    const other = createStore({ redis, prefix, now });
    const plain = `hr_${newId('key')}`;
    const record = { id: newId('key'), role: 'publisher' as const, createdAt: clock };
    await revoking.subscribers.saveApiKey(plain, record);
    expect(await revoking.subscribers.findApiKey(hashApiKey(plain))).toEqual(record);
    expect(await other.subscribers.findApiKey(hashApiKey(plain))).toEqual(record);

    await revoking.subscribers.revokeApiKey(record.id, clock);
    expect((await revoking.subscribers.findApiKey(hashApiKey(plain)))?.revokedAt).toBe(clock);
    // The other process acts on its copy until it is a second old, then reads the revocation.
    clock += API_KEY_CACHE_MS - 1;
    expect((await other.subscribers.findApiKey(hashApiKey(plain)))?.revokedAt).toBeUndefined();
    clock += 1;
    expect((await other.subscribers.findApiKey(hashApiKey(plain)))?.revokedAt).toBe(clock - API_KEY_CACHE_MS);
  });

  it('does not keep an unknown key: one saved by another process works at once', async () => {
    const reader = createStore({ redis, prefix, now });
    const writer = createStore({ redis, prefix, now });
    const plain = `hr_${newId('key')}`;
    expect(await reader.subscribers.findApiKey(hashApiKey(plain))).toBeNull();
    const record = { id: newId('key'), role: 'publisher' as const, createdAt: clock };
    await writer.subscribers.saveApiKey(plain, record);
    expect(await reader.subscribers.findApiKey(hashApiKey(plain))).toEqual(record);
  });

  it('a clock that steps back does not keep a copy alive', async () => {
    const revoking = createStore({ redis, prefix, now });
    const other = createStore({ redis, prefix, now });
    const plain = `hr_${newId('key')}`;
    const record = { id: newId('key'), role: 'publisher' as const, createdAt: clock };
    await revoking.subscribers.saveApiKey(plain, record);
    await other.subscribers.findApiKey(hashApiKey(plain));
    await revoking.subscribers.revokeApiKey(record.id, clock);
    clock -= 5_000;
    expect((await other.subscribers.findApiKey(hashApiKey(plain)))?.revokedAt).toBeDefined();
  });
});
