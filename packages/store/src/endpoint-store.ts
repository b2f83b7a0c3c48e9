import type Redis from 'ioredis';
import type { Endpoint } from '@hookrelay/contracts';
import type { Keys } from './keys';

export interface Page<T> {
  items: T[];
  /** Pass back to get the next page; absent on the last page. */
  nextCursor?: string;
}

/** Endpoints as JSON strings, indexed per subscriber by creation time. */
export class EndpointStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async save(endpoint: Endpoint): Promise<void> {
    await this.redis
      .multi()
      .set(this.keys.endpoint(endpoint.id), JSON.stringify(endpoint))
      .zadd(this.keys.subscriberEndpoints(endpoint.subscriberId), endpoint.createdAt, endpoint.id)
      .publish(this.keys.endpointChanges(), endpoint.id)
      .exec();
  }

  async get(id: string): Promise<Endpoint | null> {
    const raw = await this.redis.get(this.keys.endpoint(id));
    return raw ? (JSON.parse(raw) as Endpoint) : null;
  }

  async delete(endpoint: Pick<Endpoint, 'id' | 'subscriberId'>): Promise<void> {
    await this.redis
      .multi()
      .del(this.keys.endpoint(endpoint.id))
      .zrem(this.keys.subscriberEndpoints(endpoint.subscriberId), endpoint.id)
      .publish(this.keys.endpointChanges(), endpoint.id)
      .exec();
  }

  /** All of a subscriber's endpoints, oldest first: the fan-out set for a new event. */
  async listAll(subscriberId: string): Promise<Endpoint[]> {
    const ids = await this.redis.zrange(this.keys.subscriberEndpoints(subscriberId), 0, -1);
    return this.load(ids);
  }

  /** A page of a subscriber's endpoints, oldest first; the cursor is the last id seen. */
  async list(subscriberId: string, opts: { limit: number; cursor?: string }): Promise<Page<Endpoint>> {
    const key = this.keys.subscriberEndpoints(subscriberId);
    let start = 0;
    if (opts.cursor) {
      const rank = await this.redis.zrank(key, opts.cursor);
      start = rank === null ? 0 : rank + 1;
    }
    const ids = await this.redis.zrange(key, start, start + opts.limit);
    const items = await this.load(ids.slice(0, opts.limit));
    const last = items[items.length - 1];
    return ids.length > opts.limit && last ? { items, nextCursor: last.id } : { items };
  }

  async count(subscriberId: string): Promise<number> {
    return this.redis.zcard(this.keys.subscriberEndpoints(subscriberId));
  }

  private async load(ids: string[]): Promise<Endpoint[]> {
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.keys.endpoint(id)));
    return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as Endpoint);
  }
}
