import type { CircuitBreakerPolicy } from '@hookrelay/delivery';
import { pendingDelivery } from '@hookrelay/store';
import { buildEvent, waitForDrain, type Reply, type TestReceiver } from '@hookrelay/testing';
import { useApiHarnessPerTest, type ApiHarness } from './api-harness';
import {
  createEndpoint,
  createTenant,
  getDelivery,
  publish,
  waitFor,
  waitForDelivery,
  type Tenant,
  useReceiverPool,
} from './history-test-kit';

/** 503 with an hour's Retry-After for `custom.slow.*` (so it sits retrying), `status` for the rest. */
const slowOr =
  (status: number): Reply =>
  (req, res) => {
    const slow = String(req.headers['x-hookrelay-event-type']).startsWith('custom.slow.');
    res.writeHead(slow ? 503 : status, slow ? { 'retry-after': '3600' } : {});
    res.end();
  };

function noticesIn(receiver: TestReceiver): Array<Record<string, unknown>> {
  return receiver.requests
    .filter((r) => r.headers['x-hookrelay-event-type'] === 'endpoint.disabled')
    .map((r) => JSON.parse(r.body.toString()));
}

describe('endpoint health', () => {
  let h: ApiHarness;
  let t: Tenant;
  const receivers = useReceiverPool();
  const startApiHarness = useApiHarnessPerTest();

  /** Starts a harness (circuit breaker as given) with a tenant and an endpoint subscribed to endpoint.disabled. */
  async function setUp(circuitBreaker?: CircuitBreakerPolicy, options: { worker?: boolean } = {}): Promise<TestReceiver> {
    h = await startApiHarness({ circuitBreaker, ...options });
    t = await createTenant(h, 'Acme');
    const notices = await receivers.start({ status: 200 });
    await createEndpoint(h, t, notices.url, { eventTypes: ['endpoint.disabled'] });
    return notices;
  }
  const endpoint = async (id: string) => (await h.call('GET', `${t.base}/endpoints/${id}`, { key: t.key })).body;

  it('tracks last success, last failure, consecutive failed deliveries and the success rate of the last 100 attempts', async () => {
    await setUp();
    const receiver = await receivers.start({ status: 200 });
    const ep = await createEndpoint(h, t, receiver.url, { eventTypes: ['custom.*'] });
    expect((await endpoint(ep.id)).health).toEqual({
      lastSuccessAt: null,
      lastFailureAt: null,
      consecutiveFailures: 0,
      failingSince: null,
      successRate: null,
      sampleSize: 0,
    });

    const seen: any[] = [];
    for (const status of [200, 500, 500, 200, 500]) {
      receiver.enqueue({ status });
      const did = (await publish(h, t, 'custom.order.paid')).deliveries[0]!.id;
      await waitForDelivery(h, t, did, status === 200 ? 'delivered' : 'failed');
      seen.push((await endpoint(ep.id)).health);
    }
    expect(seen.map((x) => [x.consecutiveFailures, x.successRate, x.sampleSize])).toEqual([
      [0, 1, 1],
      [1, 1 / 2, 2],
      [2, 1 / 3, 3],
      [0, 2 / 4, 4],
      [1, 2 / 5, 5],
    ]);
    expect(seen[0].lastFailureAt).toBeNull();
    expect(seen[1].lastFailureAt).toBeGreaterThanOrEqual(seen[0].lastSuccessAt);
    expect(seen[1].lastSuccessAt).toBe(seen[0].lastSuccessAt);
    expect(seen[3].lastSuccessAt).toBeGreaterThan(seen[0].lastSuccessAt);
    expect(seen[3].lastFailureAt).toBe(seen[2].lastFailureAt);
    expect(seen[2].failingSince).toBe(seen[1].lastFailureAt);
    expect(seen[3].failingSince).toBeNull();

    // A retried attempt counts in the rate but not in the streak of failed deliveries.
    await h.call('PATCH', `${t.base}/endpoints/${ep.id}`, { key: t.key, body: { retry: { maxRetries: 1 } } });
    receiver.enqueue({ status: 500 }, { status: 200 });
    await waitForDelivery(h, t, (await publish(h, t, 'custom.order.paid')).deliveries[0]!.id, 'delivered', 2);
    expect((await endpoint(ep.id)).health).toMatchObject({ consecutiveFailures: 0, successRate: 3 / 7, sampleSize: 7 });

    // Only the last 100 attempts count: 100 successes push every failure out.
    const batch = await h.call('POST', `${t.base}/events/batch`, {
      key: t.key,
      body: { events: Array.from({ length: 100 }, (_, i) => ({ type: 'custom.order.paid', payload: { i } })) },
    });
    expect(batch.status).toBe(202);
    await receiver.waitForRequests(107);
    const full = await waitFor(
      () => endpoint(ep.id),
      (e) => e.health.lastSuccessAt && e.health.successRate === 1,
      '100 successes in the window',
    );
    expect(full.health.sampleSize).toBe(100);
    const listed = await h.call('GET', `${t.base}/endpoints`, { key: t.key });
    expect(listed.body.data.find((e: any) => e.id === ep.id).health).toEqual(full.health);
  });

  it('disables an endpoint at its first 410 Gone, fails its open deliveries, sends it nothing more and tells the subscriber', async () => {
    const notices = await setUp();
    const receiver = await receivers.start(slowOr(410));
    const gone = await createEndpoint(h, t, receiver.url, { retry: { maxRetries: 1, intervalMs: 20 } });
    const open = [await publish(h, t, 'custom.slow.a'), await publish(h, t, 'custom.slow.b')].map(
      (e) => e.deliveries.find((d) => d.endpointId === gone.id)!.id,
    );
    for (const did of open) await waitForDelivery(h, t, did, 'retrying');

    const before = Date.now();
    const fatal = (await publish(h, t, 'custom.order.paid')).deliveries.find((d) => d.endpointId === gone.id)!.id;
    const disabled = await waitFor(
      () => endpoint(gone.id),
      (e) => e.status === 'disabled',
      'the endpoint to be disabled',
    );
    expect(disabled.disabledReason).toMatch(/^gone\b/);
    expect(disabled.disabledAt).toBeGreaterThanOrEqual(before);
    expect((await getDelivery(h, t, fatal)).attempts.map((a: any) => a.statusCode)).toEqual([410]);
    for (const did of open) {
      const d = await waitForDelivery(h, t, did, 'failed');
      expect(d.failureReason).toBe('endpoint_disabled');
      expect(d.nextAttemptAt).toBeNull();
    }

    await notices.waitForRequests(1);
    expect(noticesIn(notices)).toEqual([
      {
        endpointId: gone.id,
        url: `${receiver.url}/`,
        reason: 'gone',
        detail: expect.any(String),
        disabledAt: new Date(disabled.disabledAt).toISOString(),
      },
    ]);

    // Later events do not go to it, the hour-long retries are gone from the queue, and a retry by hand is refused by the worker.
    const later = await publish(h, t, 'custom.order.paid');
    expect(later.deliveries.map((d) => d.endpointId)).not.toContain(gone.id);
    expect((await h.call('POST', `${t.base}/deliveries/${open[0]}/retry`, { key: t.key })).status).toBe(202);
    const refused = await waitForDelivery(h, t, open[0]!, 'failed', 2);
    expect(refused.attempts[1]).toMatchObject({ errorKind: 'endpoint_disabled', outcome: 'failed' });
    expect(await h.deps.store.lanes.liveFor(gone.id)).toEqual([]);
    await waitForDrain(h.worker!);
    expect(receiver.requests).toHaveLength(3);
    expect(noticesIn(notices)).toHaveLength(1);
  });

  it('records a manual disable with its reason and time, announces it, and can disable again after re-enabling', async () => {
    const notices = await setUp();
    const receiver = await receivers.start({ status: 200 });
    const ep = await createEndpoint(h, t, receiver.url, { eventTypes: ['custom.*'] });
    const res = await h.call('PATCH', `${t.base}/endpoints/${ep.id}`, { key: t.key, body: { status: 'disabled' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'disabled',
      disabledReason: expect.stringMatching(/^manual\b/),
      disabledAt: expect.any(Number),
    });
    expect((await endpoint(ep.id)).status).toBe('disabled');
    // The claim that makes one caller the one who disables is given back once it has.
    expect(await h.redis.exists(`${h.store.keys.endpoint(ep.id)}:disabling`)).toBe(0);
    expect(await h.call('PATCH', `${t.base}/endpoints/${ep.id}`, { key: t.key, body: { status: 'disabled' } })).toMatchObject({
      status: 200,
    });
    await notices.waitForRequests(1);
    expect(noticesIn(notices)).toEqual([expect.objectContaining({ endpointId: ep.id, reason: 'manual' })]);
    expect((await publish(h, t, 'custom.order.paid')).deliveries).toEqual([]);

    const enabled = await h.call('PATCH', `${t.base}/endpoints/${ep.id}`, { key: t.key, body: { status: 'active' } });
    expect(enabled.body.status).toBe('active');
    expect(enabled.body.disabledReason).toBeUndefined();
    expect(enabled.body.disabledAt).toBeUndefined();
    expect((await publish(h, t, 'custom.order.paid')).deliveries.map((d) => d.endpointId)).toEqual([ep.id]);
    await receiver.waitForRequests(1);

    expect((await h.call('PATCH', `${t.base}/endpoints/${ep.id}`, { key: t.key, body: { status: 'disabled' } })).body.status).toBe(
      'disabled',
    );
    await notices.waitForRequests(2);
    expect(noticesIn(notices).map((n) => n.reason)).toEqual(['manual', 'manual']);
  });

  it('fails the deliveries still waiting in the queue when an endpoint is disabled, and takes them out of the scheduler', async () => {
    await setUp(undefined, { worker: false });
    const ep = await createEndpoint(h, t, 'http://127.0.0.1:9/', { eventTypes: ['custom.*'] });
    const waiting = await Promise.all([1, 2, 3].map(async (n) => (await publish(h, t, 'custom.order.paid', { n })).deliveries[0]!.id));
    const scheduled = async () => (await h.deps.store.lanes.liveFor(ep.id)).map((e) => e.deliveryId).sort();
    expect(await scheduled()).toEqual([...waiting].sort());
    expect((await h.call('PATCH', `${t.base}/endpoints/${ep.id}`, { key: t.key, body: { status: 'disabled' } })).body.status).toBe(
      'disabled',
    );
    for (const did of waiting)
      expect(await getDelivery(h, t, did)).toMatchObject({ state: 'failed', failureReason: 'endpoint_disabled', nextAttemptAt: null });
    expect(await scheduled()).toEqual([]);
  });

  it('disables at the cost of what the endpoint has open, not of its history, however often it is re-enabled and disabled', async () => {
    await setUp(undefined, { worker: false });
    const ep = await createEndpoint(h, t, 'http://127.0.0.1:9/', { eventTypes: ['custom.*'] });
    // 2,000 delivered deliveries in its history, written through the store (publishing them is slow).
    const events = Array.from({ length: 2000 }, () => buildEvent({ subscriberId: t.id, type: 'custom.order.paid' }));
    const history = await h.store.deliveries.createForEvents(
      events.map((event) => ({ event, endpoints: [ep] })),
      { schedule: false },
    );
    await Promise.all(
      history.map(([d], i) =>
        h.store.deliveries.patch(
          { ...pendingDelivery(d!.id, events[i]!, ep.id, events[i]!.createdAt), state: 'delivered', attempts: 1 },
          {},
        ),
      ),
    );
    // What the API's store connection moves (its own socket: other suites share the Redis).
    const stream = (h.redis as unknown as { stream: { bytesRead: number; bytesWritten: number } }).stream;
    const moved = () => stream.bytesRead + stream.bytesWritten;
    const setStatus = async (status: string) =>
      (await h.call('PATCH', `${t.base}/endpoints/${ep.id}`, { key: t.key, body: { status } })).body.status;

    for (let cycle = 0; cycle < 4; cycle++) {
      const waiting = (await publish(h, t, 'custom.order.paid')).deliveries[0]!.id;
      const before = moved();
      expect(await setStatus('disabled')).toBe('disabled');
      // The first disable sends its scripts whole (~40 KB), as a service's first does; the old
      // clean-up read every delivery of the history twice, ~3 MB each time.
      if (cycle > 0) expect(moved() - before).toBeLessThan(32 * 1024);
      expect(await getDelivery(h, t, waiting)).toMatchObject({ state: 'failed', failureReason: 'endpoint_disabled', nextAttemptAt: null });
      expect(await setStatus('active')).toBe('active');
    }
  });

  describe('the circuit breaker', () => {
    it('disables after 3 failed deliveries, fails the open ones, and after re-enabling recover delivers what was missed', async () => {
      const notices = await setUp({ failures: 3, spanMs: 0 });
      const receiver = await receivers.start(slowOr(500));
      const ep = await createEndpoint(h, t, receiver.url, { eventTypes: ['custom.*'], retry: { maxRetries: 1, intervalMs: 20 } });
      const since = Date.now();
      const slow = (await publish(h, t, 'custom.slow.a')).deliveries[0]!.id;
      await waitForDelivery(h, t, slow, 'retrying');
      const failed: string[] = [];
      for (const n of [1, 2, 3]) {
        failed.push((await publish(h, t, 'custom.order.paid', { n })).deliveries[0]!.id);
        await waitForDelivery(h, t, failed[n - 1]!, 'failed', 2);
        if (n < 3) expect(await endpoint(ep.id)).toMatchObject({ status: 'active', health: { consecutiveFailures: n } });
      }
      const disabled = await waitFor(
        () => endpoint(ep.id),
        (e) => e.status === 'disabled',
        'the breaker to open',
      );
      expect(disabled.disabledReason).toMatch(/^failing: 3 consecutive failed deliveries/);
      expect(disabled.health.consecutiveFailures).toBe(3);
      expect(await waitForDelivery(h, t, slow, 'failed')).toMatchObject({ failureReason: 'endpoint_disabled', nextAttemptAt: null });
      await notices.waitForRequests(1);
      expect(noticesIn(notices)).toEqual([expect.objectContaining({ endpointId: ep.id, reason: 'failing' })]);

      const enabled = await h.call('PATCH', `${t.base}/endpoints/${ep.id}`, { key: t.key, body: { status: 'active' } });
      expect(enabled.body).toMatchObject({ status: 'active', health: { consecutiveFailures: 0, failingSince: null } });
      receiver.answerWith({ status: 200 });
      const recovered = await h.call('POST', `${t.base}/endpoints/${ep.id}/recover`, { key: t.key, body: { since } });
      expect(recovered.body.recovered).toBe(4);
      for (const did of [slow, ...failed]) await waitForDelivery(h, t, did, 'delivered');
      expect(
        receiver.requests.filter((r) => r.headers['x-hookrelay-delivery-id'] === slow).map((r) => r.headers['x-hookrelay-attempt']),
      ).toEqual(['1', '2']);

      // The count starts afresh, and the breaker can open again.
      receiver.answerWith({ status: 500 });
      for (const n of [4, 5, 6])
        await waitForDelivery(h, t, (await publish(h, t, 'custom.order.paid', { n })).deliveries[0]!.id, 'failed', 2);
      await waitFor(
        () => endpoint(ep.id),
        (e) => e.status === 'disabled',
        'the breaker to open again',
      );
      await notices.waitForRequests(2);
      expect(noticesIn(notices).map((n) => n.reason)).toEqual(['failing', 'failing']);
    });

    it('keeps an endpoint whose failing streak is shorter than spanMs', async () => {
      await setUp({ failures: 2, spanMs: 3_600_000 });
      const receiver = await receivers.start({ status: 500 });
      const ep = await createEndpoint(h, t, receiver.url, { eventTypes: ['custom.*'] });
      for (const n of [1, 2, 3]) await waitForDelivery(h, t, (await publish(h, t, 'custom.order.paid', { n })).deliveries[0]!.id, 'failed');
      await waitForDrain(h.worker!);
      expect(await endpoint(ep.id)).toMatchObject({ status: 'active', health: { consecutiveFailures: 3 } });
      expect((await publish(h, t, 'custom.order.paid')).deliveries.map((d) => d.endpointId)).toEqual([ep.id]);
    });
  });
});
