import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { AdmittedJobData, DeliveryJobData } from '@hookrelay/contracts';
import { buildEndpoint, buildEvent, TestReceiver, waitForDrain, waitUntil } from '@hookrelay/testing';
import { startEngineHarness, type EngineHarness } from '../engine-harness';
import type { DeliveryWorker } from '../worker';

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

  describe('admitting ahead of the shares (admitAhead)', () => {
    /** Requests held at once by a set of receivers, all together: the most, and how many each found on arrival. */
    class Tally {
      open = 0;
      most = 0;
      readonly onArrival: number[] = [];
    }

    /** A receiver that answers after `delayMs`, counting the requests it holds at once (and in `shared`, with others). */
    async function countingReceiver(delayMs: number, shared = new Tally()) {
      const own = new Tally();
      const receiver = await TestReceiver.start(async (_req, res) => {
        for (const t of new Set([own, shared])) {
          t.most = Math.max(t.most, ++t.open);
          t.onArrival.push(t.open);
        }
        await new Promise((r) => setTimeout(r, delayMs));
        for (const t of new Set([own, shared])) t.open--;
        res.writeHead(200).end();
      });
      closers.push(() => receiver.close());
      return { receiver, own };
    }

    /** The most deliveries `key` held (admitted and not ended) while `during` ran, polled every 5 ms. */
    async function mostHeldDuring(key: string, during: () => Promise<void>): Promise<number> {
      let most = 0;
      const watching = setInterval(() => void h.redis.zcard(key).then((n) => (most = Math.max(most, n))), 5);
      try {
        await during();
      } finally {
        clearInterval(watching);
      }
      return most;
    }

    /** The deliveries each completed job carried, in both lanes of each worker given. */
    function jobSizes(workers: DeliveryWorker[]): number[] {
      const sizes: number[] = [];
      for (const w of workers)
        for (const lane of ['fast', 'slow'] as const)
          w.workers[lane].on('completed', (job) => sizes.push((job.data as AdmittedJobData).deliveries.length));
      return sizes;
    }

    it('admits a busy endpoint up to four times its share in one job, with no more than its share in attempts at once across two workers', async () => {
      // concurrency 20: an endpoint's share is 5; a run of its turns may take 20.
      h = await startEngineHarness({ concurrency: 20 });
      const sizes = jobSizes([h.worker, await h.addWorker()]);
      const { receiver, own } = await countingReceiver(40);
      const endpoint = await h.saveEndpoint(buildEndpoint({ subscriberId: 'sub_busy', url: `${receiver.url}/busy` }));
      const most = await mostHeldDuring(`${h.store.keys.sched()}:held:e:${endpoint.id}`, async () => {
        // In six publishes, each while the one before is in attempts: each runs admission again.
        for (let i = 0; i < 6; i++) {
          const events = Array.from({ length: 10 }, () => buildEvent({ subscriberId: 'sub_busy' }));
          await h.store.deliveries.createForEvents(events.map((event) => ({ event, endpoints: [endpoint] })));
          await receiver.waitForRequests(i * 10 + 3);
        }
        await receiver.waitForRequests(60);
      });
      expect(new Set(receiver.requests.map((r) => r.headers['x-hookrelay-event-id'])).size).toBe(60);
      expect(most).toBeGreaterThan(5);
      expect(most).toBeLessThanOrEqual(20);
      expect(Math.max(...sizes)).toBeGreaterThan(5);
      // Whichever worker took which job, the receiver never held more than the endpoint's share.
      expect(own.most).toBe(5);
    });

    it("keeps a subscriber's endpoints within its share in attempts at once across two workers while one of them runs ahead", async () => {
      // concurrency 20: an endpoint's share is 5, a subscriber's 8.
      h = await startEngineHarness({ concurrency: 20 });
      await h.addWorker();
      const subscriberWide = new Tally();
      const receivers = [
        await countingReceiver(40, subscriberWide),
        await countingReceiver(40, subscriberWide),
        await countingReceiver(40, subscriberWide),
      ];
      const endpoints = await Promise.all(
        receivers.map(({ receiver }) => h.saveEndpoint(buildEndpoint({ subscriberId: 'sub_busy', url: `${receiver.url}/busy` }))),
      );
      // The first endpoint's backlog first: its run is admitted before the others have any.
      const first = Array.from({ length: 30 }, () => buildEvent({ subscriberId: 'sub_busy' }));
      await h.store.deliveries.createForEvents(first.map((event) => ({ event, endpoints: [endpoints[0]!] })));
      const rest = Array.from({ length: 30 }, () => buildEvent({ subscriberId: 'sub_busy' }));
      await h.store.deliveries.createForEvents(rest.map((event) => ({ event, endpoints })));
      await receivers[0]!.receiver.waitForRequests(60);
      for (const { receiver } of receivers.slice(1)) await receiver.waitForRequests(30);
      for (const { own } of receivers) expect(own.most).toBeLessThanOrEqual(5);
      expect(subscriberWide.most).toBeLessThanOrEqual(8);
      expect(subscriberWide.most).toBeGreaterThanOrEqual(5);
    });

    it("gives another subscriber's endpoint parked on a shared receiver address its turns while a busy endpoint has more waiting in the worker", async () => {
      // concurrency 20: one address 5 per worker, an endpoint's share 5, a run up to 20.
      h = await startEngineHarness({ concurrency: 20 });
      const { receiver } = await countingReceiver(100);
      const busy = await h.saveEndpoint(buildEndpoint({ subscriberId: 'sub_busy', url: `${receiver.url}/busy` }));
      const other = await h.saveEndpoint(buildEndpoint({ subscriberId: 'sub_other', url: `${receiver.url}/other` }));
      const backlog = Array.from({ length: 80 }, () => buildEvent({ subscriberId: 'sub_busy' }));
      await h.store.deliveries.createForEvents(backlog.map((event) => ({ event, endpoints: [busy] })));
      await receiver.waitForRequests(5);
      for (let i = 0; i < 5; i++) await h.enqueue(buildEvent({ subscriberId: 'sub_other' }), other);
      await receiver.waitForRequests(85, 20_000);
      const arrivals = receiver.requests.map((r) => r.url);
      // Each of its deliveries gets a slot as one frees, in turn with the busy endpoint's, rather
      // than after the busy endpoint's run of 20 (and the runs after it) has gone out.
      const lastOther = arrivals.lastIndexOf('/other');
      expect(lastOther).toBeLessThan(5 + 5 + 5);
    });

    it('puts what it admitted ahead in the fast lane back in the lane once the endpoint moves to the slow one, so the fast lane sends no more of it', async () => {
      // Fast lane 20 (an endpoint's share 5, admitted up to 20); slow lane 8 (its share 2). One slow
      // attempt moves it, so that the first one recorded decides for the 15 waiting.
      h = await startEngineHarness({ concurrency: 20, slowLaneConcurrency: 8, scheduling: { slowAttemptMs: 100, slowAfter: 1 } });
      const { receiver, own } = await countingReceiver(150);
      const endpoint = await h.saveEndpoint(
        buildEndpoint({ url: `${receiver.url}/turning-slow`, retry: { maxRetries: 0, intervalMs: 10, backoff: 'fixed' } }),
      );
      const sentByLane = { fast: 0, slow: 0 };
      for (const lane of ['fast', 'slow'] as const) {
        h.worker.workers[lane].on('completed', (job) => {
          sentByLane[lane] += (job.data as AdmittedJobData).deliveries.length;
        });
      }
      const events = Array.from({ length: 20 }, () => buildEvent());
      const created = await h.store.deliveries.createForEvents(events.map((event) => ({ event, endpoints: [endpoint] })));
      const ids = created.flat().map((d) => d.id);
      for (const id of ids) await h.waitForState(id, ['delivered']);
      await waitForDrain(h.worker);
      expect(await metric(h, 'hookrelay_endpoint_lane_changes_total', { lane: 'slow' })).toBe(1);
      // The first 5 went in the fast lane and were slow; the 15 admitted ahead went back to the
      // lane, not out in the fast lane's slots: each was attempted once, in the slow lane's turn.
      expect(await metric(h, 'hookrelay_deliveries_parked_total', { reason: 'lane_moved' })).toBe(15);
      for (const id of ids) expect((await h.store.deliveries.get(id))?.attempts).toBe(1);
      expect(receiver.requests).toHaveLength(20);
      expect(own.most).toBe(5);
      // Attempts at once after the move: the slow lane's share (2), not the fast lane's (5).
      expect(Math.max(...own.onArrival.slice(5))).toBeLessThanOrEqual(2);
      expect(sentByLane.slow).toBe(15);
    });

    it('puts what it admitted ahead back in the lane when its worker shuts down, for another worker to send once', async () => {
      h = await startEngineHarness({ concurrency: 20 });
      const { receiver, own } = await countingReceiver(300);
      const endpoint = await h.saveEndpoint(buildEndpoint({ url: `${receiver.url}/closing` }));
      const events = Array.from({ length: 20 }, () => buildEvent());
      const ids = (await h.store.deliveries.createForEvents(events.map((event) => ({ event, endpoints: [endpoint] }))))
        .flat()
        .map((d) => d.id);
      await waitUntil(() => own.open === 5, "the endpoint's share to be in attempts");
      expect(await h.redis.zcard(`${h.store.keys.sched()}:held:e:${endpoint.id}`)).toBe(20);
      // The 15 waiting go back at once, without waiting for the 5 in attempts, which end.
      const closed = h.worker.close();
      await waitUntil(async () => (await h.store.lanes.readyCount()) === 15, 'the waiting deliveries to be back in their lane');
      expect(own.open).toBe(5);
      await closed;
      expect(receiver.requests).toHaveLength(5);
      expect(await h.store.lanes.readyCount()).toBe(15);
      expect(await h.redis.zcard(`${h.store.keys.sched()}:held:e:${endpoint.id}`)).toBe(0);
      await h.addWorker();
      for (const id of ids) expect(await h.waitForState(id, ['delivered'])).toMatchObject({ attempts: 1 });
      expect(new Set(receiver.requests.map((r) => r.headers['x-hookrelay-event-id'])).size).toBe(20);
      expect(receiver.requests).toHaveLength(20);
    });
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
