import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { AdmittedJobData, DeliveryJobData } from '@hookrelay/contracts';
import { buildEndpoint, buildEvent, TestReceiver, waitForDrain, waitUntil } from '@hookrelay/testing';
import { startEngineHarness, type EngineHarness } from '../engine-harness';

/** Counts a metric's value in the registry (0 when absent). */
async function metric(h: EngineHarness, name: string, labels: Record<string, string> = {}): Promise<number> {
  const found = (await h.metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = found?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
  return Number(value?.value ?? 0);
}

/** A receiver on [::]:port (IPv4 and IPv6) that accepts connections and never answers. */
async function startHangingServer(): Promise<{ port: number; open: () => number; opened: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let opened = 0;
  const server: Server = createServer((socket) => {
    opened++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '::', ipv6Only: false }, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    open: () => sockets.size,
    opened: () => opened,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('the scheduler in the worker', () => {
  let h: EngineHarness;
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    // Receivers first: a hanging one closing ends the attempts the worker's shutdown would wait for.
    for (const close of closers.splice(0)) await close();
    await h?.close();
  });

  describe('when preparing an attempt throws (a payload the Zenduty serializer cannot take)', () => {
    it('records an attempt of kind internal, logs it at error with the delivery id, counts it, and retries by the policy until failed', async () => {
      h = await startEngineHarness();
      const receiver = await TestReceiver.start();
      closers.push(() => receiver.close());
      const endpoint = await h.saveEndpoint(
        buildEndpoint({
          url: receiver.url,
          signature: { scheme: 'x-signature' },
          retry: { maxRetries: 2, intervalMs: 10, backoff: 'fixed' },
        }),
      );
      // Nested far deeper than any stack: stored as text, it only fails when re-serialized for signing.
      const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
      const id = await h.enqueue(buildEvent({ type: 'custom.deep', payload: deep }), endpoint);

      const ended = await h.waitForState(id, ['failed', 'delivered']);
      expect(ended).toMatchObject({ state: 'failed', attempts: 3, lastErrorKind: 'internal' });
      const attempts = await h.store.deliveries.attempts(id);
      expect(attempts.map((a) => [a.outcome, a.errorKind])).toEqual([
        ['retry', 'internal'],
        ['retry', 'internal'],
        ['failed', 'internal'],
      ]);
      expect(attempts[0]!.errorMessage).toMatch(/^RangeError: /);
      expect(attempts[0]!.errorMessage!.length).toBeLessThanOrEqual(200);
      expect(receiver.requests).toHaveLength(0);
      const errors = h.logLines.filter((l) => l.msg === 'delivery.internal_error');
      expect(errors).toHaveLength(3);
      expect(errors.every((l) => l.level === 'error' && l.deliveryId === id)).toBe(true);
      expect(await metric(h, 'hookrelay_delivery_internal_errors_total', { stage: 'attempt' })).toBe(3);
      expect(h.logLines.filter((l) => l.msg === 'delivery.job_failed')).toEqual([]);
    });
  });

  it("makes no attempt for a job whose ticket is no longer its delivery's", async () => {
    h = await startEngineHarness();
    const receiver = await TestReceiver.start();
    closers.push(() => receiver.close());
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url }));
    const event = buildEvent();
    const id = await h.enqueue(event, endpoint);
    await h.waitForState(id, ['delivered']);
    // A job of an old ticket, as BullMQ would hand one out again after a crash.
    await h.queue.add(
      'deliver',
      { endpointId: endpoint.id, deliveries: [{ id, eventId: event.id, ticket: 1 }] } satisfies DeliveryJobData,
      { jobId: `${id}-1-again` },
    );
    await waitForDrain(h.worker);
    expect(receiver.requests).toHaveLength(1);
    expect(await h.store.deliveries.attempts(id)).toHaveLength(1);
  });

  it('takes over a delivery queued by a version before the scheduler (a job with no ticket) and delivers it once', async () => {
    h = await startEngineHarness();
    const receiver = await TestReceiver.start();
    closers.push(() => receiver.close());
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url }));
    const event = buildEvent();
    const [[created] = []] = await h.store.deliveries.createForEvents([{ event, endpoints: [endpoint] }], { schedule: false });
    // The job exactly as the earlier version added it: id = delivery id, data without a ticket.
    await h.queue.add('deliver', { eventId: event.id, endpointId: endpoint.id }, { jobId: created!.id });
    expect(await h.store.deliveries.get(created!.id)).toMatchObject({ state: 'pending' });

    const done = await h.waitForState(created!.id, ['delivered']);
    expect(done.attempts).toBe(1);
    await waitForDrain(h.worker);
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.headers['x-hookrelay-delivery-id']).toBe(created!.id);
  });

  it('caps attempts to one receiver address whatever its spelling, parks the rest without holding slots, and keeps other receivers flowing', async () => {
    // concurrency 20: each endpoint may hold 5, one address 5 per worker.
    h = await startEngineHarness({ concurrency: 20, scheduling: { parkMs: 60_000 } });
    const hanging = await startHangingServer();
    closers.push(() => hanging.close());
    const healthy = await TestReceiver.start();
    closers.push(() => healthy.close());
    const spellings = [`http://127.0.0.1:${hanging.port}/a`, `http://localhost:${hanging.port}/b`, `http://[::1]:${hanging.port}/c`];
    const hangers = await Promise.all(
      spellings.map((url) => h.saveEndpoint(buildEndpoint({ subscriberId: 'sub_hostile', url, timeoutMs: 60_000 }))),
    );
    for (const ep of hangers) for (let i = 0; i < 10; i++) await h.enqueue(buildEvent({ subscriberId: 'sub_hostile' }), ep);

    await waitUntil(() => hanging.open() >= 5, 'the hanging address to hold its 5 slots');
    await waitUntil(
      async () => (await metric(h, 'hookrelay_deliveries_parked_total', { reason: 'address' })) >= 2,
      'the other spellings to be parked',
    );
    const healthyEp = await h.saveEndpoint(buildEndpoint({ subscriberId: 'sub_victim', url: healthy.url }));
    const ids = [];
    for (let i = 0; i < 30; i++) ids.push(await h.enqueue(buildEvent({ subscriberId: 'sub_victim' }), healthyEp));
    await healthy.waitForRequests(30, 5000);
    // Parked endpoints sleep (nothing cycles), and the address never held more than its share.
    expect(hanging.opened()).toBe(5);
    const sample = await h.store.lanes.sample();
    expect(sample.sleeping).toBeGreaterThanOrEqual(2);
    expect(sample.ready).toBe(25);
  });

  it("keeps an endpoint's deliveries in their order when its receiver's address parks them", async () => {
    // concurrency 20: one address 5 per worker; the endpoint may hold all 20, so 15 of each turn park.
    h = await startEngineHarness({ concurrency: 20, scheduling: { endpointShare: 1, subscriberShare: 1 } });
    const receiver = await TestReceiver.start({ status: 200, delayMs: 50 });
    closers.push(() => receiver.close());
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url }));
    const events = Array.from({ length: 20 }, () => buildEvent());
    await h.store.deliveries.createForEvents(events.map((event) => ({ event, endpoints: [endpoint] })));
    await receiver.waitForRequests(20);
    expect(await metric(h, 'hookrelay_deliveries_parked_total', { reason: 'address' })).toBeGreaterThan(0);
    // Five at a time: each five are the next five published (in any order among themselves).
    const order = receiver.requests.map((r) => events.findIndex((e) => e.id === r.headers['x-hookrelay-event-id']));
    for (let i = 0; i < 20; i += 5) expect(order.slice(i, i + 5).sort((a, b) => a - b)).toEqual([i, i + 1, i + 2, i + 3, i + 4]);
  });

  it('parks deliveries whose rate limit puts their turn far away instead of holding slots for them, and sends them in their turn', async () => {
    // concurrency 20: one address may hold 5 per worker.
    h = await startEngineHarness({ concurrency: 20 });
    const receiver = await TestReceiver.start();
    closers.push(() => receiver.close());
    const limited = await h.saveEndpoint(
      buildEndpoint({ subscriberId: 'sub_paced', url: `${receiver.url}/paced`, rateLimit: { perSecond: 100 } }),
    );
    // The limit lowered after admission, as PATCH to 0.01/s does: the next send a minute away.
    await h.redis.hset(h.store.keys.laneEndpoint(limited.id), 'sent', Date.now() + 60_000);
    const paced = [];
    for (let i = 0; i < 8; i++) paced.push(await h.enqueue(buildEvent({ subscriberId: 'sub_paced' }), limited));
    await waitUntil(
      async () => (await metric(h, 'hookrelay_deliveries_parked_total', { reason: 'rate_limit' })) >= 1,
      'a paced delivery to be parked',
    );
    // Another subscriber's endpoint on the same receiver address is not held up: had the paced
    // deliveries waited in their slots, they would hold all 5 of the address's.
    const victim = await h.saveEndpoint(buildEndpoint({ subscriberId: 'sub_victim', url: `${receiver.url}/victim` }));
    const started = Date.now();
    for (let i = 0; i < 10; i++) await h.enqueue(buildEvent({ subscriberId: 'sub_victim' }), victim);
    await receiver.waitForRequests(10, 5000);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(receiver.requests.filter((r) => r.url === '/paced')).toHaveLength(0);
    for (const id of paced) expect(await h.store.deliveries.get(id)).toMatchObject({ state: 'pending', attempts: 0 });
    // Parked, not dropped: the limit raised again (as PATCH does) wakes the endpoint, rather than
    // leave it asleep for the minute its old limit said.
    await h.saveEndpoint({ ...limited, rateLimit: { perSecond: 1000 } });
    for (const id of paced) await h.waitForState(id, ['delivered']);
    expect(receiver.requests.filter((r) => r.url === '/paced')).toHaveLength(8);
  });

  it("ends a rate-limited endpoint's deliveries that outlived the retention period without waiting a turn of the rate for each", async () => {
    // Retention 300 ms, 0.5/s: each delivery ended at the rate took 2 s, so 11 expired ones took 22 s of scheduler memory.
    h = await startEngineHarness({ retentionMs: 300 });
    const receiver = await TestReceiver.start();
    closers.push(() => receiver.close());
    const limited = await h.saveEndpoint(buildEndpoint({ subscriberId: 'sub_backlog', url: receiver.url, rateLimit: { perSecond: 0.5 } }));
    for (let i = 0; i < 12; i++) await h.enqueue(buildEvent({ subscriberId: 'sub_backlog' }), limited);
    await receiver.waitForRequests(1);
    // The next turn of the rate is 2 s away, past every other event's expiry: all end then, at once.
    await waitUntil(async () => (await h.redis.hlen(`${h.store.keys.sched()}:d`)) === 0, 'the backlog to leave the scheduler', 6000);
    expect(await h.store.lanes.readyCount()).toBe(0);
    expect(receiver.requests).toHaveLength(1);
  });

  it('moves an endpoint whose attempts are slow to the slow lane and back once they are prompt, logging and counting each move', async () => {
    h = await startEngineHarness({ scheduling: { slowAttemptMs: 100, slowAfter: 2, fastAfter: 3 } });
    const receiver = await TestReceiver.start({ status: 200, delayMs: 150 });
    closers.push(() => receiver.close());
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, retry: { maxRetries: 0, intervalMs: 10, backoff: 'fixed' } }));
    const bySlowLane: string[] = [];
    const byLane: Record<string, string[]> = { fast: [], slow: [] };
    for (const lane of ['fast', 'slow'] as const) {
      h.worker.workers[lane].on('completed', (job) => {
        const ids = (job.data as AdmittedJobData).deliveries.map((d) => d.id);
        byLane[lane]!.push(...ids);
        if (lane === 'slow') bySlowLane.push(String(job.id));
      });
    }

    await h.waitForState(await h.enqueue(buildEvent(), endpoint), ['delivered']);
    await h.waitForState(await h.enqueue(buildEvent(), endpoint), ['delivered']);
    // The worker logs the move once its attempt's write answers; the poll above may read the
    // delivered record (on another connection) a moment before that answer is handled.
    const laneMoves = () => h.logLines.filter((l) => l.msg === 'endpoint.lane_changed');
    await waitUntil(() => laneMoves().length >= 1, 'the move to the slow lane to be logged');
    const toSlow = laneMoves();
    expect(toSlow).toEqual([
      expect.objectContaining({ level: 'warn', endpointId: endpoint.id, subscriberId: endpoint.subscriberId, lane: 'slow' }),
    ]);
    expect(await metric(h, 'hookrelay_endpoint_lane_changes_total', { lane: 'slow' })).toBe(1);

    receiver.answerWith({ status: 200 });
    for (let i = 0; i < 3; i++) await h.waitForState(await h.enqueue(buildEvent(), endpoint), ['delivered']);
    await waitUntil(() => laneMoves().length >= 2 && bySlowLane.length >= 3, 'the move back to the fast lane to be logged');
    expect(bySlowLane).toHaveLength(3);
    const moves = laneMoves().map((l) => [l.lane, l.level]);
    expect(moves).toEqual([
      ['slow', 'warn'],
      ['fast', 'info'],
    ]);
    expect(await metric(h, 'hookrelay_endpoint_lane_changes_total', { lane: 'fast' })).toBe(1);
    const last = await h.enqueue(buildEvent(), endpoint);
    await h.waitForState(last, ['delivered']);
    await waitUntil(() => byLane.fast!.includes(last) || byLane.slow!.includes(last), "the last delivery's job to complete");
    expect(byLane.fast).toContain(last);
    expect(bySlowLane).toHaveLength(3);
  });
});

