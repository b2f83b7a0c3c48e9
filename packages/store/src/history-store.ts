import type Redis from 'ioredis';
import { deliveryId, matchesEventType, timeOfId, type DeliveryRecord, type DeliveryState, type StoredEvent } from '@hookrelay/contracts';
import type { DeliveryStore } from './delivery-store';
import type { EndpointStore } from './endpoint-store';
import type { EventStore, EventSummary } from './event-store';
import { pageLogNewestFirst, type NewestFirstPage, type PageOptions, type TimeWindow } from './history-log';
import type { Keys } from './keys';

export interface DeliveryFilter extends PageOptions {
  endpointId?: string;
  /** A type or a pattern (`incident.*`). */
  eventType?: string;
  status?: DeliveryState;
}

export interface EventFilter extends TimeWindow {
  type?: string;
  cursor?: string;
  limit: number;
}

/**
 * Allowance for clocks: an endpoint's id carries its creator's clock, its deletion its deleter's,
 * an event its publisher's; and a publish stamps its event a moment before it reads the endpoints
 * it fans out to, as a delete stamps its deletion a moment before it lands. An endpoint created or
 * deleted within this of an event counts as alive at it.
 */
export const HISTORY_CLOCK_SLACK_MS = 1000;

/**
 * Deliveries one page of events with their outcomes looks up at most (three Redis reads each): a
 * page ends early, with a cursor, at the event that would pass it. 50 events to a subscriber's 100
 * endpoints are 5,000.
 */
export const OUTCOME_LOOKUPS_PER_PAGE = 5000;

/** A deleted endpoint's lifetime: created (from its id; -Infinity for an id that carries no time, a fixture's) and deleted. */
interface Lifetime {
  id: string;
  createdAt: number;
  deletedAt: number;
}

/** Whether an endpoint with `life` was alive when an event was created at `eventAt`. */
function aliveAt(life: Lifetime, eventAt: number): boolean {
  return life.deletedAt >= eventAt - HISTORY_CLOCK_SLACK_MS && life.createdAt <= eventAt + HISTORY_CLOCK_SLACK_MS;
}

type Counts = Record<DeliveryState, number>;

/**
 * Read side of the delivery history: what a subscriber sees of what was sent to them; and the one
 * note it needs written, the endpoints an event went to though created after it (noteLateTargets).
 */
