import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import type { Keys } from './keys';

export interface Subscriber {
  id: string;
  name: string;
  createdAt: number;
}

export type ApiKeyRole = 'subscriber' | 'publisher';

export interface ApiKeyRecord {
  id: string;
  role: ApiKeyRole;
  /** Set for subscriber keys: the one subscriber the key may act for. */
  subscriberId?: string;
  createdAt: number;
  /** A revoked key authenticates nothing. */
  revokedAt?: number;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Subscribers and the API keys that act for them. Keys are stored only as SHA-256 hashes. */
export class SubscriberStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async create(subscriber: Subscriber, key: { plain: string; record: ApiKeyRecord }): Promise<void> {
    await this.redis
      .multi()
      .set(this.keys.subscriber(subscriber.id), JSON.stringify(subscriber))
      .zadd(this.keys.subscribers(), subscriber.createdAt, subscriber.id)
      .set(this.keys.apiKey(hashApiKey(key.plain)), JSON.stringify(key.record))
      .zadd(this.keys.apiKeys(), key.record.createdAt, key.record.id)
      .exec();
  }

  async get(id: string): Promise<Subscriber | null> {
    const raw = await this.redis.get(this.keys.subscriber(id));
    return raw ? (JSON.parse(raw) as Subscriber) : null;
  }

  async list(): Promise<Subscriber[]> {
    const ids = await this.redis.zrange(this.keys.subscribers(), 0, -1);
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.keys.subscriber(id)));
    return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as Subscriber);
  }

  async saveApiKey(plain: string, record: ApiKeyRecord): Promise<void> {
    await this.redis.multi().set(this.keys.apiKey(hashApiKey(plain)), JSON.stringify(record)).zadd(this.keys.apiKeys(), record.createdAt, record.id).exec();
  }

  /** Looks a presented key up by its hash; an unknown key and a wrong key look the same. */
  async findApiKey(plain: string): Promise<ApiKeyRecord | null> {
    const raw = await this.redis.get(this.keys.apiKey(hashApiKey(plain)));
    return raw ? (JSON.parse(raw) as ApiKeyRecord) : null;
  }
}
