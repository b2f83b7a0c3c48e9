import type Redis from 'ioredis';
import { deliveryId, matchesEventType, type DeliveryRecord, type DeliveryState, type StoredEvent } from '@hookrelay/contracts';
import type { DeliveryStore } from './delivery-store';
import type { EndpointStore } from './endpoint-store';
import type { EventStore, EventSummary } from './event-store';
import { pageLogNewestFirst, type NewestFirstPage, type TimeWindow } from './history-log';
import type { Keys } from './keys';

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
    private readonly events: EventStore,
    private readonly endpoints: EndpointStore,
  ) {}

  /**
   * The deliveries an event fanned out to (replays included), oldest first. Not stored as a list:
   * a delivery's id derives from the event and the endpoint, so they are the existing ones among
   * the ids for every endpoint the subscriber has or deleted within the retention period, which
   * spares a key per event.
   */
  async deliveriesOfEvent(event: Pick<StoredEvent, 'id' | 'subscriberId'>): Promise<DeliveryRecord[]> {
    const endpointIds = await this.endpoints.idsWithinRetention(event.subscriberId);
    const found = await this.deliveries.getMany(endpointIds.map((endpointId) => deliveryId(event.id, endpointId)));
    return found.sort((a, b) => a.createdAt - b.createdAt);
  }

  /**
   * How each event's deliveries stand, counted by state: what a listing of events shows beside
   * each one. One read of the subscriber's endpoint ids serves every event.
   */
  async outcomesOfEvents(subscriberId: string, eventIds: readonly string[]): Promise<Map<string, Record<DeliveryState, number>>> {
    const endpointIds = await this.endpoints.idsWithinRetention(subscriberId);
    const found = await this.deliveries.getMany(
      eventIds.flatMap((eventId) => endpointIds.map((endpointId) => deliveryId(eventId, endpointId))),
    );
    const out = new Map(eventIds.map((id) => [id, { pending: 0, retrying: 0, delivered: 0, failed: 0 }]));
    for (const d of found) {
      const counts = out.get(d.eventId);
      if (counts) counts[d.state]++;
    }
    return out;
  }

  async listDeliveries(subscriberId: string, filter: DeliveryFilter): Promise<NewestFirstPage<DeliveryRecord>> {
    const key = filter.endpointId ? this.keys.endpointDeliveries(filter.endpointId) : this.keys.subscriberDeliveries(subscriberId);
    return pageLogNewestFirst<DeliveryRecord>(
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

  /**
   * A page of the subscriber's events, without payloads: each log entry carries the event's type
   * and createdAt (create-event.lua), so the type filter reads nothing more and an event listed
   * costs one EXISTS (it may have expired before its entry is trimmed). An entry written before
   * entries carried them is read through the event's summary (EventStore.summaries), never its
   * payload: listings that read whole events (up to 1 MB each, 200 a chunk) took 0.7-0.9 s for
   * `limit=1` and held the API's event loop for other subscribers.
   */
  async listEvents(subscriberId: string, filter: EventFilter): Promise<NewestFirstPage<EventSummary>> {
    const wanted = (type: string) => !filter.type || matchesEventType(filter.type, type);
    return pageLogNewestFirst<EventSummary>(
      this.redis,
      this.keys.subscriberEvents(subscriberId),
      filter,
      async (ids, fields) => {
        // From the entry itself: null when its type is filtered out, undefined for an entry written
        // before entries carried type and createdAt, which names only the event.
        const logged = fields.map(({ t, c }, n): EventSummary | null | undefined => {
          if (t === undefined || c === undefined) return undefined;
          return wanted(t) ? { id: ids[n] as string, subscriberId, type: t, createdAt: Number(c) } : null;
        });
        const [live, older] = await Promise.all([
          this.events.existing(logged.flatMap((e) => (e ? [e.id] : []))),
          this.events.summaries(ids.filter((_, n) => logged[n] === undefined)),
        ]);
        const olderById = new Map(older.flatMap((e) => (e ? [[e.id, e] as const] : [])));
        return logged.map((e, n) => {
          if (e === undefined) return olderById.get(ids[n] as string) ?? null;
          return e && live.has(e.id) ? e : null;
        });
      },
      (e) => wanted(e.type),
    );
  }
}
