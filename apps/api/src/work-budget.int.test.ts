import { useTestReceiver, watchCommands } from '@hookrelay/testing';
import { manualClock, useApiHarness } from './api-harness';
import { DEFAULT_SUBSCRIBER_LIMITS } from './subscriber-limits';
import { newSubscriber } from './sources/source-test-kit';
import { FREE_DIGEST_KB, FREE_READS, recordReadCost, WORK_COSTS } from './work-budget';

// Small budgets, so a few dozen records spend them: 10 units a second, 50 in hand.
const LIMITS = { workUnitsPerSecond: 10, workUnitsBurst: 50 };

describe('the per-subscriber work budget', () => {
  const clock = manualClock();
  const receiver = useTestReceiver();
  const h = useApiHarness(() => ({ worker: false, now: clock.now, limits: LIMITS }));
  // A second API process on the same Redis data: the budget is shared through Redis.
  const second = useApiHarness(() => ({ worker: false, now: clock.now, limits: LIMITS, prefix: h.prefix, keepData: true }));

  /** A subscriber with one endpoint and `events` pending deliveries to it (no worker runs). */
  async function subscriberWithDeliveries(events: number) {
    const { sid, key } = await newSubscriber(h);
    const endpoint = await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { key, body: { url: receiver.url } });
    expect(endpoint.status).toBe(201);
    const batch = Array.from({ length: events }, (_, i) => ({ type: 'custom.order.paid', payload: { i } }));
    if (events > 0) expect((await h.call('POST', `/v1/subscribers/${sid}/events/batch`, { body: { events: batch } })).status).toBe(202);
    return { sid, key, eid: endpoint.body.id as string, base: `/v1/subscribers/${sid}` };
  }

  function expectExhausted(res: { status: number; body: any; headers: Headers }, retryAfter: string, perSecond = 10) {
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe(retryAfter);
    expect(res.body.error).toEqual({
      code: 'work_budget_exhausted',
      message: expect.stringContaining('retry after'),
      details: [{ path: 'limits.workUnitsPerSecond', message: `${perSecond} units a second, about one per record read` }],
    });
  }

  it('charges what heavy requests read across two API processes, then refuses the next with 429 and Retry-After until it refills', async () => {
    const t = await subscriberWithDeliveries(30);
    // A filtered listing reads all 30 deliveries (none failed): 30 units, 20 left.
    const listed = await h.call('GET', `${t.base}/deliveries?status=failed`, { key: t.key });
    expect(listed.status).toBe(200);
    expect(listed.body.data).toEqual([]);
    // Through the other process: a recover reads the same 30, leaving a debt of 10 units (1 s at 10 a second).
    const recovered = await second.call('POST', `${t.base}/endpoints/${t.eid}/recover`, { key: t.key, body: { since: 0 } });
    expect(recovered.status).toBe(202);
    expect(recovered.body).toMatchObject({ recovered: 0, complete: true });

    // The balance is positive 1.001 s from now: whole seconds, rounded up.
    expectExhausted(await h.call('GET', `${t.base}/deliveries?status=failed`, { key: t.key }), '2');
    expectExhausted(await second.call('POST', `${t.base}/endpoints/${t.eid}/recover`, { key: t.key, body: { since: 0 } }), '2');
    expectExhausted(await second.call('GET', `${t.base}/events?type=custom.nope`, { key: t.key }), '2');

    clock.advance(1000);
    expectExhausted(await h.call('GET', `${t.base}/deliveries?status=failed`, { key: t.key }), '1');
    clock.advance(1);
    expect((await second.call('GET', `${t.base}/deliveries?status=failed`, { key: t.key })).status).toBe(200);
  });

  it('charges a portal session of the subscriber as its own key: one budget for both', async () => {
    const t = await subscriberWithDeliveries(60);
    const session = await h.call('POST', `${t.base}/portal-sessions`, { body: {} });
    expect(session.status).toBe(201);
    expect((await second.call('GET', `${t.base}/deliveries?status=failed`, { key: session.body.token })).status).toBe(200);
    expectExhausted(await h.call('GET', `${t.base}/deliveries?status=failed`, { key: t.key }), '2');
    expectExhausted(await h.call('GET', `${t.base}/deliveries?eventType=custom.*`, { key: session.body.token }), '2');
  });

  it('leaves another subscriber, cheap requests, publishes and the admin unaffected', async () => {
    const t = await subscriberWithDeliveries(60);
    expect((await h.call('POST', `${t.base}/endpoints/${t.eid}/recover`, { key: t.key, body: { since: 0 } })).status).toBe(202);
    expect((await second.call('GET', `${t.base}/deliveries?status=failed`, { key: t.key })).status).toBe(429);
    const before = await h.redis.hgetall(h.store.keys.subscriberWorkBudget(t.sid));

    const other = await subscriberWithDeliveries(30);
    expect((await second.call('GET', `${other.base}/deliveries?status=failed`, { key: other.key })).status).toBe(200);
    // A plain read of one endpoint, an unfiltered page, a publish: never charged, never refused.
    expect((await second.call('GET', `${t.base}/endpoints/${t.eid}`, { key: t.key })).status).toBe(200);
    expect((await h.call('GET', `${t.base}/deliveries?limit=5`, { key: t.key })).status).toBe(200);
    expect((await h.call('GET', `${t.base}/events?limit=5`, { key: t.key })).status).toBe(200);
    expect((await h.call('POST', `${t.base}/events`, { key: t.key, body: { type: 'custom.order.paid', payload: {} } })).status).toBe(202);
    // The admin key (the operator's) is trusted: not charged.
    expect((await h.call('GET', `${t.base}/deliveries?status=failed`)).status).toBe(200);
    expect(await h.redis.hgetall(h.store.keys.subscriberWorkBudget(t.sid))).toEqual(before);
  });

  it('charges a test send its fixed cost and a replay the endpoints it read and wrote to', async () => {
    const t = await subscriberWithDeliveries(0);
    const sent = await h.call('POST', `${t.base}/endpoints/${t.eid}/test`, { key: t.key, body: {} });
    expect(sent.status).toBe(200);
    // 1,000 units from 50: a debt of 950, 95 s at 10 a second.
    expectExhausted(await second.call('POST', `${t.base}/endpoints/${t.eid}/test`, { key: t.key, body: {} }), '96');
    expect(receiver.requests.length).toBeGreaterThanOrEqual(1);

    const r = await subscriberWithDeliveries(0);
    const ev = await h.call('POST', `${r.base}/events`, { body: { type: 'custom.order.paid', payload: {} } });
    // A replay to its one endpoint: 1 endpoint read + 10 for the delivery written, 11 units each; 5 spend 55.
    for (let i = 0; i < 5; i++)
      expect((await h.call('POST', `${r.base}/events/${ev.body.id}/replay`, { key: r.key, body: {} })).status).toBe(202);
    expectExhausted(await second.call('POST', `${r.base}/events/${ev.body.id}/replay`, { key: r.key, body: {} }), '1');
  });

  it('charges a replay refused 400 for its endpointIds the endpoints it routed, and refuses one over budget 429 before routing them', async () => {
    const r = await subscriberWithDeliveries(0);
    // Nine endpoints the event's type does not match: they are read and routed all the same.
    for (let i = 1; i < 10; i++) {
      const body = { url: `${receiver.url}/${i}`, eventTypes: ['custom.other.thing'] };
      expect((await h.call('POST', `${r.base}/endpoints`, { key: r.key, body })).status).toBe(201);
    }
    const ev = await h.call('POST', `${r.base}/events`, { body: { type: 'custom.order.paid', payload: {} } });
    const replay = `${r.base}/events/${ev.body.id}/replay`;
    const unknown = { key: r.key, body: { endpointIds: ['ep_unknown'] } };
    // Each read and routed its 10 endpoints (one matched) before finding the id among none: 10 units, five spend the 50.
    for (let i = 0; i < 5; i++) expect((await h.call('POST', replay, unknown)).status).toBe(400);
    // Asked before the endpoints are read: a replay that would be refused 400 is refused 429 first.
    expectExhausted(await second.call('POST', replay, unknown), '1');
    expectExhausted(await h.call('POST', replay, { key: r.key, body: {} }), '1');
  });

  it('charges a replay refused for the storage quota the endpoints it routed', async () => {
    const r = await subscriberWithDeliveries(0);
    for (let i = 1; i < 10; i++)
      expect((await h.call('POST', `${r.base}/endpoints`, { key: r.key, body: { url: `${receiver.url}/${i}` } })).status).toBe(201);
    const ev = await h.call('POST', `${r.base}/events`, { body: { type: 'custom.order.paid', payload: {} } });
    expect((await h.call('PATCH', r.base, { body: { limits: { maxStoredBytes: 1 } } })).status).toBe(200);
    const replay = `${r.base}/events/${ev.body.id}/replay`;
    // Each read and routed its 10 endpoints before the quota refused it: 10 units, five spend the 50.
    for (let i = 0; i < 5; i++)
      expect((await h.call('POST', replay, { key: r.key, body: {} })).body.error.code).toBe('storage_quota_exceeded');
    expectExhausted(await h.call('POST', replay, { key: r.key, body: {} }), '1');
  });

  describe('a publish with an idempotency key (its digest)', () => {
    /** A publish with `idempotencyKey` of a payload just under `kb` KB as JSON, told apart by `n`. */
    const keyed = (harness: typeof h, t: { base: string; key: string }, idempotencyKey: string, kb: number, n: number) =>
      harness.call('POST', `${t.base}/events`, {
        key: t.key,
        body: { type: 'custom.order.paid', idempotencyKey, payload: { n, pad: 'x'.repeat(kb * 1024 - 100) } },
      });

    it('charges one that writes nothing by the payload it digested, then refuses the next 429 before digesting it; never one that writes', async () => {
      const t = await subscriberWithDeliveries(0);
      const other = await subscriberWithDeliveries(0);
      // Written, however large: not charged (its stored bytes count it), no budget written.
      expect((await keyed(h, t, 'k', 20, 1)).status).toBe(202);
      expect(await budgetOf(t.sid)).toEqual({});
      // The key with another payload: 422, nothing written. 20 KB digested, 5 units a KB beyond the free 8: 60 from 50.
      const reused = await keyed(h, t, 'k', 20, 2);
      expect(reused.status).toBe(422);
      expect(reused.body.error.code).toBe('idempotency_key_reused');
      expect(await budgetOf(t.sid)).toMatchObject({ b: '-10.000' });
      // In debt, and having had a keyed publish write nothing, a keyed publish of that size is refused
      // in that process before its digest and its write, a new key's too.
      expectExhausted(await keyed(h, t, 'k', 20, 3), '2');
      expectExhausted(await keyed(h, t, 'k2', 20, 4), '2');
      // Another process learns it from its own: its first is digested, refused 422 and charged (60 more).
      expect((await keyed(second, t, 'k', 20, 3)).status).toBe(422);
      expectExhausted(await keyed(second, t, 'k2', 20, 4), '8');
      // Keyed payloads of 8 KB or less are free: never refused, never charged. Unkeyed ones neither.
      expect((await keyed(h, t, 'k', 4, 5)).status).toBe(422);
      expect((await keyed(second, t, 'k3', 4, 6)).status).toBe(202);
      const unkeyed = { type: 'custom.order.paid', payload: { pad: 'x'.repeat(20 * 1024) } };
      expect((await h.call('POST', `${t.base}/events`, { key: t.key, body: unkeyed })).status).toBe(202);
      expect(await budgetOf(t.sid)).toMatchObject({ b: '-70.000' });
      // Another subscriber's keyed publishes go on.
      expect((await keyed(h, other, 'k', 20, 1)).status).toBe(202);
      expect((await keyed(second, other, 'k2', 20, 1)).status).toBe(202);
      expect(await budgetOf(other.sid)).toEqual({});

      clock.advance(7001);
      // A repeat is answered from its key and wrote nothing either: charged like a reuse, 60 from 0.01.
      const repeat = await keyed(h, t, 'k', 20, 1);
      expect(repeat.status).toBe(202);
      expect(repeat.headers.get('idempotent-replayed')).toBe('true');
      expectExhausted(await keyed(second, t, 'k', 20, 3), '6');
    });

    it("does not refuse a subscriber's keyed publishes for a debt its other work made while they all wrote", async () => {
      const t = await subscriberWithDeliveries(60);
      // A recover reads 60 deliveries: 10 units of debt.
      expect((await h.call('POST', `${t.base}/endpoints/${t.eid}/recover`, { key: t.key, body: { since: 0 } })).status).toBe(202);
      expectExhausted(await h.call('GET', `${t.base}/deliveries?status=failed`, { key: t.key }), '2');
      // Its backend's large keyed publishes write their events: neither refused nor charged.
      expect((await keyed(h, t, 'k1', 20, 1)).status).toBe(202);
      expect((await keyed(second, t, 'k2', 20, 2)).status).toBe(202);
      expect(await budgetOf(t.sid)).toMatchObject({ b: '-10.000' });
      // A retry of one is a repeat: charged its digest (60), but not a refusal, so the next still goes.
      expect((await keyed(h, t, 'k1', 20, 1)).headers.get('idempotent-replayed')).toBe('true');
      expect((await keyed(h, t, 'k3', 20, 3)).status).toBe(202);
      expect(await budgetOf(t.sid)).toMatchObject({ b: '-70.000' });
    });

    it('charges one refused for the storage quota the same way', async () => {
      const t = await subscriberWithDeliveries(0);
      expect((await h.call('PATCH', t.base, { body: { limits: { maxStoredBytes: 10_000 } } })).status).toBe(200);
      expect((await keyed(h, t, 'k', 20, 1)).body.error.code).toBe('storage_quota_exceeded');
      expect(await budgetOf(t.sid)).toMatchObject({ b: '-10.000' });
      expectExhausted(await keyed(h, t, 'k', 20, 1), '2');
    });
  });

  it('lets the admin set a subscriber its own budget, and refuses bad values naming the field', async () => {
    const t = await subscriberWithDeliveries(30);
    const patched = await h.call('PATCH', `${t.base}`, { body: { limits: { workUnitsPerSecond: 1000, workUnitsBurst: 20 } } });
    expect(patched.status).toBe(200);
    expect(patched.body.limits).toMatchObject({ workUnitsPerSecond: 1000, workUnitsBurst: 20 });
    // 30 read from 20: a debt of 10 units, 10 ms at its own rate (the server's would be 1 s).
    expect((await h.call('GET', `${t.base}/deliveries?status=failed`, { key: t.key })).status).toBe(200);
    expectExhausted(await second.call('GET', `${t.base}/deliveries?status=failed`, { key: t.key }), '1', 1000);
    clock.advance(11);
    expect((await second.call('GET', `${t.base}/deliveries?status=failed`, { key: t.key })).status).toBe(200);

    for (const [value, field] of [
      [0, 'workUnitsPerSecond'],
      [-1, 'workUnitsBurst'],
      [1.5, 'workUnitsPerSecond'],
      ['100', 'workUnitsBurst'],
      [2_000_000, 'workUnitsPerSecond'],
    ] as const) {
      const res = await h.call('PATCH', `${t.base}`, { body: { limits: { [field]: value } } });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([expect.objectContaining({ path: `limits.${field}` })]);
    }
    const reset = await h.call('PATCH', `${t.base}`, { body: { limits: { workUnitsPerSecond: null, workUnitsBurst: null } } });
    expect(reset.body.limits).toMatchObject(LIMITS);
  });

  /** The subscriber's work-budget state as Redis keeps it ({} for a full bucket that was never charged). */
  const budgetOf = (sid: string) => h.redis.hgetall(h.store.keys.subscriberWorkBudget(sid));

  /** An event whose payload is `bytes` of JSON as stored ({"pad":"xx…"}). */
  async function publishOf(base: string, bytes: number): Promise<string> {
    const res = await h.call('POST', `${base}/events`, { body: { type: 'custom.order.paid', payload: { pad: 'x'.repeat(bytes - 10) } } });
    expect(res.status).toBe(202);
    return res.body.id as string;
  }

  /** Gives the delivery `count` stored attempts of `bytes` of JSON each, as the worker keeps them. */
  async function withAttempts(did: string, count: number, bytes: number): Promise<void> {
    const attempt = (n: number) => {
      const json = JSON.stringify({ attempt: n, outcome: 'failed', statusCode: 500, responseBody: '' });
      return json.replace('"responseBody":""', `"responseBody":"${'y'.repeat(bytes - json.length)}"`);
    };
    // The record counts them (the worker writes both), then the list holds them at `bytes` each.
    const delivery = (await h.store.deliveries.get(did))!;
    const last = { attempt: count, startedAt: clock.now(), durationMs: 1, outcome: 'failed' as const, statusCode: 500, requestHeaders: {} };
    await h.store.deliveries.recordAttempt(delivery, last, { state: 'failed', attempts: count });
    const list = h.store.keys.deliveryAttempts(did);
    await h.redis.del(list);
    await h.redis.rpush(list, ...Array.from({ length: count }, (_, i) => attempt(i + 1)));
  }

  /** The delivery ids of the subscriber's newest `limit` deliveries. */
  async function deliveryIds(base: string, limit: number): Promise<string[]> {
    return (await h.call('GET', `${base}/deliveries?limit=${limit}`)).body.data.map((d: { id: string }) => d.id);
  }

  it('charges an event read by its payload beyond 64 KB, refuses the next with 429, and never charges or refuses a small one', async () => {
    const t = await subscriberWithDeliveries(0);
    const small = await publishOf(t.base, 64 * 1024);
    const large = await publishOf(t.base, 200 * 1024);
    const session = (await h.call('POST', `${t.base}/portal-sessions`, { body: {} })).body.token as string;
    // A portal user opening small events one after another: no budget call, not even on a budget of 50.
    for (let i = 0; i < 20; i++) expect((await h.call('GET', `${t.base}/events/${small}`, { key: session })).status).toBe(200);
    expect(await budgetOf(t.sid)).toEqual({});
    // The admin reads the large one free.
    expect((await second.call('GET', `${t.base}/events/${large}`)).status).toBe(200);
    expect(await budgetOf(t.sid)).toEqual({});

    // 200 KB: 136 units beyond the free 64 KB, from 50 in hand: a debt of 86 units (8.6 s at 10 a second).
    const read = await h.call('GET', `${t.base}/events/${large}`, { key: session });
    expect(read.status).toBe(200);
    expect(read.body.payload.pad).toHaveLength(200 * 1024 - 10);
    expect(await budgetOf(t.sid)).toMatchObject({ b: '-86.000' });
    expectExhausted(await second.call('GET', `${t.base}/events/${large}`, { key: t.key }), '9');
    // In debt, a small event is still read free (it costs no more than a listing's page), and charged nothing.
    const before = await budgetOf(t.sid);
    expect((await second.call('GET', `${t.base}/events/${small}`, { key: t.key })).status).toBe(200);
    expect(await budgetOf(t.sid)).toEqual(before);
  });

  it('charges an event read by its delivery lookups beyond 100', async () => {
    const t = await subscriberWithDeliveries(0);
    expect((await h.call('PATCH', t.base, { body: { limits: { maxEndpoints: 200 } } })).status).toBe(200);
    for (let i = 1; i < 160; i++)
      expect((await h.call('POST', `${t.base}/endpoints`, { key: t.key, body: { url: `${receiver.url}/${i}` } })).status).toBe(201);
    const eid = await publishOf(t.base, 100);
    const read = await h.call('GET', `${t.base}/events/${eid}`, { key: t.key });
    expect(read.status).toBe(200);
    expect(read.body.deliveries).toHaveLength(160);
    // 160 lookups, 60 beyond the free 100, from 50: a debt of 10 units, 1 s.
    expect(await budgetOf(t.sid)).toMatchObject({ b: '-10.000' });
    expectExhausted(await second.call('GET', `${t.base}/events/${eid}`, { key: t.key }), '2');
  });

  it('charges a delivery read by its attempts beyond 64 KB, and never charges or refuses one with a few attempts', async () => {
    const t = await subscriberWithDeliveries(3);
    const [many, few, nine] = await deliveryIds(t.base, 3);
    // 60 attempts of 10 KB: 601 KB as answered, 537 units beyond the free 64 KB; 3 attempts: 30 KB,
    // free; 9 of 1 KB: more than 5, but 9 KB, free too.
    await withAttempts(many!, 60, 10 * 1024 - 1);
    await withAttempts(few!, 3, 10 * 1024 - 1);
    await withAttempts(nine!, 9, 1024);
    for (let i = 0; i < 20; i++) expect((await h.call('GET', `${t.base}/deliveries/${few}`, { key: t.key })).status).toBe(200);
    expect((await h.call('GET', `${t.base}/deliveries/${many}`)).status).toBe(200); // the admin's: free
    expect(await budgetOf(t.sid)).toEqual({});

    const read = await h.call('GET', `${t.base}/deliveries/${many}`, { key: t.key });
    expect(read.status).toBe(200);
    expect(read.body.attempts).toHaveLength(60);
    expect(await budgetOf(t.sid)).toMatchObject({ b: '-487.000' });
    // Refused in debt before its attempts are read (the list of 60 is ~600 KB).
    const watch = watchCommands(second.redis);
    expectExhausted(await second.call('GET', `${t.base}/deliveries/${many}`, { key: t.key }), '49');
    watch.stop();
    expect(watch.count('lrange')).toBe(0);
    const before = await budgetOf(t.sid);
    expect((await second.call('GET', `${t.base}/deliveries/${few}`, { key: t.key })).status).toBe(200);
    // In debt, a free read is answered, whatever its count of attempts.
    expect((await second.call('GET', `${t.base}/deliveries/${nine}`, { key: t.key })).status).toBe(200);
    expect(await budgetOf(t.sid)).toEqual(before);
  });

  it("charges a manual disable by the deliveries it ended, as a recover by those it reopens, and never the admin's", async () => {
    const t = await subscriberWithDeliveries(30);
    const disabled = await h.call('PATCH', `${t.base}/endpoints/${t.eid}`, { key: t.key, body: { status: 'disabled' } });
    expect(disabled.status).toBe(200);
    const [newest] = await deliveryIds(t.base, 1);
    expect((await h.call('GET', `${t.base}/deliveries/${newest}`)).body).toMatchObject({ state: 'failed' });
    // 30 read and 30 ended (10 units each): 330 units from 50, a debt of 280 (28 s).
    expect(await budgetOf(t.sid)).toMatchObject({ b: '-280.000' });
    expectExhausted(await second.call('GET', `${t.base}/deliveries?status=failed`, { key: t.key }), '29');
    // Refused in debt before anything changes: the endpoint stays as it is.
    expect((await h.call('PATCH', `${t.base}/endpoints/${t.eid}`, { key: t.key, body: { status: 'active' } })).status).toBe(200);
    expectExhausted(await second.call('PATCH', `${t.base}/endpoints/${t.eid}`, { key: t.key, body: { status: 'disabled' } }), '29');
    expect((await h.call('GET', `${t.base}/endpoints/${t.eid}`)).body.status).toBe('active');

    const a = await subscriberWithDeliveries(30);
    expect((await h.call('PATCH', `${a.base}/endpoints/${a.eid}`, { body: { status: 'disabled' } })).status).toBe(200);
    expect(await budgetOf(a.sid)).toEqual({});
  });

  describe('pages of a listing of whole records (endpoints, sources)', () => {
    /** ~20 KB of stored JSON each: a hundred patterns of ~195 characters. */
    const largeEndpoint = (url: string, n: number) => ({
      url,
      eventTypes: Array.from({ length: 100 }, (_, i) => `custom.${'p'.repeat(180)}.${n}x${i}`),
    });

    it('charges a page by its stored JSON beyond 64 KB, asks before the next page is read, and never charges a small page', async () => {
      const t = await subscriberWithDeliveries(0);
      const budgetKey = h.store.keys.subscriberWorkBudget(t.sid);
      // One small endpoint: free, no budget call (nothing written to the budget).
      expect((await h.call('GET', `${t.base}/endpoints`, { key: t.key })).status).toBe(200);
      expect(await h.redis.exists(budgetKey)).toBe(0);

      for (let n = 0; n < 6; n++)
        expect((await h.call('POST', `${t.base}/endpoints`, { key: t.key, body: largeEndpoint(receiver.url, n) })).status).toBe(201);
      // ~120 KB a page: ~55 units beyond 64 KB, against 50 in hand. The first page is read,
      // answered and charged, into debt; the next is asked for before it is read.
      const first = await h.call('GET', `${t.base}/endpoints`, { key: t.key });
      expect(first.status).toBe(200);
      expect(first.body.data).toHaveLength(7);
      const balance = () => h.redis.hget(budgetKey, 'b').then(Number);
      const afterFirst = await balance();
      expect(afterFirst).toBeLessThan(0);
      expectExhausted(await h.call('GET', `${t.base}/endpoints`, { key: t.key }), '1');
      // While this process knows its pages heavy and the budget is spent, a page of one is refused
      // too, and a light page does not make it forget: the heavy page after it is still refused.
      expectExhausted(await h.call('GET', `${t.base}/endpoints?limit=1`, { key: t.key }), '1');
      expectExhausted(await h.call('GET', `${t.base}/sources?limit=1`, { key: t.key }), '1');
      expectExhausted(await h.call('GET', `${t.base}/endpoints`, { key: t.key }), '1');
      expect(await balance()).toBe(afterFirst);
      // Another API process has not seen a heavy page of this subscriber: it reads one unasked and
      // charges it all the same, deeper into debt; its next page is refused before it is read.
      expect((await second.call('GET', `${t.base}/endpoints`, { key: t.key })).status).toBe(200);
      expect(await balance()).toBeLessThan(afterFirst - 50);
      const refused = await second.call('GET', `${t.base}/endpoints`, { key: t.key });
      expectExhausted(refused, String(Math.ceil(-(await balance()) / LIMITS.workUnitsPerSecond + 0.001)));
      // The admin is never charged, and another subscriber's listing is not touched by this one's debt.
      expect((await h.call('GET', `${t.base}/endpoints`)).status).toBe(200);
      const other = await subscriberWithDeliveries(0);
      expect((await h.call('GET', `${other.base}/endpoints`, { key: other.key })).status).toBe(200);

      clock.advance(Number(refused.headers.get('retry-after')) * 1000);
      expect((await h.call('GET', `${t.base}/endpoints`, { key: t.key })).status).toBe(200);
    });

    it('charges a page of sources the same way', async () => {
      const t = await subscriberWithDeliveries(0);
      // ~16 KB of expected values each (the most a source may hold): five are ~80 KB a page.
      const matches = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`$.field${i}`, 'v'.repeat(4000)]));
      for (let n = 0; n < 5; n++) {
        const created = await h.call('POST', `${t.base}/sources`, {
          key: t.key,
          body: {
            name: `s${n}`,
            eventType: 'source.s',
            verification: { type: 'header', headers: { 'x-token': 'sender-secret' } },
            matches,
          },
        });
        expect(created.status).toBe(201);
      }
      for (let i = 0; i < 4; i++) {
        const page = await h.call('GET', `${t.base}/sources`, { key: t.key });
        if (page.status === 429) {
          expectExhausted(page, '1');
          expect(i).toBeGreaterThanOrEqual(2);
          return;
        }
        expect(page.body.data).toHaveLength(5);
      }
      throw new Error('four pages of ~80 KB were never refused by a budget of 50 units');
    });
  });

  it("charges a source's request history filtered by outcome by the requests it read, and never an unfiltered page", async () => {
    const t = await subscriberWithDeliveries(0);
    const created = await h.call('POST', `${t.base}/sources`, {
      key: t.key,
      body: {
        name: 'alerts',
        eventType: 'source.alerts',
        verification: { type: 'header', headers: { 'x-token': 'sender-secret' } },
        rateLimit: { perSecond: 1000, perMinute: 10_000 },
      },
    });
    expect(created.status).toBe(201);
    for (let i = 0; i < 60; i++) {
      const sent = await h.call('POST', String(created.body.ingestUrl), { headers: { 'x-token': 'sender-secret' }, body: { i } });
      expect(sent.status).toBe(202);
    }
    const requests = `${t.base}/sources/${created.body.id}/requests`;
    expect((await h.call('GET', `${requests}?limit=5`, { key: t.key })).body.data).toHaveLength(5);
    expect(await h.redis.exists(h.store.keys.subscriberWorkBudget(t.sid))).toBe(0);
    // None is a duplicate: the filtered page reads all 60, from 50 in hand, and the next is refused.
    const filtered = await h.call('GET', `${requests}?outcome=duplicate`, { key: t.key });
    expect(filtered.status).toBe(200);
    expect(filtered.body.data).toEqual([]);
    // A debt of 10 units: positive again 1.001 s from now, whole seconds rounded up.
    expectExhausted(await second.call('GET', `${requests}?outcome=published`, { key: t.key }), '2');
    expect((await h.call('GET', `${requests}?limit=5`, { key: t.key })).status).toBe(200);
  });

  it('has production defaults of 5,000 units a second, 250,000 in hand, and these costs', () => {
    expect(DEFAULT_SUBSCRIBER_LIMITS).toMatchObject({ workUnitsPerSecond: 5000, workUnitsBurst: 250_000 });
    expect(WORK_COSTS).toEqual({ recordRead: 1, deliveryWritten: 10, testSend: 1000, kbAnswered: 1, kbDigested: 5 });
    expect(FREE_DIGEST_KB).toBe(8);
    expect(FREE_READS).toEqual({ storedKb: 64, lookups: 100 });
    // A person opening the largest records one a second never meets the budget: a 1 MiB payload to
    // the default 100 endpoints, or 60 attempts of the largest (~10.5 KB), cost less than a second's refill.
    expect(recordReadCost({ stored: 'x'.repeat(1024 * 1024), lookups: 100 })).toBe(960);
    expect(recordReadCost({ stored: 'x'.repeat(60 * 10.5 * 1024) })).toBe(566);
    expect(recordReadCost({ stored: 'x'.repeat(64 * 1024), lookups: 100 })).toBe(0);
    // Counted in UTF-8: 32 KB of two-byte characters is 64 KB, 33 KB of them is 66.
    expect(recordReadCost({ stored: 'é'.repeat(32 * 1024) })).toBe(0);
    expect(recordReadCost({ stored: 'é'.repeat(33 * 1024) })).toBe(2);
  });
});
