import { createHmac } from 'node:crypto';
import { DEFAULT_RETRY_POLICY, USER_AGENT } from '@hookrelay/contracts';
import { buildEndpoint, buildEvent, freePort, useTestReceiver, waitForDrain } from '@hookrelay/testing';
import { useEngineHarness } from './engine-harness';

const FAST_RETRY = { maxRetries: 3, intervalMs: 20, backoff: 'fixed' as const };

describe('delivery engine', () => {
  const h = useEngineHarness({}, 'each');
  const receiver = useTestReceiver(undefined, 'each');

  describe('when the receiver answers 500, 500, then 200', () => {
    it('makes three attempts and records the delivery as delivered', async () => {
      receiver.enqueue({ status: 500, body: 'boom' }, { status: 500 }, { status: 200, body: 'ok' });
      const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, retry: FAST_RETRY }));
      const event = buildEvent();
      const id = await h.enqueue(event, endpoint);

      const done = await h.waitForState(id, ['delivered', 'failed']);
      expect(done.state).toBe('delivered');
      expect(done.attempts).toBe(3);
      expect(receiver.requests.map((r) => r.headers['x-hookrelay-attempt'])).toEqual(['1', '2', '3']);
      expect(new Set(receiver.requests.map((r) => r.headers['x-hookrelay-event-id']))).toEqual(new Set([event.id]));

      const attempts = await h.store.deliveries.attempts(id);
      expect(attempts.map((a) => [a.attempt, a.statusCode, a.outcome])).toEqual([
        [1, 500, 'retry'],
        [2, 500, 'retry'],
        [3, 200, 'delivered'],
      ]);
      expect(attempts[0]?.responseBody).toBe('boom');
      expect(attempts[2]?.durationMs).toBeGreaterThanOrEqual(0);
    });
  });

  it('shows a delivery not attempted yet as pending, read from its scheduler entry, and records it with its first attempt', async () => {
    let answer: (() => void) | undefined;
    receiver.enqueue(async (_req, res) => {
      await new Promise<void>((resolve) => (answer = resolve));
      res.writeHead(200).end();
    });
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url }));
    const event = buildEvent({ type: 'incident.triggered' });
    const id = await h.enqueue(event, endpoint);
    expect(await h.store.deliveries.get(id)).toMatchObject({
      id,
      eventId: event.id,
      endpointId: endpoint.id,
      eventType: 'incident.triggered',
      state: 'pending',
      attempts: 0,
    });
    await receiver.waitForRequests(1);
    // In flight: still pending, and still no record of its own until the attempt ends.
    expect(await h.redis.exists(h.store.keys.delivery(id))).toBe(0);
    expect(await h.store.deliveries.get(id)).toMatchObject({ state: 'pending', attempts: 0 });
    answer?.();
    expect(await h.waitForState(id, ['delivered'])).toMatchObject({
      id,
      eventId: event.id,
      endpointId: endpoint.id,
      subscriberId: event.subscriberId,
      attempts: 1,
    });
    // Ended: out of the scheduler.
    expect(await h.store.lanes.entry(id)).toBeNull();
  });

  it('sends the exact payload with Hookrelay headers and the endpoint custom headers', async () => {
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: `${receiver.url}/hooks?x=1`, headers: { 'X-Tenant': 'acme' } }));
    const event = buildEvent({ type: 'receipt.sms.delivered', payload: '{"deliveryInfoNotification":{"deliveryInfo":{"code":"7500"}}}' });
    const id = await h.enqueue(event, endpoint);
    await h.waitForState(id, ['delivered']);
    const [req] = receiver.requests;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/hooks?x=1');
    expect(req?.body.toString()).toBe(event.payload);
    expect(req?.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'x-hookrelay-event-id': event.id,
      'x-hookrelay-event-type': 'receipt.sms.delivered',
      'x-hookrelay-delivery-id': id,
      'x-hookrelay-attempt': '1',
      'x-tenant': 'acme',
    });
    // Default scheme: Webex's x-hub-signature, bare lower-case hex of HMAC-SHA256 over the body.
    const expected = createHmac('sha256', endpoint.secret).update(event.payload).digest('hex');
    expect(req?.headers['x-hub-signature']).toBe(expected);
  });

  describe('when the receiver answers 404', () => {
    it('fails after one attempt without retrying', async () => {
      receiver.answerWith({ status: 404 });
      const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, retry: FAST_RETRY }));
      const id = await h.enqueue(buildEvent(), endpoint);
      const done = await h.waitForState(id, ['failed', 'delivered']);
      expect(done.state).toBe('failed');
      expect(done.attempts).toBe(1);
      expect(done.failureReason).toBe('HTTP 404');
      await waitForDrain(h.worker);
      expect(receiver.requests).toHaveLength(1);
    });
  });

  it('counts 202 as delivered', async () => {
    receiver.answerWith({ status: 202 });
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, retry: FAST_RETRY }));
    const id = await h.enqueue(buildEvent(), endpoint);
    expect((await h.waitForState(id, ['delivered', 'failed'])).state).toBe('delivered');
    expect(receiver.requests).toHaveLength(1);
  });

  describe('when the receiver is slower than timeoutMs', () => {
    it('records a timeout and retries', async () => {
      receiver.enqueue({ status: 200, delayMs: 400 }, { status: 200 });
      const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, retry: FAST_RETRY, timeoutMs: 100 }));
      const id = await h.enqueue(buildEvent(), endpoint);
      const done = await h.waitForState(id, ['delivered', 'failed']);
      expect(done.state).toBe('delivered');
      const attempts = await h.store.deliveries.attempts(id);
      expect(attempts[0]).toMatchObject({ attempt: 1, outcome: 'retry', errorKind: 'timeout' });
      expect(attempts[0]?.durationMs).toBeLessThan(350);
      expect(attempts[1]).toMatchObject({ attempt: 2, outcome: 'delivered', statusCode: 200 });
    });
  });

  describe('when the port refuses connections', () => {
    it('retries by policy, then fails with connection_refused', async () => {
      const port = await freePort();
      const endpoint = await h.saveEndpoint(buildEndpoint({ url: `http://127.0.0.1:${port}/`, retry: { ...FAST_RETRY, maxRetries: 2 } }));
      const id = await h.enqueue(buildEvent(), endpoint);
      const done = await h.waitForState(id, ['failed', 'delivered']);
      expect(done.state).toBe('failed');
      const attempts = await h.store.deliveries.attempts(id);
      expect(attempts.map((a) => [a.outcome, a.errorKind])).toEqual([
        ['retry', 'connection_refused'],
        ['retry', 'connection_refused'],
        ['failed', 'connection_refused'],
      ]);
    });
  });

  describe('when the receiver answers 429 with Retry-After', () => {
    it('waits for Retry-After when it is longer than the policy interval', async () => {
      receiver.enqueue({ status: 429, headers: { 'retry-after': '1' } }, { status: 200 });
      const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, retry: FAST_RETRY }));
      const id = await h.enqueue(buildEvent(), endpoint);
      await h.waitForState(id, ['delivered'], 5000);
      const [first, second] = receiver.requests;
      expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
    });

    it('keeps the policy interval when Retry-After is shorter', async () => {
      receiver.enqueue({ status: 503, headers: { 'retry-after': '0' } }, { status: 200 });
      const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, retry: { ...FAST_RETRY, intervalMs: 300 } }));
      const id = await h.enqueue(buildEvent(), endpoint);
      await h.waitForState(id, ['delivered'], 5000);
      const [first, second] = receiver.requests;
      expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(280);
    });
  });

  describe('with an endpoint whose policy retries 1 ms apart (stored before the 1 s floor, or under a lower one)', () => {
    const floored = useEngineHarness({ minRetryIntervalMs: 250 }, 'each');

    it('waits the floor between attempts, not the policy', async () => {
      receiver.enqueue({ status: 500 }, { status: 500 }, { status: 200 });
      const endpoint = await floored.saveEndpoint(
        buildEndpoint({ url: receiver.url, retry: { maxRetries: 5, intervalMs: 1, backoff: 'fixed' } }),
      );
      const id = await floored.enqueue(buildEvent(), endpoint);
      await floored.waitForState(id, ['delivered'], 5000);
      const at = receiver.requests.map((r) => r.receivedAt);
      expect(at).toHaveLength(3);
      expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(240);
      expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(240);
    });
  });

  describe('when the same (event, endpoint) pair is enqueued twice', () => {
    it('delivers once, whether the second enqueue comes before or after delivery', async () => {
      const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url }));
      const event = buildEvent();
      const first = await h.enqueue(event, endpoint);
      const second = await h.enqueue(event, endpoint);
      expect(second).toBe(first);
      await h.waitForState(first, ['delivered']);
      await h.enqueue(event, endpoint);
      await waitForDrain(h.worker);
      expect(receiver.requests).toHaveLength(1);
    });
  });

  it('keeps only the first 4 KB of a response body', async () => {
    receiver.answerWith({ status: 200, body: 'x'.repeat(100_000) });
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url }));
    const id = await h.enqueue(buildEvent(), endpoint);
    await h.waitForState(id, ['delivered']);
    const [attempt] = await h.store.deliveries.attempts(id);
    expect(attempt?.responseBody).toHaveLength(4096);
  });

  it('fails a delivery to a disabled endpoint without sending', async () => {
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, status: 'disabled' }));
    const id = await h.enqueue(buildEvent(), endpoint);
    const done = await h.waitForState(id, ['failed', 'delivered']);
    expect(done).toMatchObject({ state: 'failed', failureReason: 'endpoint_disabled' });
    expect(receiver.requests).toHaveLength(0);
  });

  it('does not keep completed jobs in Redis', async () => {
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url }));
    const ids = await Promise.all(Array.from({ length: 20 }, () => h.enqueue(buildEvent(), endpoint)));
    for (const id of ids) await h.waitForState(id, ['delivered']);
    await waitForDrain(h.worker);
    const counts = await h.queue.getJobCounts('completed', 'waiting', 'active', 'delayed');
    expect(counts).toMatchObject({ completed: 0, waiting: 0, active: 0, delayed: 0 });
  });

  it('writes one delivery.attempted log line per attempt with the same fields', async () => {
    receiver.enqueue({ status: 500 }, { status: 200 });
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, retry: FAST_RETRY }));
    const id = await h.enqueue(buildEvent(), endpoint);
    await h.waitForState(id, ['delivered']);
    const lines = h.logLines.filter((l) => l.msg === 'delivery.attempted');
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(Object.keys(line).sort()).toEqual(
        ['attempt', 'deliveryId', 'durationMs', 'endpointId', 'errorKind', 'eventId', 'level', 'msg', 'outcome', 'status', 'time'].sort(),
      );
    }
    expect(lines.map((l) => [l.attempt, l.status, l.outcome])).toEqual([
      [1, 500, 'retry'],
      [2, 200, 'delivered'],
    ]);
  });

  it('uses the Webex Connect defaults unless an endpoint says otherwise', () => {
    const endpoint = buildEndpoint({ url: receiver.url });
    expect(endpoint.timeoutMs).toBe(10_000);
    expect(DEFAULT_RETRY_POLICY).toEqual({ maxRetries: 3, intervalMs: 60_000, backoff: 'fixed' });
  });
});
