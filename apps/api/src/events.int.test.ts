import { listEventTypes } from '@hookrelay/contracts';
import { TestReceiver, waitForDrain } from '@hookrelay/testing';
import { useApiHarness } from './api-harness';

/** The catalog's own example for a built-in type: a payload its schema accepts. */
function example(type: string): Record<string, any> {
  const info = listEventTypes().find((t) => t.type === type);
  if (!info) throw new Error(`no catalog type ${type}`);
  return structuredClone(info.example) as Record<string, any>;
}

interface PublishedEvent {
  id: string;
  type: string;
  deliveries: Array<{ id: string; endpointId: string }>;
}

describe('event routes', () => {
  const h = useApiHarness({}, 'each');
  const receivers: TestReceiver[] = [];
  let sid: string;
  let events: string;

  beforeEach(async () => {
    sid = (await h.call('POST', '/v1/subscribers', { body: { name: 'Acme' } })).body.id;
    events = `/v1/subscribers/${sid}/events`;
  });
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });

  async function endpointFor(eventTypes: string[] = ['*']): Promise<{ id: string; receiver: TestReceiver }> {
    const receiver = await TestReceiver.start();
    receivers.push(receiver);
    const res = await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: receiver.url, eventTypes } });
    expect(res.status).toBe(201);
    return { id: res.body.id, receiver };
  }

  async function storedEventKeys(): Promise<string[]> {
    return (await h.redis.keys(`${h.prefix}:ev:*`)).concat(
      await h.redis.keys(`${h.prefix}:dl:*`),
      await h.redis.keys(`${h.prefix}:idem:*`),
    );
  }

  it('answers 202 with the event and its deliveries, and the receiver gets exactly the payload bytes', async () => {
    const { id: endpointId, receiver } = await endpointFor();
    const payload = { z: 1, a: 'é 🚀 "quoted" </script>', nested: { list: [1, 2.5, null, true], empty: {} }, n: -0.000001 };
    const res = await h.call('POST', events, { body: { type: 'custom.order.paid', payload } });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^evt_/),
      type: 'custom.order.paid',
      deliveries: [{ id: expect.stringMatching(/^dlv_/), endpointId }],
    });
    const [req] = await receiver.waitForRequests(1);
    expect(req?.method).toBe('POST');
    expect(req?.body.equals(Buffer.from(JSON.stringify(payload), 'utf8'))).toBe(true);
    expect(req?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-hookrelay-event-id': res.body.id,
      'x-hookrelay-event-type': 'custom.order.paid',
      'x-hookrelay-delivery-id': res.body.deliveries[0].id,
    });
  });

  it('fans out to exactly the endpoints whose patterns match each type', async () => {
    const patterns = ['*', 'incident.*', 'receipt.sms.delivered', 'receipt.*.delivered', 'message.incoming.*'] as const;
    const eps = Object.fromEntries(await Promise.all(patterns.map(async (p) => [p, await endpointFor([p])] as const)));
    const expected: Record<string, Array<(typeof patterns)[number]>> = {
      'incident.triggered': ['*', 'incident.*'],
      'receipt.sms.delivered': ['*', 'receipt.sms.delivered', 'receipt.*.delivered'],
      'receipt.email.delivered': ['*', 'receipt.*.delivered'],
      'receipt.sms.failed': ['*'],
      'message.incoming.whatsapp': ['*', 'message.incoming.*'],
      'call.incoming': ['*'],
    };
    const published: Record<string, PublishedEvent> = {};
    for (const type of Object.keys(expected)) {
      const res = await h.call('POST', events, { body: { type, payload: example(type) } });
      expect([type, res.status]).toEqual([type, 202]);
      published[type] = res.body;
    }
    for (const [type, want] of Object.entries(expected)) {
      const got = published[type]!.deliveries.map((d) => d.endpointId).sort();
      expect([type, got]).toEqual([type, want.map((p) => eps[p]!.id).sort()]);
    }
    // What each receiver actually got: the types whose pattern it holds, each once.
    for (const pattern of patterns) {
      const want = Object.keys(expected).filter((type) => expected[type]!.includes(pattern));
      await eps[pattern]!.receiver.waitForRequests(want.length);
    }
    await waitForDrain(h.worker!);
    for (const pattern of patterns) {
      const want = Object.keys(expected).filter((type) => expected[type]!.includes(pattern));
      const got = eps[pattern]!.receiver.requests.map((r) => r.headers['x-hookrelay-event-type']);
      expect([pattern, got.sort()]).toEqual([pattern, want.sort()]);
      for (const r of eps[pattern]!.receiver.requests) {
        const type = String(r.headers['x-hookrelay-event-type']);
        expect(r.body.toString()).toBe(JSON.stringify(example(type)));
        expect(r.headers['x-hookrelay-event-id']).toBe(published[type]!.id);
      }
    }
  });

  it('sends nothing to a disabled endpoint', async () => {
    const active = await endpointFor();
    const disabled = await endpointFor();
    await h.call('PATCH', `/v1/subscribers/${sid}/endpoints/${disabled.id}`, { body: { status: 'disabled' } });
    const res = await h.call('POST', events, { body: { type: 'incident.triggered', payload: example('incident.triggered') } });
    expect(res.body.deliveries.map((d: { endpointId: string }) => d.endpointId)).toEqual([active.id]);
    await active.receiver.waitForRequests(1);
    await waitForDrain(h.worker!);
    expect(disabled.receiver.requests).toEqual([]);
  });

  it('accepts an event no endpoint matches with 202 and no deliveries', async () => {
    const only = await endpointFor(['incident.*']);
    const res = await h.call('POST', events, { body: { type: 'receipt.sms.delivered', payload: example('receipt.sms.delivered') } });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: expect.stringMatching(/^evt_/), type: 'receipt.sms.delivered', deliveries: [] });
    await waitForDrain(h.worker!);
    expect(only.receiver.requests).toEqual([]);
  });

  describe('idempotency', () => {
    it.each([
      ['the body idempotencyKey', (key: string) => ({ body: { type: 'custom.order.paid', payload: { orderId: 1 }, idempotencyKey: key } })],
      [
        'the Idempotency-Key header',
        (key: string) => ({ body: { type: 'custom.order.paid', payload: { orderId: 1 } }, headers: { 'Idempotency-Key': key } }),
      ],
    ])('repeating %s returns the first event and deliveries, and delivers once', async (_label, request) => {
      const { receiver } = await endpointFor();
      const first = await h.call('POST', events, request('order-1-paid'));
      const second = await h.call('POST', events, request('order-1-paid'));
      expect([first.status, second.status]).toEqual([202, 202]);
      expect(second.body).toEqual(first.body);
      expect(first.body.deliveries).toHaveLength(1);
      await receiver.waitForRequests(1);
      await waitForDrain(h.worker!);
      expect(receiver.requests).toHaveLength(1);
      expect((await h.redis.keys(`${h.prefix}:ev:*`)).filter((k) => !k.endsWith(':dl'))).toHaveLength(1);
    });

    it('refuses the key with another request (422, nothing written), and another key makes a new event', async () => {
      const { receiver } = await endpointFor();
      const first = await h.call('POST', events, { body: { type: 'custom.a', payload: { v: 1 }, idempotencyKey: 'k1' } });
      const reused = await h.call('POST', events, { body: { type: 'custom.b', payload: { v: 2 } }, headers: { 'Idempotency-Key': 'k1' } });
      const other = await h.call('POST', events, { body: { type: 'custom.a', payload: { v: 1 }, idempotencyKey: 'k2' } });
      expect(reused.status).toBe(422);
      expect(reused.body.error.code).toBe('idempotency_key_reused');
      expect(other.body.id).not.toBe(first.body.id);
      await receiver.waitForRequests(2);
      await waitForDrain(h.worker!);
      expect(receiver.requests.map((r) => r.body.toString())).toEqual(['{"v":1}', '{"v":1}']);
    });

    it('delivers once when the same key is posted concurrently; every 202 names the same event', async () => {
      const { receiver } = await endpointFor();
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          h.call('POST', events, { body: { type: 'custom.x', payload: { n: 1 } }, headers: { 'Idempotency-Key': 'race' } }),
        ),
      );
      // The key is taken with its event in one script: no caller can see it held by an event still being written.
      expect(results.map((r) => r.status)).toEqual(Array(8).fill(202));
      expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
      await receiver.waitForRequests(1);
      await waitForDrain(h.worker!);
      expect(receiver.requests).toHaveLength(1);
    });

    it('refuses a key longer than 255 characters with 400 naming idempotencyKey', async () => {
      const res = await h.call('POST', events, {
        body: { type: 'custom.x', payload: {} },
        headers: { 'Idempotency-Key': 'k'.repeat(256) },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'idempotencyKey' })]);
    });

    it('returns the first event for a key repeated within one batch', async () => {
      const { receiver } = await endpointFor();
      const event = { type: 'custom.order.paid', payload: { orderId: 7 }, idempotencyKey: 'dup' };
      const res = await h.call('POST', `${events}/batch`, { body: { events: [event, event] } });
      expect(res.status).toBe(202);
      expect(res.body.events[1]).toEqual(res.body.events[0]);
      await receiver.waitForRequests(1);
      await waitForDrain(h.worker!);
      expect(receiver.requests).toHaveLength(1);
    });
  });

  describe('batches', () => {
    it('accepts all events with 202, in order, and delivers each', async () => {
      const { id: endpointId, receiver } = await endpointFor(['incident.*', 'custom.*']);
      const batch = [
        { type: 'incident.triggered', payload: example('incident.triggered') },
        { type: 'receipt.sms.failed', payload: example('receipt.sms.failed') },
        { type: 'custom.order.paid', payload: { orderId: 3 } },
      ];
      const res = await h.call('POST', `${events}/batch`, { body: { events: batch } });
      expect(res.status).toBe(202);
      expect(res.body.events.map((e: PublishedEvent) => [e.type, e.deliveries.map((d) => d.endpointId)])).toEqual([
        ['incident.triggered', [endpointId]],
        ['receipt.sms.failed', []],
        ['custom.order.paid', [endpointId]],
      ]);
      expect(new Set(res.body.events.map((e: PublishedEvent) => e.id)).size).toBe(3);
      await receiver.waitForRequests(2);
      await waitForDrain(h.worker!);
      expect(receiver.requests.map((r) => r.headers['x-hookrelay-event-type']).sort()).toEqual(['custom.order.paid', 'incident.triggered']);
    });

    it('refuses the whole batch with 400 naming events.<i> when one event is invalid, storing and delivering nothing', async () => {
      const { receiver } = await endpointFor();
      const bad = example('receipt.sms.delivered');
      delete bad.deliveryInfoNotification.deliveryInfo.destination;
      const batch = [
        { type: 'custom.order.paid', payload: { orderId: 1 }, idempotencyKey: 'batch-1-0' },
        { type: 'receipt.sms.delivered', payload: bad },
        { type: 'custom.order.paid', payload: { orderId: 2 } },
      ];
      const res = await h.call('POST', `${events}/batch`, { body: { events: batch } });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([
        { path: 'events.1.payload.deliveryInfoNotification.deliveryInfo.destination', message: expect.any(String) },
      ]);
      await waitForDrain(h.worker!);
      expect(receiver.requests).toEqual([]);
      expect(await storedEventKeys()).toEqual([]);
      // Nothing was claimed either: the corrected batch goes through with the same key.
      batch[1] = { type: 'receipt.sms.delivered', payload: example('receipt.sms.delivered') };
      expect((await h.call('POST', `${events}/batch`, { body: { events: batch } })).status).toBe(202);
      await receiver.waitForRequests(3);
    });

    it.each([
      ['an empty batch', { events: [] }, 'events'],
      ['more than 1000 events', { events: Array.from({ length: 1001 }, () => ({ type: 'custom.x', payload: {} })) }, 'events'],
      ['an unknown field beside events', { events: [{ type: 'custom.x', payload: {} }], dryRun: true }, '(body)'],
      ['an event that is not an object', { events: [{ type: 'custom.x', payload: {} }, 'custom.x'] }, 'events.1'],
    ])('refuses %s with 400 naming %s', async (_label, body, path) => {
      const { receiver } = await endpointFor();
      const res = await h.call('POST', `${events}/batch`, { body });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([expect.objectContaining({ path })]);
      await waitForDrain(h.worker!);
      expect(receiver.requests).toEqual([]);
      expect(await storedEventKeys()).toEqual([]);
    });

    it('accepts exactly 1000 events', async () => {
      const res = await h.call('POST', `${events}/batch`, {
        body: { events: Array.from({ length: 1000 }, (_, i) => ({ type: 'custom.x', payload: { i } })) },
      });
      expect(res.status).toBe(202);
      expect(res.body.events).toHaveLength(1000);
    });
  });

  describe('refuses invalid events with 400 naming the path', () => {
    it.each<[string, unknown, string]>([
      ['an unknown type', { type: 'order.paid', payload: {} }, 'type'],
      ['a type that is not dot-separated words', { type: 'custom order', payload: {} }, 'type'],
      ['a missing payload', { type: 'custom.x' }, 'payload'],
      [
        'a Zenduty payload whose event_type disagrees with the type',
        { type: 'incident.triggered', payload: { payload: { ...example('incident.resolved').payload } } },
        'payload.payload.event_type',
      ],
      [
        'a Zenduty payload without its incident',
        { type: 'incident.acknowledged', payload: { payload: { event_type: 'acknowledged' } } },
        'payload.payload.incident',
      ],
      [
        'an SMS receipt whose deliveryStatus disagrees with the type',
        { type: 'receipt.sms.failed', payload: example('receipt.sms.delivered') },
        'payload.deliveryInfoNotification.deliveryInfo.deliveryStatus',
      ],
      ['a custom.* event with an array payload', { type: 'custom.list', payload: [1, 2] }, 'payload'],
      ['a custom.* event with a string payload', { type: 'custom.text', payload: 'hello' }, 'payload'],
      ['an unknown field', { type: 'custom.x', payload: {}, priority: 'high' }, '(body)'],
    ])('%s', async (_label, body, path) => {
      const { receiver } = await endpointFor();
      const res = await h.call('POST', events, { body });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details).toEqual([expect.objectContaining({ path })]);
      expect(res.body.error.message).toContain(path === '(body)' ? 'priority' : path);
      await waitForDrain(h.worker!);
      expect(receiver.requests).toEqual([]);
      expect(await storedEventKeys()).toEqual([]);
    });
  });
});