export class HistoryStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly deliveries: DeliveryStore,
    private readonly events: EventStore,
    private readonly endpoints: EndpointStore,
    private readonly retentionMs: number,
  ) {}

  /**
   * The deliveries an event fanned out to (replays included), oldest first. Not stored as a list:
   * a delivery's id derives from the event and the endpoint, so they are the existing ones among
   * the ids for the endpoints that may hold one (endpointsThatMayHold), which spares a key per
   * event.
   */
  async deliveriesOfEvent(event: Pick<StoredEvent, 'id' | 'subscriberId' | 'createdAt'>): Promise<DeliveryRecord[]> {
    const endpointIds = (await this.endpointsThatMayHold(event.subscriberId, [event])).get(event.id) ?? [];
    const found = await this.deliveries.getMany(endpointIds.map((endpointId) => deliveryId(event.id, endpointId)));
    return found.sort((a, b) => a.createdAt - b.createdAt);
  }

  /**
   * How each event's deliveries stand, counted by state: what a listing of events shows beside
   * each one. One read of the subscriber's endpoint ids serves every event. Counts the first
   * `covered` events only, those whose possible deliveries fit in `maxLookups` (at least one event):
   * an event replayed to endpoints created and deleted since can have a thousand, and 50 such events
   * were one transaction of ~150,000 commands (223 ms of Redis for nobody else, 4.8 s for the page).
   */
  async outcomesOfEvents(
    subscriberId: string,
    events: ReadonlyArray<Pick<StoredEvent, 'id' | 'createdAt'>>,
    maxLookups = OUTCOME_LOOKUPS_PER_PAGE,
  ): Promise<{ outcomes: Map<string, Counts>; covered: number; lookedUp: number }> {
    const mayHold = await this.endpointsThatMayHold(subscriberId, events);
    const ids: string[] = [];
    let covered = 0;
    for (const event of events) {
      const endpointIds = mayHold.get(event.id) ?? [];
      if (covered > 0 && ids.length + endpointIds.length > maxLookups) break;
      for (const endpointId of endpointIds) ids.push(deliveryId(event.id, endpointId));
      covered++;
    }
    const found = await this.deliveries.getMany(ids);
    const outcomes = new Map(
      events.slice(0, covered).map((e): [string, Counts] => [e.id, { pending: 0, retrying: 0, delivered: 0, failed: 0 }]),
    );
    for (const d of found) {
      const counts = outcomes.get(d.eventId);
      if (counts) counts[d.state]++;
    }
    return { outcomes, covered, lookedUp: ids.length };
  }

  /**
   * Notes the endpoints among `endpointIds` that were created after `event` (more than the clock
   * allowance), before deliveries of it to them are written: a replay's targets, or a publish's
   * when its read of the endpoints outlasted the allowance. Once deleted, they are not among those
   * alive at the event that endpointsThatMayHold looks at. Kept for the retention period, as the
   * deliveries are.
   */
  async noteLateTargets(event: Pick<StoredEvent, 'id' | 'createdAt'>, endpointIds: readonly string[]): Promise<void> {
    const late = endpointIds.filter((id) => (timeOfId(id) ?? -Infinity) > event.createdAt + HISTORY_CLOCK_SLACK_MS);
    if (late.length === 0) return;
    const key = this.keys.eventLateEndpoints(event.id);
    await this.redis
      .multi()
      .sadd(key, ...late)
      .pexpire(key, this.retentionMs)
      .exec();
  }

  /**
   * Per event, the endpoints that may hold a delivery of it: the subscriber's endpoints, those
   * deleted since that were alive when it was created (its fan-out went to endpoints alive then)
   * and those a replay (or a slow publish) sent it to though created after it (noteLateTargets). Not every endpoint
   * deleted within the retention period: deleted endpoints do not count toward the quota, and each
   * one added three commands per event looked up, so 2,000 create/delete cycles made one
   * `GET .../events?include=outcomes` take 3.4 s (and a publish beside it as long), 6,000 made both
   * 503. An event's lookups are now the endpoints alive around its creation plus its replays'.
   */
  private async endpointsThatMayHold(
    subscriberId: string,
    events: ReadonlyArray<Pick<StoredEvent, 'id' | 'createdAt'>>,
  ): Promise<Map<string, string[]>> {
    if (events.length === 0) return new Map();
    const oldest = Math.min(...events.map((e) => e.createdAt));
    const late = this.redis.pipeline();
    for (const e of events) late.smembers(this.keys.eventLateEndpoints(e.id));
    const [{ current, deleted }, replies] = await Promise.all([
      this.endpoints.idsForHistory(subscriberId, oldest - HISTORY_CLOCK_SLACK_MS),
      late.exec(),
    ]);
    // Each id decoded once, and only endpoints created before the newest event can matter.
    const newest = Math.max(...events.map((e) => e.createdAt));
    const lives = deleted
      .map((d): Lifetime => ({ id: d.id, createdAt: timeOfId(d.id) ?? Number.NEGATIVE_INFINITY, deletedAt: d.deletedAt }))
      .filter((life) => life.createdAt <= newest + HISTORY_CLOCK_SLACK_MS);
    return new Map(
      events.map((e, n) => {
        const [err, lateIds] = replies?.[n] ?? [];
        if (err) throw err;
        const alive = lives.filter((life) => aliveAt(life, e.createdAt)).map((life) => life.id);
        return [e.id, [...new Set([...current, ...alive, ...((lateIds ?? []) as string[])])]];
      }),
    );
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
