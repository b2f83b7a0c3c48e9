import { newId, type StoredEvent } from '@hookrelay/contracts';
import { buildEndpoint } from '@hookrelay/testing';
import { pendingDelivery } from './delivery-store';
import type { EventToWrite } from './event-writes';
import { serializeEvent } from './event-store';
import { useTestStore } from './test-store';

// The retention period here is 30 s, so a window of what was written is a second (a thirtieth).
const RETENTION_MS = 30_000;
const WINDOW_MS = 1000;
// What create-event.lua counts for an event (its JSON, 250 and its type twice: its log entry holds
// the type again), per delivery (its first attempt's 1,500 paid ahead) and per idempotency key (the
// key and its `:eps` list).
const eventBytes = (event: StoredEvent) => serializeEvent(event).length + 250 + 2 * event.type.length;
const FIRST_ATTEMPT_BYTES = 1500;
const DELIVERY_BYTES = 700 + FIRST_ATTEMPT_BYTES;
const IDEMPOTENCY_BYTES = 480;

describe("a subscriber's stored bytes (stored-bytes.lua): what it wrote that Redis keeps for the retention period", () => {
  const t0 = 1_800_000_000_000;
  let clock = t0;
  const db = useTestStore('stored', { retentionMs: RETENTION_MS, now: () => clock });
  beforeEach(() => {
    clock = t0;
  });

  const sid = () => newId('sub');
  const eventOf = (subscriberId: string, chars: number): StoredEvent => ({
    id: newId('evt', clock),
    subscriberId,
    type: 'custom.stored',
    payload: JSON.stringify({ blob: 'x'.repeat(chars) }),
    createdAt: clock,
  });
  const used = async (subscriberId: string, limit = 0) => db.store.storedBytes.usage(subscriberId, clock, limit);
  const write = (items: EventToWrite[]) => db.store.deliveries.writeEvents(items);

  /** A new subscriber's event written to one endpoint: its delivery as pending, and what was counted then. */
  const pendingOfNewSubscriber = async () => {
    const s = sid();
    const event = eventOf(s, 10);
    const endpoint = buildEndpoint({ subscriberId: s, url: 'https://example.com/hook' });
    const [written] = await write([{ event, endpoints: [endpoint] }]);
    const [d] = written?.kind === 'new' ? written.deliveries : [];
    if (!d) throw new Error('no delivery written');
    return { s, d, pending: pendingDelivery(d.id, event, endpoint.id, event.createdAt), before: (await used(s)).usedBytes };
  };

  it("counts an event's JSON and each delivery it creates, once: a pair written again adds nothing", async () => {
    const s = sid();
    const event = eventOf(s, 1000);
    const endpoints = [
      buildEndpoint({ subscriberId: s, url: 'https://example.com/hook' }),
      buildEndpoint({ subscriberId: s, url: 'https://example.com/hook' }),
    ];
    const [written] = await write([{ event, endpoints }]);
    expect(written?.kind).toBe('new');
    const expected = eventBytes(event) + 2 * DELIVERY_BYTES;
    expect((await used(s)).usedBytes).toBe(expected);
    // The same event and endpoints again: nothing new is written, nothing more is counted.
    await write([{ event, endpoints }]);
    expect((await used(s)).usedBytes).toBe(expected);
    // An idempotency key is counted with its event.
    const keyed = eventOf(s, 10);
    await write([{ event: keyed, endpoints: [], idempotency: { key: db.store.idempotency.keyOf(s, 'k1'), digest: 'd1' } }]);
    expect((await used(s)).usedBytes).toBe(expected + eventBytes(keyed) + IDEMPOTENCY_BYTES);
    // Another subscriber's count is its own.
    expect((await used(sid())).usedBytes).toBe(0);
  });

  it('counts what an attempt writes: its JSON, and the record on its first write beyond what its publish paid', async () => {
    const { s, d, pending, before } = await pendingOfNewSubscriber();
    // A response body of 3 KB: a first attempt larger than what its publish paid for.
    const requestHeaders = { a: 'b' };
    const attempt = {
      attempt: 1,
      startedAt: clock,
      durationMs: 3,
      outcome: 'retry' as const,
      statusCode: 503,
      requestHeaders,
      responseBody: 'x'.repeat(3000),
    };
    await db.store.deliveries.recordAttempt(pending, attempt, { state: 'retrying', attempts: 1, lastStatusCode: 503 });
    const [json] = await db.redis.lrange(db.store.keys.deliveryAttempts(d.id), 0, -1);
    // The record as written by that attempt: its identity and its state, each field and value.
    const record = await db.redis.hgetall(db.store.keys.delivery(d.id));
    const recordBytes = Object.entries(record).reduce((n, [k, v]) => n + k.length + v.length, 0);
    const first = json!.length + 50 + recordBytes + 200 - FIRST_ATTEMPT_BYTES;
    expect(first).toBeGreaterThan(0);
    expect((await used(s)).usedBytes).toBe(before + first);
    // A second attempt adds its JSON only; the same attempt recorded again (a call that ran twice) nothing.
    const second = { ...attempt, attempt: 2 };
    await db.store.deliveries.recordAttempt(pending, second, { state: 'retrying', attempts: 2 });
    await db.store.deliveries.recordAttempt(pending, second, { state: 'retrying', attempts: 2 });
    const secondJson = (await db.redis.lrange(db.store.keys.deliveryAttempts(d.id), 1, 1))[0]!;
    expect((await used(s)).usedBytes).toBe(before + first + secondJson.length + 50);
  });

  it('charges a usual first attempt nothing: its publish paid for it', async () => {
    const { s, pending, before } = await pendingOfNewSubscriber();
    const requestHeaders = { 'content-type': 'application/json', 'x-hookrelay-signature': 'v1,' + 'a'.repeat(44) };
    const attempt = { attempt: 1, startedAt: clock, durationMs: 3, outcome: 'delivered' as const, statusCode: 200, requestHeaders };
    await db.store.deliveries.recordAttempt(pending, attempt, { state: 'delivered', attempts: 1, lastStatusCode: 200 });
    expect((await used(s)).usedBytes).toBe(before);
  });

  it('refuses a write that would go over the limit, writing nothing of its group, and says when it would fit', async () => {
    const s = sid();
    const endpoint = buildEndpoint({ subscriberId: s, url: 'https://example.com/hook' });
    const first = eventOf(s, 2000);
    await write([{ event: first, endpoints: [endpoint], storedBytesLimit: 8000 }]);
    const afterFirst = (await used(s)).usedBytes;
    expect(afterFirst).toBe(eventBytes(first) + DELIVERY_BYTES);
    // Two seconds (two windows) on, a group of two: the second event would take it over.
    clock = t0 + 2 * WINDOW_MS;
    const a = eventOf(s, 100);
    const b = eventOf(s, 2000);
    const writes = await write([
      { event: a, endpoints: [endpoint], group: 1, storedBytesLimit: 8000 },
      { event: b, endpoints: [endpoint], group: 1, storedBytesLimit: 8000 },
    ]);
    // It fits once the first event's window has outlived the retention period: its start, a window
    // and the retention period after t0.
    const refusal = { kind: 'stored', usedBytes: afterFirst, limitBytes: 8000, waitMs: t0 + WINDOW_MS + RETENTION_MS - clock };
    expect(writes).toEqual([refusal, refusal]);
    expect(await db.redis.exists(db.store.keys.event(a.id), db.store.keys.event(b.id))).toBe(0);
    expect(await db.redis.hlen(db.store.keys.laneEntries())).toBe(1);
    expect((await used(s)).usedBytes).toBe(afterFirst);
    // A request larger than the whole limit never fits: -1.
    const [alone] = await write([{ event: eventOf(s, 9000), endpoints: [], storedBytesLimit: 8000 }]);
    expect(alone).toEqual({ kind: 'stored', usedBytes: afterFirst, limitBytes: 8000, waitMs: -1 });
    // Once the first event's window has gone by, the same group is written.
    clock = t0 + WINDOW_MS + RETENTION_MS;
    expect((await used(s)).usedBytes).toBe(0);
    const again = await write([
      { event: a, endpoints: [endpoint], group: 1, storedBytesLimit: 8000 },
      { event: b, endpoints: [endpoint], group: 1, storedBytesLimit: 8000 },
    ]);
    expect(again.map((w) => w.kind)).toEqual(['new', 'new']);
  });

  it("follows the admin's own limit for the subscriber over the caller's default, and 0 for none", async () => {
    const s = sid();
    await write([{ event: eventOf(s, 3000), endpoints: [] }]);
    const big = { event: eventOf(s, 10), endpoints: [], storedBytesLimit: 1_000_000 };
    await db.store.subscribers.setLimitOverrides(s, { maxStoredBytes: 1000 });
    expect((await write([big]))[0]?.kind).toBe('stored');
    await db.store.subscribers.setLimitOverrides(s, { maxStoredBytes: 0 });
    expect((await write([{ ...big, event: eventOf(s, 10), storedBytesLimit: 1 }]))[0]?.kind).toBe('new');
    await db.store.subscribers.setLimitOverrides(s, { maxStoredBytes: null });
    expect((await write([{ ...big, event: eventOf(s, 10), storedBytesLimit: 1 }]))[0]?.kind).toBe('stored');
  });

  it('drops each window from the sum once it has outlived the retention period, and keeps at most ~32 of them', async () => {
    const s = sid();
    const sizes: number[] = [];
    for (let i = 0; i < 40; i++) {
      clock = t0 + i * WINDOW_MS;
      const event = eventOf(s, 10 + i);
      sizes.push(eventBytes(event));
      await write([{ event, endpoints: [] }]);
    }
    // At the 40th window the first 9 have outlived the retention period (each ends a window after its start).
    const kept = sizes.slice(9).reduce((n, x) => n + x, 0);
    expect((await used(s)).usedBytes).toBe(kept);
    const fields = await db.redis.hkeys(db.store.keys.subscriberStoredBytes(s));
    expect(fields.filter((f) => f.startsWith('t'))).toHaveLength(31);
    // The key lives until its newest window has outlived the retention period: the window's end
    // (the clock is at its start) and the retention period.
    const ttl = await db.redis.pttl(db.store.keys.subscriberStoredBytes(s));
    expect(ttl).toBeGreaterThan(RETENTION_MS);
    expect(ttl).toBeLessThanOrEqual(RETENTION_MS + WINDOW_MS);
  });

  it('leaves no key behind for a read, and answers how long until a subscriber over its limit is under it again', async () => {
    const s = sid();
    expect(await used(s, 100)).toEqual({ usedBytes: 0, waitMs: null, deliveriesHeld: false });
    expect(await db.redis.exists(db.store.keys.subscriberStoredBytes(s))).toBe(0);
    await write([{ event: eventOf(s, 500), endpoints: [] }]);
    clock = t0 + 5000;
    const { usedBytes, waitMs } = await used(s, 100);
    expect(usedBytes).toBeGreaterThan(500);
    expect(waitMs).toBe(t0 + WINDOW_MS + RETENTION_MS - clock);
    expect((await used(s, 1_000_000)).waitMs).toBeNull();
    // Held or not by the limit recorded for admission (the last publish's or change's), whatever
    // limit the reader passes: admission holds by that one.
    expect((await used(s, 1_000_000)).deliveriesHeld).toBe(false);
    await db.store.storedBytes.setLimit(s, 100, clock);
    expect((await used(s, 1_000_000)).deliveriesHeld).toBe(true);
    await db.store.storedBytes.setLimit(s, 0, clock);
    expect((await used(s, 100)).deliveriesHeld).toBe(false);
  });
});

