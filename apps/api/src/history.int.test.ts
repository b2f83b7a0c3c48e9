import { verifyHubSignature } from '@hookrelay/signing';
import { type ApiHarness, useApiHarness } from './api-harness';
import {
  createEndpoint,
  getDelivery,
  publish,
  sleep,
  waitFor,
  waitForDelivery,
  type Published,
  type Tenant,
  useTenant,
  useReceiverPool,
} from './history-test-kit';

/** Every page of a listing, following nextCursor; fails on a cursor loop. */
async function allPages(
  h: ApiHarness,
  t: Tenant,
  path: string,
  query: string,
  limit: number,
): Promise<Array<{ id: string; createdAt: number }>> {
  const seen: Array<{ id: string; createdAt: number }> = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const res = await h.call('GET', `${t.base}/${path}?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, { key: t.key });
    expect(res.status).toBe(200);
    expect(res.body.data.length).toBeLessThanOrEqual(limit);
    seen.push(...res.body.data);
    cursor = res.body.nextCursor;
    if (!cursor) return seen;
  }
  throw new Error('more than 100 pages: the cursor does not advance');
}

function ids(items: Array<{ id: string }>): string[] {
  return items.map((d) => d.id);
}

describe('delivery and event history', () => {
  const h = useApiHarness();
  const t = useTenant(h, 'Acme');
  const receivers = useReceiverPool();

  async function list(query: string): Promise<any[]> {
    const res = await h.call('GET', `${t.base}/deliveries?limit=100&${query}`, { key: t.key });
    expect(res.status).toBe(200);
    return res.body.data;
  }

  describe('GET /deliveries', () => {
    it('lists newest first and filters by endpoint, exact and pattern event type, status and time window', async () => {
      const ok = await receivers.start({ status: 200 });
      const failing = await receivers.start({ status: 500 });
      const a = await createEndpoint(h, t, ok.url);
      const b = await createEndpoint(h, t, failing.url);
      const published: Published[] = [];
      for (const type of ['custom.order.paid', 'custom.order.refunded', 'custom.user.created']) {
        published.push(await publish(h, t, type, { n: published.length }));
        await sleep(5); // distinct milliseconds, so the window filters have edges to find
      }
      await ok.waitForRequests(3);
      await failing.waitForRequests(3);
      const all = await waitFor(
        () => list(''),
        (d) => d.filter((x) => x.state === 'failed').length === 3 && d.filter((x) => x.state === 'delivered').length === 3,
        'all six deliveries to end',
      );

      expect(all).toHaveLength(6);
      const created = all.map((d) => d.createdAt);
      expect(created).toEqual([...created].sort((x, y) => y - x));
      expect(all.slice(0, 2).map((d) => d.eventId)).toEqual([published[2]!.id, published[2]!.id]);
      expect(all.slice(4).map((d) => d.eventId)).toEqual([published[0]!.id, published[0]!.id]);

      expect((await list(`endpointId=${a.id}`)).map((d) => [d.endpointId, d.eventType])).toEqual([
        [a.id, 'custom.user.created'],
        [a.id, 'custom.order.refunded'],
        [a.id, 'custom.order.paid'],
      ]);
      expect((await list('eventType=custom.order.paid')).map((d) => d.eventId)).toEqual([published[0]!.id, published[0]!.id]);
      expect(new Set((await list('eventType=custom.order.*')).map((d) => d.eventType))).toEqual(
        new Set(['custom.order.paid', 'custom.order.refunded']),
      );
      expect(await list('eventType=custom.order.*')).toHaveLength(4);
      expect((await list('status=failed')).every((d) => d.endpointId === b.id && d.state === 'failed')).toBe(true);
      expect(await list('status=failed')).toHaveLength(3);
      expect(await list(`status=delivered&endpointId=${b.id}`)).toEqual([]);

      const middle = all.find((d) => d.eventId === published[1]!.id)!.createdAt;
      expect(new Set((await list(`since=${middle}`)).map((d) => d.eventId))).toEqual(new Set([published[1]!.id, published[2]!.id]));
      expect(new Set((await list(`until=${middle}`)).map((d) => d.eventId))).toEqual(new Set([published[0]!.id, published[1]!.id]));
      const iso = encodeURIComponent(new Date(middle).toISOString());
      expect((await list(`since=${iso}&until=${iso}`)).map((d) => d.eventId)).toEqual([published[1]!.id, published[1]!.id]);
      expect(await list(`since=${middle + 1}&until=${middle + 1}`)).toEqual([]);
    });

    it('pages through every delivery once, newest first, when a batch gives many the same millisecond', async () => {
      const receiver = await receivers.start({ status: 200 });
      await createEndpoint(h, t, receiver.url);
      const before = await publish(h, t, 'custom.order.paid', { n: 'before' });
      await sleep(3);
      const batch = await h.call('POST', `${t.base}/events/batch`, {
        key: t.key,
        body: {
          events: Array.from({ length: 37 }, (_, i) => ({ type: i % 2 ? 'custom.order.paid' : 'custom.user.created', payload: { i } })),
        },
      });
      expect(batch.status).toBe(202);
      await sleep(3);
      const after = await publish(h, t, 'custom.order.paid', { n: 'after' });
      const everything = await list('');
      expect(everything).toHaveLength(39);
      // The batch really shares one millisecond: the case a score-only cursor gets wrong.
      expect(new Set(everything.slice(1, 38).map((d) => d.createdAt)).size).toBe(1);
      expect(everything[0].eventId).toBe(after.id);
      expect(everything[38].eventId).toBe(before.id);

      for (const limit of [1, 4, 10]) {
        const paged = await allPages(h, t, 'deliveries', '', limit);
        expect(ids(paged)).toEqual(ids(everything));
      }
      // With a filter the pages skip what does not match, still without repeats or gaps.
      const paid = await allPages(h, t, 'deliveries', 'eventType=custom.order.paid', 3);
      expect(ids(paid)).toEqual(ids(everything.filter((d) => d.eventType === 'custom.order.paid')));
      expect(paid).toHaveLength(20);
      // A cursor from one page stays good while new deliveries arrive above it.
      const first = await h.call('GET', `${t.base}/deliveries?limit=5`, { key: t.key });
      await publish(h, t, 'custom.order.paid', { n: 'newer' });
      const second = await h.call('GET', `${t.base}/deliveries?limit=5&cursor=${first.body.nextCursor}`, { key: t.key });
      expect(ids(second.body.data)).toEqual(ids(everything.slice(5, 10)));
    });

    it.each([
      ['status=sent', 'query.status'],
      ['since=yesterday', 'query.since'],
      ['until=2026-13-45', 'query.until'],
      ['limit=0', 'query.limit'],
      ['limit=101', 'query.limit'],
      ['since=-5', 'query.since'],
      // What a client sends when it pastes a null nextCursor: restarting at page 1 would loop it forever.
      ['cursor=null', 'query.cursor'],
      ['cursor=bm90LWEtY3Vyc29y', 'query.cursor'],
    ])('answers 400 naming the parameter for %s', async (query, path) => {
      const res = await h.call('GET', `${t.base}/deliveries?${query}`, { key: t.key });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    });

    it('answers 400 naming an unknown query parameter', async () => {
      const res = await h.call('GET', `${t.base}/deliveries?state=failed`, { key: t.key });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain('state');
    });
  });

  describe('GET /deliveries/:did', () => {
    it('shows every attempt with status, body preview and signed headers, credentials redacted and the token nowhere', async () => {
      const token = 'tok_secret_bearer_1f9e8d7c6b5a';
      const receiver = await receivers.start();
      receiver.enqueue({ status: 500, body: 'upstream down' }, { status: 200, body: 'é'.repeat(3000) });
      const ep = await createEndpoint(h, t, receiver.url, { auth: { type: 'bearer', token }, retry: { maxRetries: 1, intervalMs: 20 } });
      const secret = (await h.call('GET', `${t.base}/endpoints/${ep.id}/secret`, { key: t.key })).body.secret as string;
      const event = await publish(h, t, 'custom.order.paid', { orderId: 7 });
      const did = event.deliveries[0]!.id;
      const started = Date.now();
      const res = await waitForDelivery(h, t, did, 'delivered', 2);

      const requests = await receiver.waitForRequests(2);
      expect(requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${token}`, `Bearer ${token}`]);
      expect(res).toMatchObject({
        id: did,
        eventId: event.id,
        eventType: 'custom.order.paid',
        endpointId: ep.id,
        state: 'delivered',
        nextAttemptAt: null,
      });
      expect(res.endpoint).toEqual({ id: ep.id, url: `${receiver.url}/`, status: 'active' });
      expect(res.attempts).toHaveLength(2);
      expect(res.attemptCount).toBe(2);
      const [first, second] = res.attempts;
      expect(first).toMatchObject({ attempt: 1, statusCode: 500, outcome: 'retry', responseBody: 'upstream down' });
      expect(second).toMatchObject({ attempt: 2, statusCode: 200, outcome: 'delivered' });
      // 3000 two-byte characters: the stored preview is the first 4096 bytes.
      expect(Buffer.byteLength(second.responseBody)).toBe(4096);
      for (const [i, attempt] of res.attempts.entries()) {
        expect(attempt.startedAt).toBeGreaterThanOrEqual(started - 5000);
        expect(attempt.startedAt).toBeLessThanOrEqual(Date.now());
        expect(typeof attempt.durationMs).toBe('number');
        expect(attempt.requestHeaders.authorization).toBe('[redacted]');
        expect(attempt.requestHeaders['x-hookrelay-attempt']).toBe(String(i + 1));
        expect(attempt.requestHeaders['x-hookrelay-delivery-id']).toBe(did);
        const body = requests[i]!.body;
        expect(verifyHubSignature({ secret, body, header: attempt.requestHeaders['x-hub-signature'] })).toBe(true);
      }
      expect(JSON.stringify(res)).not.toContain(token);
      expect(JSON.stringify((await h.call('GET', `${t.base}/deliveries`, { key: t.key })).body)).not.toContain(token);
    });

    it('redacts an API key in whatever header it travels', async () => {
      const receiver = await receivers.start({ status: 204 });
      const value = 'k3y-partner-0a1b2c3d4e5f';
      const ep = await createEndpoint(h, t, receiver.url, { auth: { type: 'api-key', header: 'X-Partner-Key', value } });
      const event = await publish(h, t, 'custom.order.paid', { orderId: 8 });
      const res = await waitForDelivery(h, t, event.deliveries[0]!.id, 'delivered');
      const [req] = await receiver.waitForRequests(1);
      expect(req!.headers['x-partner-key']).toBe(value);
      expect(res.endpointId).toBe(ep.id);
      expect(res.attempts[0].requestHeaders['x-partner-key']).toBe('[redacted]');
      expect(res.attempts[0].requestHeaders['x-hub-signature']).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(res)).not.toContain(value);
    });

    it('names the error kind of an attempt that got no response: connection_refused and timeout', async () => {
      const closed = await receivers.start();
      const refusedUrl = closed.url;
      await closed.close();
      const slow = await receivers.start({ status: 200, delayMs: 900 });
      const refused = await createEndpoint(h, t, refusedUrl, { eventTypes: ['custom.a.*'] });
      const timesOut = await createEndpoint(h, t, slow.url, { eventTypes: ['custom.b.*'], timeoutMs: 200 });
      const a = await publish(h, t, 'custom.a.x');
      const b = await publish(h, t, 'custom.b.x');
      const ra = await waitForDelivery(h, t, a.deliveries[0]!.id, 'failed');
      const rb = await waitForDelivery(h, t, b.deliveries[0]!.id, 'failed');
      expect([ra.endpointId, rb.endpointId]).toEqual([refused.id, timesOut.id]);
      expect(ra.attempts[0]).toMatchObject({ attempt: 1, errorKind: 'connection_refused', outcome: 'failed' });
      expect(ra.attempts[0].statusCode).toBeUndefined();
      expect(rb.attempts[0]).toMatchObject({ attempt: 1, errorKind: 'timeout', outcome: 'failed' });
      expect(rb.attempts[0].durationMs).toBeGreaterThanOrEqual(150);
      expect(rb.attempts[0].durationMs).toBeLessThan(850);
      expect(ra.lastErrorKind).toBe('connection_refused');
    });

    it('shows when a retrying delivery is next attempted', async () => {
      const receiver = await receivers.start({ status: 503 });
      await createEndpoint(h, t, receiver.url, { retry: { maxRetries: 3, intervalMs: 60_000 } });
      const event = await publish(h, t, 'custom.order.paid');
      const res = await waitForDelivery(h, t, event.deliveries[0]!.id, 'retrying');
      expect(res.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: 503, outcome: 'retry' })]);
      const wait = res.nextAttemptAt - res.attempts[0].startedAt;
      expect(wait).toBeGreaterThanOrEqual(59_000);
      expect(wait).toBeLessThanOrEqual(61_000);
    });

    it('answers 404 for a delivery that does not exist', async () => {
      const res = await h.call('GET', `${t.base}/deliveries/dlv_00000000000000000000000000000000`, { key: t.key });
      expect(res.status).toBe(404);
    });
  });

  describe('events', () => {
    it('lists events newest first, by exact type, pattern and time, across pages', async () => {
      const published: Published[] = [];
      for (const type of ['custom.order.paid', 'custom.order.refunded', 'custom.user.created', 'custom.order.paid']) {
        published.push(await publish(h, t, type, { n: published.length }));
        await sleep(3);
      }
      const newestFirst = [...published].reverse().map((e) => e.id);
      expect(ids(await allPages(h, t, 'events', '', 100))).toEqual(newestFirst);
      expect(ids(await allPages(h, t, 'events', '', 1))).toEqual(newestFirst);
      expect(ids(await allPages(h, t, 'events', 'type=custom.order.paid', 1))).toEqual([published[3]!.id, published[0]!.id]);
      expect(ids(await allPages(h, t, 'events', 'type=custom.order.*', 2))).toEqual([published[3]!.id, published[1]!.id, published[0]!.id]);
      const res = await h.call('GET', `${t.base}/events?limit=100`, { key: t.key });
      const second = res.body.data.find((e: { id: string }) => e.id === published[1]!.id);
      expect(second).toEqual({ id: published[1]!.id, type: 'custom.order.refunded', createdAt: expect.any(Number) });
      expect(
        ids(await allPages(h, t, 'events', `since=${second.createdAt}&until=${new Date(second.createdAt).toISOString()}`, 10)),
      ).toEqual([published[1]!.id]);
      for (const [query, path] of [
        ['until=soon', 'query.until'],
        ['cursor=null', 'query.cursor'],
      ]) {
        const bad = await h.call('GET', `${t.base}/events?${query}`, { key: t.key });
        expect(bad.status).toBe(400);
        expect(bad.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
      }
    });

    it('shows an event with its payload and every delivery', async () => {
      const ok = await receivers.start({ status: 200 });
      const failing = await receivers.start({ status: 400 });
      const a = await createEndpoint(h, t, ok.url);
      const b = await createEndpoint(h, t, failing.url);
      await createEndpoint(h, t, ok.url, { eventTypes: ['custom.user.*'] });
      const payload = { orderId: 'ord_9', lines: [{ sku: 'A', qty: 2 }], note: 'é' };
      const event = await publish(h, t, 'custom.order.paid', payload);
      await waitForDelivery(h, t, event.deliveries.find((d) => d.endpointId === b.id)!.id, 'failed');
      await waitForDelivery(h, t, event.deliveries.find((d) => d.endpointId === a.id)!.id, 'delivered');
      const res = await h.call('GET', `${t.base}/events/${event.id}`, { key: t.key });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: event.id, type: 'custom.order.paid', createdAt: expect.any(Number), payload });
      const byEndpoint = Object.fromEntries(res.body.deliveries.map((d: any) => [d.endpointId, d]));
      expect(Object.keys(byEndpoint).sort()).toEqual([a.id, b.id].sort());
      expect(byEndpoint[a.id]).toMatchObject({ state: 'delivered', attempts: 1, lastStatusCode: 200 });
      expect(byEndpoint[b.id]).toMatchObject({ state: 'failed', attempts: 1, lastStatusCode: 400, failureReason: 'HTTP 400' });
      expect((await h.call('GET', `${t.base}/events/evt_nope`, { key: t.key })).status).toBe(404);
      expect((await getDelivery(h, t, byEndpoint[b.id].id)).attempts).toHaveLength(1);
    });

    it("counts each listed event's deliveries by state with include=outcomes", async () => {
      const ok = await receivers.start({ status: 200 });
      const failing = await receivers.start({ status: 400 });
      const a = await createEndpoint(h, t, ok.url);
      const b = await createEndpoint(h, t, failing.url, { eventTypes: ['custom.order.*'] });
      const order = await publish(h, t, 'custom.order.paid', {});
      const user = await publish(h, t, 'custom.user.created', {});
      await waitForDelivery(h, t, order.deliveries.find((d) => d.endpointId === b.id)!.id, 'failed');
      await waitForDelivery(h, t, order.deliveries.find((d) => d.endpointId === a.id)!.id, 'delivered');
      await waitForDelivery(h, t, user.deliveries[0]!.id, 'delivered');
      const res = await h.call('GET', `${t.base}/events?include=outcomes`, { key: t.key });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual([
        {
          id: user.id,
          type: 'custom.user.created',
          createdAt: expect.any(Number),
          outcomes: { pending: 0, retrying: 0, delivered: 1, failed: 0 },
        },
        {
          id: order.id,
          type: 'custom.order.paid',
          createdAt: expect.any(Number),
          outcomes: { pending: 0, retrying: 0, delivered: 1, failed: 1 },
        },
      ]);
      const plain = await h.call('GET', `${t.base}/events`, { key: t.key });
      expect(plain.body.data[0]).not.toHaveProperty('outcomes');
      for (const [query, path] of [
        ['include=attempts', 'query.include'],
        ['include=outcomes&limit=51', 'query.limit'],
      ]) {
        const bad = await h.call('GET', `${t.base}/events?${query}`, { key: t.key });
        expect(bad.status).toBe(400);
        expect(bad.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
      }
    });
  });
});
