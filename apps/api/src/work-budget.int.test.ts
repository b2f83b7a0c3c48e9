import { useTestReceiver } from '@hookrelay/testing';
import { manualClock, useApiHarness } from './api-harness';
import { DEFAULT_SUBSCRIBER_LIMITS } from './subscriber-limits';
import { newSubscriber } from './sources/source-test-kit';
import { WORK_COSTS } from './work-budget';

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

  it('has production defaults of 5,000 units a second, 250,000 in hand, and these costs', () => {
    expect(DEFAULT_SUBSCRIBER_LIMITS).toMatchObject({ workUnitsPerSecond: 5000, workUnitsBurst: 250_000 });
    expect(WORK_COSTS).toEqual({ recordRead: 1, deliveryWritten: 10, testSend: 1000 });
  });
});
