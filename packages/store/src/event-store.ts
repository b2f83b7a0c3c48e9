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

  /** Ids of the deliveries an event fanned out to, in creation order. */
  async deliveryIds(eventId: string): Promise<string[]> {
    return this.redis.zrange(this.keys.eventDeliveries(eventId), 0, -1);
  }
}
