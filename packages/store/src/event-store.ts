import type Redis from 'ioredis';
import type { StoredEvent } from '@hookrelay/contracts';
import type { Keys } from './keys';

export class EventStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async get(id: string): Promise<StoredEvent | null> {
    const raw = await this.redis.get(this.keys.event(id));
    return raw ? (JSON.parse(raw) as StoredEvent) : null;
  }

  /** Several events by id, in that order; null where one has expired. */
  async getMany(ids: readonly string[]): Promise<Array<StoredEvent | null>> {
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.keys.event(id)));
    return raws.map((raw) => (raw ? (JSON.parse(raw) as StoredEvent) : null));
  }
}
