import type Redis from 'ioredis';
import { matchesEventType, type DeliveryRecord, type DeliveryState, type StoredEvent } from '@hookrelay/contracts';
import type { DeliveryStore } from './delivery-store';
import type { Keys } from './keys';
import { pageNewestFirst, type NewestFirstPage, type TimeWindow } from './newest-first';

export interface DeliveryFilter extends TimeWindow {
  endpointId?: string;
  /** A type or a pattern (`incident.*`). */
  eventType?: string;
  status?: DeliveryState;
  cursor?: string;
  limit: number;
}

export interface EventFilter extends TimeWindow {
  type?: string;
  cursor?: string;
  limit: number;
}

/** Read side of the delivery history: what a subscriber sees of what was sent to them. */
export class HistoryStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly deliveries: DeliveryStore,
  ) {}

  async listDeliveries(subscriberId: string, filter: DeliveryFilter): Promise<NewestFirstPage<DeliveryRecord>> {
    const key = filter.endpointId ? this.keys.endpointDeliveries(filter.endpointId) : this.keys.subscriberDeliveries(subscriberId);
    return pageNewestFirst<DeliveryRecord>(
      this.redis,
      key,
      filter,
      async (ids) => {
        const found = new Map((await this.deliveries.getMany(ids)).map((d) => [d.id, d]));
        return ids.map((id) => found.get(id) ?? null);
      },
      (d) =>
        d.subscriberId === subscriberId &&
        (!filter.status || d.state === filter.status) &&
        (!filter.eventType || matchesEventType(filter.eventType, d.eventType)),
    );
  }

  async listEvents(subscriberId: string, filter: EventFilter): Promise<NewestFirstPage<StoredEvent>> {
    return pageNewestFirst<StoredEvent>(
      this.redis,
      this.keys.subscriberEvents(subscriberId),
      filter,
      async (ids) => {
        if (ids.length === 0) return [];
        const raws = await this.redis.mget(ids.map((id) => this.keys.event(id)));
        return raws.map((r) => (r ? (JSON.parse(r) as StoredEvent) : null));
      },
      (e) => !filter.type || matchesEventType(filter.type, e.type),
    );
  }
}
