import { HOUR_MS } from '@hookrelay/store';
import { useApiHarnessPerTest, type ApiHarness } from './api-harness';
import { createEndpoint, createTenant, publish, useReceiverPool, waitFor, waitForDelivery, type Tenant } from './history-test-kit';

interface Stats {
  endpointId: string;
  since: number;
  until: number;
  hours: Array<{ start: number; delivered: number; failed: number }>;
}

const total = (s: Stats, field: 'delivered' | 'failed') => s.hours.reduce((n, h) => n + h[field], 0);

describe('GET /v1/subscribers/:sid/endpoints/:eid/stats', () => {
  const receivers = useReceiverPool();
  const startApiHarness = useApiHarnessPerTest();
  let h: ApiHarness;
  let t: Tenant;
  /** Added to the API's clock (the worker keeps the real one). */
  let offsetMs: number;

  beforeEach(async () => {
    offsetMs = 0;
    h = await startApiHarness({ now: () => Date.now() + offsetMs });
    t = await createTenant(h, 'Acme');
  });

  async function stats(eid: string, query = '', key = t.key, base = t.base): Promise<{ status: number; body: any }> {
    return h.call('GET', `${base}/endpoints/${eid}/stats${query}`, { key });
  }

  it('counts the attempts the worker makes as it makes them: a 200, then two 503s retried into a 200', async () => {
    const receiver = await receivers.start({ status: 200 });
    const ep = await createEndpoint(h, t, receiver.url, { retry: { maxRetries: 2, intervalMs: 20 } });
    await waitForDelivery(h, t, (await publish(h, t, 'custom.order.paid')).deliveries[0]!.id, 'delivered');
    receiver.enqueue({ status: 503 }, { status: 503 });
    await waitForDelivery(h, t, (await publish(h, t, 'custom.order.paid')).deliveries[0]!.id, 'delivered', 3);

    const res = await stats(ep.id);
    expect(res.status).toBe(200);
    const body = res.body as Stats;
    const currentHour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    expect(body.hours).toHaveLength(24);
    expect(body.hours.map((x) => x.start)).toEqual(Array.from({ length: 24 }, (_, i) => body.since + i * HOUR_MS));
    expect(body).toMatchObject({ endpointId: ep.id, since: currentHour - 23 * HOUR_MS, until: currentHour + HOUR_MS - 1 });
    // Summed: the attempts may straddle the turn of an hour.
    expect([total(body, 'delivered'), total(body, 'failed')]).toEqual([2, 2]);
    // The chart used to read up to 10 pages of deliveries for this; the counts hold without any.
    expect(receiver.requests).toHaveLength(4);
  });

  it('counts each attempt in the hour it ended, on the clock that recorded it: a test send before the hour, one after', async () => {
    const receiver = await receivers.start({ status: 200 });
    const ep = await createEndpoint(h, t, receiver.url);
    const nextHour = (Math.floor(Date.now() / HOUR_MS) + 5) * HOUR_MS;
    // Test sends are recorded by the API process, on its clock: 2 s before an hour starts, then just after.
    offsetMs = nextHour - 2000 - Date.now();
    expect((await h.call('POST', `${t.base}/endpoints/${ep.id}/test`, { key: t.key })).body.attempt.statusCode).toBe(200);
    offsetMs = nextHour + 100 - Date.now();
    receiver.enqueue({ status: 503 });
    expect((await h.call('POST', `${t.base}/endpoints/${ep.id}/test`, { key: t.key })).body.attempt.statusCode).toBe(503);

    const body = (await stats(ep.id)).body as Stats;
    expect(body.hours.slice(-2)).toEqual([
      { start: nextHour - HOUR_MS, delivered: 1, failed: 0 },
      { start: nextHour, delivered: 0, failed: 1 },
    ]);
    // A window of its own: the hour before, alone.
    const before = await stats(ep.id, `?since=${nextHour - HOUR_MS}&until=${new Date(nextHour - 1).toISOString()}`);
    expect(before.body).toEqual({
      endpointId: ep.id,
      since: nextHour - HOUR_MS,
      until: nextHour - 1,
      hours: [{ start: nextHour - HOUR_MS, delivered: 1, failed: 0 }],
    });
    // Once the hours move on by a day, neither attempt is in the default window any more.
    offsetMs = nextHour + 24 * HOUR_MS - Date.now();
    const later = (await stats(ep.id)).body as Stats;
    expect([total(later, 'delivered'), total(later, 'failed')]).toEqual([0, 0]);
  });

  it("answers 404 for another subscriber's endpoint and for an unknown one", async () => {
    const other = await createTenant(h, 'Other');
    const receiver = await receivers.start({ status: 200 });
    const theirs = await createEndpoint(h, other, receiver.url);
    await h.call('POST', `${other.base}/endpoints/${theirs.id}/test`, { key: other.key });
    for (const eid of [theirs.id, 'ep_0000000000000000000000000', `${theirs.id}:hourly`]) {
      const res = await stats(eid);
      expect([eid, res.status, res.body.error?.code]).toEqual([eid, 404, 'not_found']);
    }
    // Nor through the other subscriber's path with this one's key.
    expect((await stats(theirs.id, '', t.key, other.base)).status).toBe(404);
    expect((await stats(theirs.id, '', other.key, other.base)).body.hours.at(-1)).toMatchObject({ delivered: 1 });
  });

  it('answers 404 once the endpoint is deleted, and its counts do not come back with a later attempt', async () => {
    const receiver = await receivers.start({ status: 200 });
    const ep = await createEndpoint(h, t, receiver.url);
    await h.call('POST', `${t.base}/endpoints/${ep.id}/test`, { key: t.key });
    const key = h.store.keys.endpointHourlyCounts(ep.id);
    expect(await h.redis.exists(key)).toBe(1);
    // A delivery still waiting to be attempted when the endpoint goes: the worker ends it unsent.
    receiver.enqueue({ status: 200, delayMs: 300 });
    const did = (await publish(h, t, 'custom.order.paid')).deliveries[0]!.id;
    await receiver.waitForRequests(2);
    expect((await h.call('DELETE', `${t.base}/endpoints/${ep.id}`, { key: t.key })).status).toBe(204);
    // The attempt in flight at the delete ends after it.
    await waitFor(
      () => h.store.deliveries.get(did),
      (d) => d?.state === 'delivered',
      'the attempt in flight to end',
    );
    expect((await stats(ep.id)).status).toBe(404);
    expect(await h.redis.exists(key)).toBe(0);
  });

  it.each([
    ['since older than the hours kept', `?since=${Date.UTC(2024, 4, 14)}`, 'query.since'],
    ['since after until', `?since=${Date.now()}&until=${Date.now() - 2 * HOUR_MS}`, 'query.since'],
    ['until older than the hours kept', `?until=2024-05-14T09:00:00Z`, 'query.until'],
    ['a since that is no time', '?since=yesterday', 'query.since'],
    ['an unknown parameter', '?limit=10', 'query'],
  ])('answers 400 naming the field for %s', async (_name, query, path) => {
    const receiver = await receivers.start({ status: 200 });
    const ep = await createEndpoint(h, t, receiver.url);
    const res = await stats(ep.id, query);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
  });
});
