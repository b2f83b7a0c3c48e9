import { newId } from '@hookrelay/contracts';
import { useRedisPrefix } from '@hookrelay/testing';
import { createStore, type Store } from './index';
import { API_KEY_CACHE_MS, hashApiKey } from './subscriber-store';

describe('API key lookups', () => {
  const db = useRedisPrefix('keys');
  let clock = 0;
  const now = () => clock;
  /** Two stores on one prefix, standing for two API processes, on a clock set back to its start. */
  const twoProcesses = () => {
    clock = 1_800_000_000_000;
    return [0, 1].map(() => createStore({ redis: db.redis, prefix: db.prefix, now }));
  };

  it('keeps a found key for at most a second (the production bound)', () => {
    expect(API_KEY_CACHE_MS).toBe(1000);
  });

  it('a revocation holds at once in the revoking process and within API_KEY_CACHE_MS in another', async () => {
    const [revoking, other] = twoProcesses() as [Store, Store];
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
    const [reader, writer] = twoProcesses() as [Store, Store];
    const plain = `hr_${newId('key')}`;
    expect(await reader.subscribers.findApiKey(hashApiKey(plain))).toBeNull();
    const record = { id: newId('key'), role: 'publisher' as const, createdAt: clock };
    await writer.subscribers.saveApiKey(plain, record);
    expect(await reader.subscribers.findApiKey(hashApiKey(plain))).toEqual(record);
  });

  it('a clock that steps back does not keep a copy alive', async () => {
    const [revoking, other] = twoProcesses() as [Store, Store];
    const plain = `hr_${newId('key')}`;
    const record = { id: newId('key'), role: 'publisher' as const, createdAt: clock };
    await revoking.subscribers.saveApiKey(plain, record);
    await other.subscribers.findApiKey(hashApiKey(plain));
    await revoking.subscribers.revokeApiKey(record.id, clock);
    clock -= 5_000;
    expect((await other.subscribers.findApiKey(hashApiKey(plain)))?.revokedAt).toBeDefined();
  });
});
