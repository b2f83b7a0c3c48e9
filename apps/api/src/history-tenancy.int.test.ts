import { useApiHarness } from './api-harness';
import { createEndpoint, createTenant, getDelivery, publish, waitForDelivery, type Tenant, useReceiverPool } from './history-test-kit';
import { waitForDrain, type TestReceiver } from '@hookrelay/testing';

describe('history, replay and recovery are scoped to the subscriber', () => {
  const h = useApiHarness();
  let a: Tenant;
  let b: Tenant;
  const receivers = useReceiverPool('all');
  let ids: { endpoint: string; event: string; failed: string; delivered: string };
  let aReceiver: TestReceiver;

  beforeAll(async () => {
    a = await createTenant(h, 'Acme');
    b = await createTenant(h, 'Globex');
    aReceiver = await receivers.start({ status: 500 });
    const endpoint = await createEndpoint(h, a, aReceiver.url);
    const other = await createEndpoint(h, a, (await receivers.start({ status: 200 })).url);
    const event = await publish(h, a, 'custom.order.paid', { orderId: 1 });
    const failed = event.deliveries.find((d) => d.endpointId === endpoint.id)!.id;
    const delivered = event.deliveries.find((d) => d.endpointId === other.id)!.id;
    await waitForDelivery(h, a, failed, 'failed');
    await waitForDelivery(h, a, delivered, 'delivered');
    ids = { endpoint: endpoint.id, event: event.id, failed, delivered };
    // B has history of its own, so its empty answers below are not just an empty store.
    await createEndpoint(h, b, (await receivers.start({ status: 200 })).url);
    await waitForDelivery(h, b, (await publish(h, b, 'custom.order.paid', { orderId: 2 })).deliveries[0]!.id, 'delivered');
  });

  /** Every new route, as [method, path under /v1/subscribers/<sid>, body]. */
  const routes = (): Array<[string, string, unknown]> => [
    ['GET', '/deliveries', undefined],
    ['GET', `/deliveries/${ids.failed}`, undefined],
    ['POST', `/deliveries/${ids.failed}/retry`, undefined],
    ['POST', `/deliveries/${ids.delivered}/retry`, undefined],
    ['GET', '/events', undefined],
    ['GET', `/events/${ids.event}`, undefined],
    ['POST', `/events/${ids.event}/replay`, {}],
    ['POST', `/endpoints/${ids.endpoint}/recover`, { since: 0 }],
    ['POST', `/endpoints/${ids.endpoint}/test`, {}],
    ['GET', `/endpoints/${ids.endpoint}`, undefined],
  ];

  async function snapshotOfA() {
    const failed = await getDelivery(h, a, ids.failed);
    const delivered = await getDelivery(h, a, ids.delivered);
    return {
      failed: [failed.state, failed.attempts.length],
      delivered: [delivered.state, delivered.attempts.length],
      requests: aReceiver.requests.length,
    };
  }

  it("answers 404 to B's key on every route under A's subscriber id, and changes nothing of A's", async () => {
    const before = await snapshotOfA();
    for (const [method, path, body] of routes()) {
      const res = await h.call(method, `${a.base}${path}`, { key: b.key, body });
      expect([method, path, res.status, res.body.error?.code]).toEqual([method, path, 404, 'not_found']);
    }
    await waitForDrain(h.worker!);
    expect(await snapshotOfA()).toEqual(before);
  });

  it("answers 404 to B for A's delivery, event and endpoint ids under B's own subscriber id", async () => {
    const before = await snapshotOfA();
    for (const [method, path, body] of routes().filter(([, path]) => path.split('/').length > 2)) {
      const res = await h.call(method, `${b.base}${path}`, { key: b.key, body });
      expect([method, path, res.status]).toEqual([method, path, 404]);
    }
    // Naming A's endpoint as a filter is a 404 too, answered without reading A's log.
    const listed = await h.call('GET', `${b.base}/deliveries?endpointId=${ids.endpoint}`, { key: b.key });
    expect([listed.status, listed.body.error?.code]).toEqual([404, 'not_found']);
    const own = await h.call('GET', `${b.base}/deliveries`, { key: b.key });
    expect(own.body.data).toHaveLength(1);
    expect(JSON.stringify(own.body)).not.toContain(ids.event);
    const events = await h.call('GET', `${b.base}/events?limit=100`, { key: b.key });
    expect(events.body.data.map((e: { id: string }) => e.id)).not.toContain(ids.event);
    // Naming A's endpoint when replaying B's own event is refused like an unknown one.
    const bEvent = events.body.data[0].id as string;
    const replay = await h.call('POST', `${b.base}/events/${bEvent}/replay`, { key: b.key, body: { endpointIds: [ids.endpoint] } });
    expect(replay.status).toBe(400);
    await waitForDrain(h.worker!);
    expect(await snapshotOfA()).toEqual(before);
  });

  it('answers 403 to a publisher key on the history routes and lets the admin key read any subscriber', async () => {
    const publisher = (await h.call('POST', '/v1/api-keys', { body: { role: 'publisher' } })).body.apiKey as string;
    for (const [method, path, body] of routes()) {
      const res = await h.call(method, `${a.base}${path}`, { key: publisher, body });
      expect([method, path, res.status]).toEqual([method, path, 403]);
    }
    const admin = await h.call('GET', `${a.base}/deliveries`, { key: h.adminKey });
    expect(admin.body.data.map((d: { id: string }) => d.id).sort()).toEqual([ids.failed, ids.delivered].sort());
    expect((await h.call('GET', `${a.base}/events/${ids.event}`)).status).toBe(200);
  });
});