describe('jobs', () => {
  let h: EngineHarness;
  afterEach(async () => {
    await h?.close();
  });

  it("carry one endpoint's turn of deliveries, while deliveries in flight stay within the lane's concurrency", async () => {
    h = await startEngineHarness({ concurrency: 4, scheduling: { endpointShare: 1, subscriberShare: 1, addressShare: 1 } });
    let inFlight = 0;
    let most = 0;
    const receiver = await TestReceiver.start(async (_req, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 30));
      inFlight--;
      res.writeHead(200).end();
    });
    try {
      const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url }));
      const jobs: string[] = [];
      h.worker.workers.fast.on('completed', (job) => jobs.push(String(job.id)));
      const events = Array.from({ length: 40 }, () => buildEvent());
      await h.store.deliveries.createForEvents(events.map((event) => ({ event, endpoints: [endpoint] })));
      await receiver.waitForRequests(40);
      await waitForDrain(h.worker);
      expect(receiver.requests).toHaveLength(40);
      expect(new Set(receiver.requests.map((r) => r.headers['x-hookrelay-event-id'])).size).toBe(40);
      // Several deliveries a job (one admission turn takes up to 10 of an endpoint's), never more
      // than the lane's 4 sending at once.
      expect(jobs.length).toBeLessThan(40);
      expect(most).toBeLessThanOrEqual(4);
    } finally {
      await receiver.close();
    }
  });
});
