import { verifyHubSignature } from '@hookrelay/signing';
import { waitForDrain, type ApiCallResult, type Reply } from '@hookrelay/testing';
import { startApiHarness, type ApiHarness, useApiHarness } from './api-harness';
import {
  createEndpoint,
  createTenant,
  getDelivery,
  publish,
  sleep,
  waitForDelivery,
  type Published,
  useTenant,
  useReceiverPool,
} from './history-test-kit';

/** Answers 200 to events whose type contains `.ok.`, `status` to the rest. */
const okOnlyFor =
  (status: number): Reply =>
  (req, res) => {
    res.writeHead(String(req.headers['x-hookrelay-event-type']).includes('.ok.') ? 200 : status);
    res.end();
  };

describe('retry, recover, replay and test sends', () => {
  const h = useApiHarness();
  const t = useTenant(h, 'Acme');
  const receivers = useReceiverPool();

  describe('POST /deliveries/:did/retry', () => {
    it('makes one more attempt of a failed delivery, then of a delivered one, numbered on in the same history', async () => {
      const receiver = await receivers.start({ status: 200 });
      receiver.enqueue({ status: 500 });
      await createEndpoint(h, t, receiver.url);
      const did = (await publish(h, t, 'custom.order.paid', { orderId: 1 })).deliveries[0]!.id;
      await waitForDelivery(h, t, did, 'failed');

      const retried = await h.call('POST', `${t.base}/deliveries/${did}/retry`, { key: t.key });
      expect(retried.status).toBe(202);
      expect(retried.body).toEqual({ id: did, state: 'pending', queued: true });
      const afterRetry = await waitForDelivery(h, t, did, 'delivered', 2);
      expect(afterRetry.attempts.map((a: any) => [a.attempt, a.statusCode, a.outcome])).toEqual([
        [1, 500, 'failed'],
        [2, 200, 'delivered'],
      ]);
      expect(afterRetry.failureReason).toBeUndefined();

      expect((await h.call('POST', `${t.base}/deliveries/${did}/retry`, { key: t.key })).status).toBe(202);
      const again = await waitForDelivery(h, t, did, 'delivered', 3);
      expect(again.attempts.map((a: any) => a.attempt)).toEqual([1, 2, 3]);
      const requests = await receiver.waitForRequests(3);
      await waitForDrain(h.worker!);
      expect(receiver.requests).toHaveLength(3);
      expect(requests.map((r) => [r.headers['x-hookrelay-delivery-id'], r.headers['x-hookrelay-attempt']])).toEqual([
        [did, '1'],
        [did, '2'],
        [did, '3'],
      ]);
      expect(new Set(requests.map((r) => r.body.toString()))).toEqual(new Set([JSON.stringify({ orderId: 1 })]));
    });

    it('answers 409 for a delivery that is still retrying, and sends nothing extra', async () => {
      const receiver = await receivers.start({ status: 503 });
      await createEndpoint(h, t, receiver.url, { retry: { maxRetries: 3, intervalMs: 60_000 } });
      const did = (await publish(h, t, 'custom.order.paid')).deliveries[0]!.id;
      await waitForDelivery(h, t, did, 'retrying');
      const res = await h.call('POST', `${t.base}/deliveries/${did}/retry`, { key: t.key });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('delivery_in_progress');
      // Its next attempt is a minute away, past the wait: nothing else may be sent meanwhile.
      await waitForDrain(h.worker!);
      expect(receiver.requests).toHaveLength(1);
      expect((await getDelivery(h, t, did)).state).toBe('retrying');
    });
  });

  describe('POST /endpoints/:eid/recover', () => {
    it('re-queues exactly the failed deliveries in the window, once each even when two API processes are asked at once', async () => {
      const receiver = await receivers.start(okOnlyFor(500));
      const ep = await createEndpoint(h, t, receiver.url);
      const other = await createEndpoint(h, t, (await receivers.start({ status: 500 })).url);
      const types = ['custom.order.paid', 'custom.order.paid', 'custom.ok.paid', 'custom.order.paid', 'custom.order.paid'];
      const events: Published[] = [];
      for (const type of types) {
        events.push(await publish(h, t, type, { n: events.length }));
        await sleep(4);
      }
      const mine = events.map((e) => e.deliveries.find((d) => d.endpointId === ep.id)!.id);
      const ended = await Promise.all(mine.map((did, i) => waitForDelivery(h, t, did, i === 2 ? 'delivered' : 'failed')));
      await Promise.all(events.map((e) => waitForDelivery(h, t, e.deliveries.find((d) => d.endpointId === other.id)!.id, 'failed')));
      expect(receiver.requests).toHaveLength(5);
      // The window holds events 1..3: two failed, one delivered; 0 and 4 fail outside it.
      const window = { since: ended[1].createdAt, until: ended[3].createdAt };

      // One recover at a time per subscriber and process (429 recover_in_flight): the race that
      // remains is between processes, which the reopen script settles.
      const secondProcess = await startApiHarness({ worker: false, prefix: h.prefix, keepData: true });
      let first: ApiCallResult;
      let second: ApiCallResult;
      try {
        [first, second] = await Promise.all([
          h.call('POST', `${t.base}/endpoints/${ep.id}/recover`, { key: t.key, body: window }),
          secondProcess.call('POST', `${t.base}/endpoints/${ep.id}/recover`, { key: t.key, body: window }),
        ]);
      } finally {
        await secondProcess.close();
      }
      expect([first.status, second.status]).toEqual([202, 202]);
      expect(first.body).toEqual({ endpointId: ep.id, recovered: expect.any(Number), complete: true, nextCursor: null });
      expect(first.body.recovered + second.body.recovered).toBe(2);
      await receiver.waitForRequests(7);
      await waitForDrain(h.worker!);
      expect(receiver.requests).toHaveLength(7);
      expect(
        receiver.requests
          .slice(5)
          .map((r) => r.headers['x-hookrelay-event-id'])
          .sort(),
      ).toEqual([events[1]!.id, events[3]!.id].sort());
      await waitForDelivery(h, t, mine[1]!, 'failed', 2);
      await waitForDelivery(h, t, mine[3]!, 'failed', 2);

      // The receiver is fixed: recovering again (ISO times this once) delivers them.
      receiver.answerWith({ status: 200 });
      const iso = { since: new Date(window.since).toISOString(), until: new Date(window.until).toISOString() };
      const fixed = await h.call('POST', `${t.base}/endpoints/${ep.id}/recover`, { key: t.key, body: iso });
      expect(fixed.body.recovered).toBe(2);
      for (const i of [1, 3])
        expect((await waitForDelivery(h, t, mine[i]!, 'delivered', 3)).attempts.map((a: any) => a.statusCode)).toEqual([500, 500, 200]);
      for (const i of [0, 4]) expect((await getDelivery(h, t, mine[i]!)).attempts).toHaveLength(1);
      expect((await getDelivery(h, t, mine[2]!)).attempts).toHaveLength(1);
      await waitForDrain(h.worker!);
      expect(receiver.requests).toHaveLength(9);
      // The other endpoint's failures were not touched.
      const others = await h.call('GET', `${t.base}/deliveries?endpointId=${other.id}&status=failed`, { key: t.key });
      expect(others.body.data).toHaveLength(5);
      expect(others.body.data.every((d: any) => d.attempts === 1)).toBe(true);
    });

    it('goes on from a cursor it handed out, and answers 400 naming cursor for one it did not', async () => {
      const ep = await createEndpoint(h, t, (await receivers.start()).url);
      const cursor = Buffer.from(`${Date.now()}-0`).toString('base64url');
      const resumed = await h.call('POST', `${t.base}/endpoints/${ep.id}/recover`, { key: t.key, body: { since: 0, cursor } });
      expect([resumed.status, resumed.body]).toEqual([202, { endpointId: ep.id, recovered: 0, complete: true, nextCursor: null }]);
      const bogus = await h.call('POST', `${t.base}/endpoints/${ep.id}/recover`, { key: t.key, body: { since: 0, cursor: 'page-2' } });
      expect(bogus.status).toBe(400);
      expect(bogus.body.error.details.map((d: { path: string }) => d.path)).toEqual(['cursor']);
    });

    it('answers 400 naming since when it is missing or not a time', async () => {
      const ep = await createEndpoint(h, t, (await receivers.start()).url);
      for (const body of [{}, { since: 'last tuesday' }, { since: 0, until: 'never' }]) {
        const res = await h.call('POST', `${t.base}/endpoints/${ep.id}/recover`, { key: t.key, body });
        expect(res.status).toBe(400);
        expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual([
          'since' in body && body.since === 0 ? 'until' : 'since',
        ]);
      }
    });
  });

  describe('POST /events/:eid/replay', () => {
    it('delivers again to every current matching endpoint, including one created after the event', async () => {
      const [ra, rb, rc, rd] = await Promise.all([1, 2, 3, 4].map(() => receivers.start({ status: 200 })));
      const a = await createEndpoint(h, t, ra!.url, { eventTypes: ['custom.order.*'] });
      const b = await createEndpoint(h, t, rb!.url);
      const event = await publish(h, t, 'custom.order.paid', { orderId: 42 });
      await Promise.all(event.deliveries.map((d) => waitForDelivery(h, t, d.id, 'delivered')));
      const c = await createEndpoint(h, t, rc!.url, { eventTypes: ['custom.order.paid'] });
      await createEndpoint(h, t, rd!.url, { eventTypes: ['custom.user.*'] });

      // Asked twice at once (a double click): each endpoint gets the event once more, not twice.
      const both = await Promise.all([0, 1].map(() => h.call('POST', `${t.base}/events/${event.id}/replay`, { key: t.key, body: {} })));
      expect(both.map((r) => r.status)).toEqual([202, 202]);
      const createdIds = both.flatMap((r) => r.body.created as string[]);
      expect(createdIds).toHaveLength(1);
      expect(both.flatMap((r) => r.body.requeued as string[]).sort()).toEqual(event.deliveries.map((d) => d.id).sort());
      const created = await waitForDelivery(h, t, createdIds[0]!, 'delivered');
      expect(created).toMatchObject({ endpointId: c.id, eventId: event.id });
      for (const r of [ra, rb]) await r!.waitForRequests(2);
      const [toC] = await rc!.waitForRequests(1);
      await waitForDrain(h.worker!);
      expect([ra, rb, rc, rd].map((r) => r!.requests.length)).toEqual([2, 2, 1, 0]);
      expect(toC!.headers['x-hookrelay-event-id']).toBe(event.id);
      expect(toC!.body.toString()).toBe(JSON.stringify({ orderId: 42 }));
      const shown = await h.call('GET', `${t.base}/events/${event.id}`, { key: t.key });
      expect(shown.body.deliveries.map((d: any) => d.endpointId).sort()).toEqual([a.id, b.id, c.id].sort());

      // To a subset: only C.
      const subset = await h.call('POST', `${t.base}/events/${event.id}/replay`, { key: t.key, body: { endpointIds: [c.id] } });
      expect(subset.body).toEqual({ id: event.id, created: [], requeued: [created.id] });
      await rc!.waitForRequests(2);
      await waitForDrain(h.worker!);
      expect([ra, rb, rc, rd].map((r) => r!.requests.length)).toEqual([2, 2, 2, 0]);
    });

    it("reads and sends only the event's summary, never its payload, and runs two at a time per subscriber", async () => {
      const receiver = await receivers.start({ status: 200 });
      await createEndpoint(h, t, receiver.url, { eventTypes: ['custom.big.*'] });
      const event = await publish(h, t, 'custom.big.one', { blob: 'x'.repeat(500_000) });
      await waitForDelivery(h, t, event.deliveries[0]!.id, 'delivered');
      // What the API's store connection sends Redis and reads back while one replay runs.
      const bytes = { sent: 0, read: 0 };
      const sizeOf = (value: unknown): number =>
        typeof value === 'string' || Buffer.isBuffer(value)
          ? value.length
          : Array.isArray(value)
            ? value.reduce((n: number, v) => n + sizeOf(v), 0)
            : 8;
      const original = h.redis.sendCommand;
      h.redis.sendCommand = function counted(this: typeof h.redis, ...args: Parameters<typeof original>) {
        const [command] = args;
        bytes.sent += sizeOf(command.args);
        command.promise.then(
          (reply) => void (bytes.read += sizeOf(reply)),
          () => undefined,
        );
        return original.apply(this, args);
      };
      try {
        const replayed = await h.call('POST', `${t.base}/events/${event.id}/replay`, { key: t.key, body: {} });
        expect(replayed.status).toBe(202);
      } finally {
        h.redis.sendCommand = original;
      }
      // The payload is 500 KB: it was read whole and sent again to a script that kept nothing of it.
      expect(bytes.sent).toBeLessThan(20_000);
      expect(bytes.read).toBeLessThan(20_000);
      await receiver.waitForRequests(2);
      expect(JSON.parse(receiver.requests[1]!.body.toString())).toEqual({ blob: 'x'.repeat(500_000) });

      const many = await Promise.all(
        Array.from({ length: 6 }, () => h.call('POST', `${t.base}/events/${event.id}/replay`, { key: t.key, body: {} })),
      );
      const refused = many.filter((r) => r.status === 429);
      expect(refused.length).toBeGreaterThanOrEqual(1);
      expect(many.filter((r) => r.status === 202).length).toBeGreaterThanOrEqual(1);
      expect(refused[0]!.body.error).toMatchObject({
        code: 'replays_in_flight',
        details: [{ path: 'event', message: 'at most 2 at once' }],
      });
      await waitForDrain(h.worker!);
    });

    it('answers 400 naming endpointIds for an unknown, non-matching or empty list, and sends nothing', async () => {
      const receiver = await receivers.start({ status: 200 });
      const a = await createEndpoint(h, t, receiver.url, { eventTypes: ['custom.order.*'] });
      const elsewhere = await createEndpoint(h, t, receiver.url, { eventTypes: ['custom.user.*'] });
      const event = await publish(h, t, 'custom.order.paid');
      await waitForDelivery(h, t, event.deliveries[0]!.id, 'delivered');
      for (const endpointIds of [[a.id, 'ep_doesnotexist'], [elsewhere.id], []]) {
        const res = await h.call('POST', `${t.base}/events/${event.id}/replay`, { key: t.key, body: { endpointIds } });
        expect(res.status).toBe(400);
        expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(['endpointIds']);
      }
      // A thousand unknown ids: the message names ten and counts the rest.
      const unknown = Array.from({ length: 1000 }, (_, i) => `ep_${String(i).padStart(60, '0')}`);
      const many = await h.call('POST', `${t.base}/events/${event.id}/replay`, { key: t.key, body: { endpointIds: unknown } });
      expect(many.status).toBe(400);
      expect(many.body.error.message).toMatch(/ep_0+9 and 990 more$/);
      expect(many.body.error.message.length).toBeLessThan(1000);
      await waitForDrain(h.worker!);
      expect(receiver.requests).toHaveLength(1);
      expect((await getDelivery(h, t, event.deliveries[0]!.id)).attempts).toHaveLength(1);
    });
  });

  describe('POST /endpoints/:eid/test', () => {
    it('sends a signed hookrelay.test event now and answers with the attempt, recorded in the history', async () => {
      const receiver = await receivers.start({ status: 202, body: 'thanks' });
      const ep = await createEndpoint(h, t, receiver.url, { eventTypes: ['custom.order.*'] });
      const res = await h.call('POST', `${t.base}/endpoints/${ep.id}/test`, { key: t.key, body: {} });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ eventId: expect.stringMatching(/^evt_/), deliveryId: expect.stringMatching(/^dlv_/) });
      expect(res.body.attempt).toMatchObject({
        attempt: 1,
        statusCode: 202,
        outcome: 'delivered',
        responseBody: 'thanks',
        durationMs: expect.any(Number),
      });
      // It was sent before the answer, not queued.
      expect(receiver.requests).toHaveLength(1);
      const req = receiver.requests[0]!;
      expect(req.headers['x-hookrelay-event-type']).toBe('hookrelay.test');
      expect(JSON.parse(req.body.toString())).toMatchObject({ type: 'hookrelay.test', test: true, endpointId: ep.id });
      expect(verifyHubSignature({ secret: ep.secret, body: req.body, header: String(req.headers['x-hub-signature']) })).toBe(true);

      const listed = await h.call('GET', `${t.base}/deliveries?eventType=hookrelay.test`, { key: t.key });
      expect(listed.body.data.map((d: any) => [d.id, d.state])).toEqual([[res.body.deliveryId, 'delivered']]);
      const event = await h.call('GET', `${t.base}/events/${res.body.eventId}`, { key: t.key });
      expect(event.body).toMatchObject({ type: 'hookrelay.test', payload: { test: true, endpointId: ep.id } });
      await waitForDrain(h.worker!);
      expect(receiver.requests).toHaveLength(1);
    });

    it('answers with the failed attempt when the receiver fails, and sends the type asked for', async () => {
      const receiver = await receivers.start({ status: 500, body: 'nope' });
      const ep = await createEndpoint(h, t, receiver.url, { retry: { maxRetries: 5, intervalMs: 20 } });
      const res = await h.call('POST', `${t.base}/endpoints/${ep.id}/test`, { key: t.key, body: { type: 'custom.order.paid' } });
      expect(res.status).toBe(200);
      expect(res.body.attempt).toMatchObject({ attempt: 1, statusCode: 500, outcome: 'failed', responseBody: 'nope' });
      expect(receiver.requests.map((r) => r.headers['x-hookrelay-event-type'])).toEqual(['custom.order.paid']);
      expect(await getDelivery(h, t, res.body.deliveryId)).toMatchObject({ state: 'failed', eventType: 'custom.order.paid' });
      await waitForDrain(h.worker!);
      expect(receiver.requests).toHaveLength(1);

      const closed = await receivers.start();
      const down = await createEndpoint(h, t, closed.url);
      await closed.close();
      const refused = await h.call('POST', `${t.base}/endpoints/${down.id}/test`, { key: t.key });
      expect(refused.status).toBe(200);
      expect(refused.body.attempt).toMatchObject({ errorKind: 'connection_refused', outcome: 'failed' });
      const bad = await h.call('POST', `${t.base}/endpoints/${ep.id}/test`, { key: t.key, body: { type: 'not a type' } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(['type']);
    });
  });
});

