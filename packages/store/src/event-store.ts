import type Redis from 'ioredis';
import type { StoredEvent } from '@hookrelay/contracts';
import type { Keys } from './keys';

/** An event as stored (its JSON), or null for a key that held none. */
export function parseStoredEvent(raw: string | null): StoredEvent | null {
  return raw ? (JSON.parse(raw) as StoredEvent) : null;
}

export class EventStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async get(id: string): Promise<StoredEvent | null> {
    return parseStoredEvent(await this.redis.get(this.keys.event(id)));
  }

  /** Several events by id, in that order; null where one has expired. */
  async getMany(ids: readonly string[]): Promise<Array<StoredEvent | null>> {
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.keys.event(id)));
    return raws.map(parseStoredEvent);
  }
}
