import type { StoredEvent } from '@hookrelay/contracts';
import { buildEndpoint, buildEvent } from '@hookrelay/testing';
import type { EventFilter } from './history-store';
import { useTestStore } from './test-store';

const PAYLOAD_BYTES = 256 * 1024;
/** What one listing may read from Redis here: a quarter of one payload (the old code read every event of a chunk whole). */
const LISTING_BYTES = PAYLOAD_BYTES / 4;

describe('HistoryStore listings of events with large payloads', () => {
  const db = useTestStore('history');
  const sid = 'sub_history';
  const endpoint = buildEndpoint({ subscriberId: sid, url: 'http://127.0.0.1:9/' });
  const types = ['order.paid', 'order.refunded', 'user.created'];

  /**
   * Bytes the store's connection read from Redis while `fn` ran. Counted on this connection's own
   * socket: Redis's server-wide total_net_output_bytes also counted the suites running beside this
   * one on the same Redis (84 KB against the 64 KB bound once).
   */
  async function bytesSent<T>(fn: () => Promise<T>): Promise<{ result: T; bytes: number }> {
    const read = () => (db.redis as unknown as { stream: { bytesRead: number } }).stream.bytesRead;
    const before = read();
    const result = await fn();
    return { result, bytes: read() - before };
  }

  /** 24 events of 256 KB a millisecond apart, types in turn, each with a pending delivery; oldest first. */
  async function publishLarge(): Promise<StoredEvent[]> {
    const events = Array.from({ length: 24 }, (_, n) =>
      buildEvent({
        subscriberId: sid,
        type: types[n % types.length] as string,
        payload: JSON.stringify({ n, blob: 'x'.repeat(PAYLOAD_BYTES) }),
        createdAt: 1_800_000_000_000 + n,
      }),
    );
    await db.store.deliveries.createForEvents(events.map((event) => ({ event, endpoints: [endpoint] })));
    return events;
  }

  /** Every page of the event listing, and the most bytes one page read. */
  async function allEvents(filter: Omit<EventFilter, 'cursor'>): Promise<{ items: unknown[]; maxBytes: number }> {
    const items: unknown[] = [];
    let maxBytes = 0;
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const { result, bytes } = await bytesSent(() => db.store.history.listEvents(sid, { ...filter, cursor }));
      items.push(...result.items);
      maxBytes = Math.max(maxBytes, bytes);
      cursor = result.nextCursor;
      if (!cursor) return { items, maxBytes };
    }
    throw new Error('the cursor never ran out');
  }

  const summary = (e: StoredEvent) => ({ id: e.id, subscriberId: e.subscriberId, type: e.type, createdAt: e.createdAt });

  it('lists events by id, type and createdAt, with type filters and pages, without reading their payloads', async () => {
    const events = await publishLarge();
    const newestFirst = [...events].reverse();

    const first = await bytesSent(() => db.store.history.listEvents(sid, { limit: 1 }));
    expect(first.bytes).toBeLessThan(LISTING_BYTES);
    expect(first.result.items).toEqual([summary(newestFirst[0]!)]);

    const all = await allEvents({ limit: 5 });
    expect(all.maxBytes).toBeLessThan(LISTING_BYTES);
    expect(all.items).toEqual(newestFirst.map(summary));

    const orders = await allEvents({ type: 'order.*', limit: 7 });
    expect(orders.maxBytes).toBeLessThan(LISTING_BYTES);
    expect(orders.items).toEqual(newestFirst.filter((e) => e.type.startsWith('order.')).map(summary));

    const none = await bytesSent(() => db.store.history.listEvents(sid, { type: 'nothing.matches', limit: 20 }));
    expect(none.bytes).toBeLessThan(LISTING_BYTES);
    expect(none.result).toEqual({ items: [], cursorAfter: [], scanned: expect.any(Number) });

    // An event gone before its log entry (expired; the log is trimmed by time, in whole nodes) is not listed.
    await db.redis.del(db.store.keys.event(newestFirst[0]!.id));
    expect((await db.store.history.listEvents(sid, { limit: 1 })).items).toEqual([summary(newestFirst[1]!)]);
  });

  it('lists events from log entries written before entries carried type and createdAt, without reading their payloads', async () => {
    const events = await publishLarge();
    // One stored in another field order (never by this code): read whole, still listed right.
    const reordered = buildEvent({ subscriberId: sid, type: 'user.deleted', createdAt: 1_800_000_000_100 });
    const { id, type, payload, createdAt } = reordered;
    await db.redis.set(db.store.keys.event(id), JSON.stringify({ type, payload, createdAt, subscriberId: sid, id }));
    // The log as the previous version wrote it: the event id only.
    const log = db.store.keys.subscriberEvents(sid);
    await db.redis.del(log);
    for (const e of [...events, reordered]) await db.redis.xadd(log, `${e.createdAt}-*`, 'i', e.id);
    const newestFirst = [...events, reordered].reverse();

    const all = await allEvents({ limit: 5 });
    expect(all.maxBytes).toBeLessThan(LISTING_BYTES);
    expect(all.items).toEqual(newestFirst.map(summary));

    const orders = await allEvents({ type: 'order.refunded', limit: 3 });
    expect(orders.maxBytes).toBeLessThan(LISTING_BYTES);
    expect(orders.items).toEqual(newestFirst.filter((e) => e.type === 'order.refunded').map(summary));

    await db.redis.del(db.store.keys.event(reordered.id), db.store.keys.event(events[events.length - 1]!.id));
    expect((await db.store.history.listEvents(sid, { limit: 1 })).items).toEqual([summary(events[events.length - 2]!)]);
  });

  it("lists pending deliveries with their event's type without reading the payload", async () => {
    const events = await publishLarge();
    const newest = events[events.length - 1]!;

    const first = await bytesSent(() => db.store.history.listDeliveries(sid, { limit: 1 }));
    expect(first.result.items).toEqual([
      expect.objectContaining({ eventId: newest.id, eventType: newest.type, subscriberId: sid, endpointId: endpoint.id, state: 'pending' }),
    ]);
    expect(first.bytes).toBeLessThan(LISTING_BYTES);

    const refunds = await bytesSent(() => db.store.history.listDeliveries(sid, { eventType: 'order.refunded', limit: 100 }));
    expect(refunds.result.items.map((d) => d.eventId)).toEqual(
      events
        .filter((e) => e.type === 'order.refunded')
        .reverse()
        .map((e) => e.id),
    );
    expect(refunds.bytes).toBeLessThan(LISTING_BYTES);
  });
});