describe('a retry asked for before the worker has run', () => {
  let h: ApiHarness;
  afterEach(() => h.close());

  it('answers 409 for a pending delivery, and queues a failed one once however often it is asked', async () => {
    h = await startApiHarness({ worker: false });
    const t = await createTenant(h, 'Acme');
    await createEndpoint(h, t, 'http://127.0.0.1:9/');
    const [one, two] = await Promise.all([publish(h, t, 'custom.order.paid'), publish(h, t, 'custom.order.refunded')]);
    const pending = one.deliveries[0]!.id;
    expect((await h.call('POST', `${t.base}/deliveries/${pending}/retry`, { key: t.key })).status).toBe(409);

    const failed = two.deliveries[0]!.id;
    await h.deps.store.deliveries.patch((await h.deps.store.deliveries.get(failed))!, { state: 'failed', failureReason: 'HTTP 500' });
    const answers = await Promise.all([1, 2, 3].map(() => h.call('POST', `${t.base}/deliveries/${failed}/retry`, { key: t.key })));
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409, 409]);
    // Queued once more, as a person's retry: the original place (never run here) is superseded.
    const live = (await h.deps.store.lanes.liveFor(two.deliveries[0]!.endpointId)).filter((e) => e.deliveryId === failed);
    expect(live).toEqual([expect.objectContaining({ manual: true, ticket: 2 })]);
  });
});