describe('stored bytes under a retention period that is not a whole number of windows', () => {
  // 8.64 s (HOOKRELAY_RETENTION_DAYS=0.0001): windows of a second, each ending 640 ms into one.
  const t0 = 1_800_000_000_000;
  let clock = t0;
  const db = useTestStore('stored-odd', { retentionMs: 8640, now: () => clock });

  it('stops counting a window the moment it has outlived the retention period, not at the next window', async () => {
    const s = newId('sub');
    clock = t0;
    await db.store.deliveries.writeEvents([
      { event: { id: newId('evt', clock), subscriberId: s, type: 'custom.odd', payload: '{}', createdAt: clock }, endpoints: [] },
    ]);
    // Read early in the window in which it ends (t0 + 1,000 + 8,640): still counted.
    clock = t0 + 9100;
    expect((await db.store.storedBytes.usage(s, clock, 100)).usedBytes).toBeGreaterThan(0);
    expect((await db.store.storedBytes.usage(s, clock, 100)).waitMs).toBe(540);
    // At its end, in the same window of the clock: gone.
    clock = t0 + 9640;
    expect(await db.store.storedBytes.usage(s, clock, 100)).toEqual({ usedBytes: 0, waitMs: null, deliveriesHeld: false });
  });
});

describe('stored bytes written by processes whose clocks differ, and by replays', () => {
  const t0 = 1_800_000_000_000;
  let clock = t0;
  const db = useTestStore('stored-clocks', { retentionMs: RETENTION_MS, now: () => clock });
  const event = (subscriberId: string, payload = '{}') => ({
    id: newId('evt', clock),
    subscriberId,
    type: 'custom.clocks',
    payload,
    createdAt: clock,
  });

  it('stops counting an older window written late (a clock behind) at its own end', async () => {
    const s = newId('sub');
    clock = t0 + 5 * WINDOW_MS;
    await db.store.deliveries.writeEvents([{ event: event(s), endpoints: [] }]);
    const newer = (await db.store.storedBytes.usage(s, clock, 0)).usedBytes;
    // A process whose clock is four windows behind writes an event: its window ends first.
    clock = t0 + WINDOW_MS;
    await db.store.deliveries.writeEvents([{ event: event(s, '{"late":true}'), endpoints: [] }]);
    clock = t0 + 2 * WINDOW_MS + RETENTION_MS;
    expect((await db.store.storedBytes.usage(s, clock, 0)).usedBytes).toBe(newer);
  });

  it("says when a request fits counting the same call's writes, and checks a replay only for the deliveries it would create", async () => {
    const s = newId('sub');
    const endpoint = (path: string) => buildEndpoint({ subscriberId: s, url: `https://example.com/${path}` });
    const [a, b] = [endpoint('a'), endpoint('b')];
    clock = t0;
    const stored = event(s);
    await db.store.deliveries.writeEvents([{ event: stored, endpoints: [a] }]);
    const used = (await db.store.storedBytes.usage(s, clock, 0)).usedBytes;
    // A replay to the endpoint that has its delivery already writes nothing: it fits a limit with
    // no room; to a new one it needs a delivery's worth, more than the room left.
    const summary = { id: stored.id, subscriberId: s, type: stored.type, createdAt: stored.createdAt };
    const again = await db.store.deliveries.writeEvents([{ event: summary, endpoints: [a], storedBytesLimit: used }]);
    expect(again[0]?.kind).toBe('new');
    const toNew = await db.store.deliveries.writeEvents([{ event: summary, endpoints: [b], storedBytesLimit: used + 100 }]);
    expect(toNew[0]).toMatchObject({ kind: 'stored', usedBytes: used });
    // Two groups in one call, half a window into the next: the second fits only once the first
    // group's bytes, written by the same call, have expired too (the end of the window they go
    // into, not a whole window and the retention period from now).
    clock = t0 + WINDOW_MS + WINDOW_MS / 2;
    const first = event(s, JSON.stringify({ blob: 'x'.repeat(3000) }));
    const second = event(s, JSON.stringify({ blob: 'y'.repeat(3000) }));
    // Room for the first group (~3,430 bytes) and no more.
    const limit = used + 3500;
    const both = await db.store.deliveries.writeEvents([
      { event: first, endpoints: [], group: 1, storedBytesLimit: limit },
      { event: second, endpoints: [], group: 2, storedBytesLimit: limit },
    ]);
    expect(both[0]?.kind).toBe('new');
    // What t0's window frees (~2,500 bytes) is not enough: the wait runs to the end of this call's window.
    expect(used).toBeLessThan(3000);
    expect(both[1]).toMatchObject({ kind: 'stored', waitMs: t0 + 2 * WINDOW_MS + RETENTION_MS - clock });
  });
});
