import { useTestReceiver } from '@hookrelay/testing';
import { useApiHarness } from '../../../apps/api/src/api-harness';
import { createHookrelayClient, HookrelayError } from './index';

// The client against the real API (and its worker) on loopback.
describe('@hookrelay/client against a running Hookrelay', () => {
  const h = useApiHarness();
  const receiver = useTestReceiver({ status: 200 });

  const admin = () => createHookrelayClient({ baseUrl: h.baseUrl, apiKey: h.adminKey, retry: { baseDelayMs: 5 } });

  it('publishes events (one and a batch) that reach the endpoint it created, and reads them back', async () => {
    const client = admin();
    const subscriber = await client.subscribers.create('Acme');
    expect(subscriber.apiKey).toMatch(/^hr_sub_/);
    const endpoint = await client.endpoints.create(subscriber.id, {
      url: `${receiver.url}/client`,
      eventTypes: ['custom.order.*'],
      retry: { maxRetries: 0 },
    });
    expect(endpoint.secret).toEqual(expect.any(String));
    const one = await client.publish(subscriber.id, {
      type: 'custom.order.paid',
      payload: { orderId: 'o-1' },
      idempotencyKey: 'order-o-1',
    });
    expect(one.deliveries).toEqual([{ id: expect.any(String), endpointId: endpoint.id }]);
    const again = await client.publish(subscriber.id, {
      type: 'custom.order.paid',
      payload: { orderId: 'o-1' },
      idempotencyKey: 'order-o-1',
    });
    expect(again.id).toBe(one.id);
    const batch = await client.publishBatch(subscriber.id, [
      { type: 'custom.order.refunded', payload: { orderId: 'o-1' } },
      { type: 'custom.order.shipped', payload: { orderId: 'o-2' } },
    ]);
    expect(batch).toHaveLength(2);
    const requests = await receiver.waitForRequests(3);
    expect(requests.map((r) => JSON.parse(r.body.toString()))).toEqual(expect.arrayContaining([{ orderId: 'o-1' }, { orderId: 'o-2' }]));

    // A subscriber key sees its own endpoints, deliveries and events through the same client.
    const mine = createHookrelayClient({ baseUrl: h.baseUrl, apiKey: subscriber.apiKey });
    expect((await mine.endpoints.list(subscriber.id)).data.map((e) => e.id)).toEqual([endpoint.id]);
    const deliveries = await waitFor(
      () => mine.deliveries.list(subscriber.id, { status: 'delivered' }),
      (p) => p.data.length === 3,
    );
    const detail = await mine.deliveries.get(subscriber.id, deliveries.data[0]!.id);
    expect(detail.attempts[0]?.statusCode).toBe(200);
    expect((await mine.deliveries.retry(subscriber.id, detail.id)).queued).toBe(true);
    const events = await mine.events.list(subscriber.id, { include: 'outcomes' });
    expect(events.data.map((e) => e.type)).toEqual(['custom.order.shipped', 'custom.order.refunded', 'custom.order.paid']);
    expect((await mine.events.replay(subscriber.id, one.id)).id).toBe(one.id);
    expect((await mine.endpoints.update(subscriber.id, endpoint.id, { description: 'orders' })).description).toBe('orders');
    expect((await mine.endpoints.test(subscriber.id, endpoint.id, { type: 'custom.order.paid' })).attempt?.statusCode).toBe(200);
    const stats = await mine.endpoints.stats(subscriber.id, endpoint.id);
    expect(stats.hours).toHaveLength(24);
    // The three events and the test send at least (the retry and the replay may still be on their way).
    expect(stats.hours.reduce((n, hour) => n + hour.delivered, 0)).toBeGreaterThanOrEqual(4);
    await mine.endpoints.delete(subscriber.id, endpoint.id);
    expect((await mine.endpoints.list(subscriber.id)).data).toEqual([]);
  });

  it('hands out and revokes portal sessions with a publisher key', async () => {
    const client = admin();
    const { id: sid } = await client.subscribers.create('Globex');
    const { apiKey } = (await h.call('POST', '/v1/api-keys', { body: { role: 'publisher' } })).body as { apiKey: string };
    const publisher = createHookrelayClient({ baseUrl: h.baseUrl, apiKey });
    const session = await publisher.portalSessions.create(sid, { ttlSeconds: 600, readOnly: true });
    expect(session.url).toBe(`${h.baseUrl}/portal#session=${session.token}`);
    const viewer = createHookrelayClient({ baseUrl: h.baseUrl, apiKey: session.token });
    expect(await viewer.whoami()).toMatchObject({ role: 'session', subscriberId: sid, subscriberName: 'Globex' });
    await publisher.portalSessions.revoke(sid, session.id);
    await expect(viewer.whoami()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it("throws HookrelayError carrying the API's code, message and details", async () => {
    const client = admin();
    const { id: sid } = await client.subscribers.create('Initech');
    const invalid = await client.endpoints
      .create(sid, { url: `${receiver.url}/x`, timeoutMs: 0, retry: { maxRetries: -1 } })
      .catch((err: unknown) => err);
    expect(invalid).toBeInstanceOf(HookrelayError);
    expect(invalid).toMatchObject({
      status: 400,
      code: 'validation_failed',
      message: expect.stringContaining('timeoutMs'),
      details: expect.arrayContaining([
        expect.objectContaining({ path: 'retry.maxRetries' }),
        expect.objectContaining({ path: 'timeoutMs', message: expect.any(String) }),
      ]),
      requestId: expect.any(String),
    });
    await expect(client.deliveries.get(sid, 'dlv_nothing')).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
      message: 'delivery not found',
    });
    await expect(
      createHookrelayClient({ baseUrl: h.baseUrl, apiKey: 'hr_pub_wrong' }).publish(sid, { type: 'custom.x', payload: {} }),
    ).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('publishes through a 503 while the API is shutting down, once it accepts again', async () => {
    const client = admin();
    const { id: sid } = await client.subscribers.create('Umbrella');
    h.setAccepting(false);
    // The API comes back after the first refusal has been seen.
    const back = setTimeout(() => h.setAccepting(true), 30);
    try {
      const started = Date.now();
      const accepted = await createHookrelayClient({
        baseUrl: h.baseUrl,
        apiKey: h.adminKey,
        retry: { baseDelayMs: 20, maxRetries: 6 },
      }).publish(sid, { type: 'custom.x', payload: { ok: true } });
      expect(accepted.id).toMatch(/^evt_/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(20);
    } finally {
      clearTimeout(back);
      h.setAccepting(true);
    }
    h.setAccepting(false);
    try {
      await expect(
        createHookrelayClient({ baseUrl: h.baseUrl, apiKey: h.adminKey, retry: false }).publish(sid, { type: 'custom.x', payload: {} }),
      ).rejects.toMatchObject({ status: 503, code: 'shutting_down' });
    } finally {
      h.setAccepting(true);
    }
  });
});

async function waitFor<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify(value).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
