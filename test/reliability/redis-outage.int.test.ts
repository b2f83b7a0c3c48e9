import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startRedisServer, TestReceiver, type RedisServerHandle } from '@hookrelay/testing';
import { startReliabilityApi, type ReliabilityApi } from './support/reliability-api';
import { configSet, redisPid } from './support/redis-admin';
import { waitFor } from './support/wait';

/** Longest a refused publish may take while Redis is unreachable: a quick answer, not a hang. */
const QUICK_MS = 1000;

describe('when Redis goes away under a running API and worker', () => {
  let redis: RedisServerHandle;
  let api: ReliabilityApi;
  let receiver: TestReceiver;
  let sid: string;
  beforeEach(async () => {
    // `always`: each test kills Redis right after creating its subscriber and endpoint, and under
    // `everysec` a busy disk can postpone those writes past the kill (the endpoint was lost and
    // the retried event, accepted with no endpoint to go to, never arrived).
    redis = await startRedisServer({ appendOnly: true, appendFsync: 'always' });
    receiver = await TestReceiver.start({ status: 200 });
    api = await startReliabilityApi({
      redisUrl: redis.url,
      worker: { concurrency: 10, lockDurationMs: 2000, stalledIntervalMs: 1000 },
    });
    const sub = await api.call('POST', '/v1/subscribers', { body: { name: 'outage' } });
    sid = sub.body.id;
    const ep = await api.call('POST', `/v1/subscribers/${sid}/endpoints`, {
      body: { url: receiver.url, retry: { maxRetries: 5, intervalMs: 200, backoff: 'fixed' } },
    });
    expect(ep.status).toBe(201);
  });

  afterEach(async () => {
    await api.close();
    await receiver.close();
    await redis.stop();
  });

  const publish = (n: number) =>
    api.call('POST', `/v1/subscribers/${sid}/events`, { body: { type: 'custom.outage', payload: { n } }, timeoutMs: 10_000 });

  it('answers 503 quickly while Redis is dead, then recovers by itself and the worker delivers again', async () => {
    expect((await publish(0)).status).toBe(202);
    await receiver.waitForRequests(1);

    await redis.kill();
    const refused = [];
    for (let i = 1; i <= 5; i++) refused.push(await publish(i));
    const batch = await api.call('POST', `/v1/subscribers/${sid}/events/batch`, {
      body: { events: [{ type: 'custom.outage', payload: {} }] },
      timeoutMs: 10_000,
    });
    const ready = await api.call('GET', '/readyz', { key: null, timeoutMs: 10_000 });
    for (const res of [...refused, batch]) {
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ error: { code: 'unavailable', message: expect.any(String) } });
      expect(res.ms).toBeLessThan(QUICK_MS);
    }
    expect(ready.status).toBe(503);
    console.log(`redis-outage: publish while Redis is dead answered 503 in ${refused.map((r) => r.ms.toFixed(0)).join(', ')} ms`);

    await redis.restart();
    const restartedAt = Date.now();
    // The API reconnects on its own: no restart, no operator action.
    const accepted = await waitFor(
      'a publish to be accepted again',
      async () => {
        const res = await publish(100);
        return res.status === 202 ? res : undefined;
      },
      15_000,
      100,
    );
    const recoveredMs = Date.now() - restartedAt;
    const eventId = accepted.body.id as string;
    const delivered = await waitFor(
      'the worker to deliver the post-outage event',
      () => receiver.requests.find((r) => r.headers['x-hookrelay-event-id'] === eventId)?.receivedAt,
      20_000,
    );
    console.log(
      `redis-outage: API accepted again ${recoveredMs} ms after restart; worker delivered ${delivered - restartedAt} ms after restart`,
    );
    // Nothing the API answered 503 to was delivered as if it had been accepted.
    const deliveredPayloads = receiver.requests.map((r) => JSON.parse(r.body.toString()) as { n?: number });
    expect(deliveredPayloads.filter((p) => p.n !== undefined && p.n >= 1 && p.n <= 5)).toEqual([]);
  }, 60_000);

  it('answers 503 within the command timeout while Redis is frozen (no RST: a partition or a stopped process)', async () => {
    const pid = await redisPid(redis.url);
    process.kill(pid, 'SIGSTOP');
    try {
      const res = await publish(1);
      console.log(`redis-outage: publish while Redis is frozen answered ${res.status} in ${res.ms.toFixed(0)} ms`);
      expect(res.status).toBe(503);
      expect(res.ms).toBeLessThan(3000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const after = await waitFor(
      'a publish to be accepted after Redis thaws',
      async () => {
        const r = await publish(2);
        return r.status === 202 ? r : undefined;
      },
      15_000,
      100,
    );
    await waitFor(
      'delivery after the freeze',
      () => receiver.requests.some((r) => r.headers['x-hookrelay-event-id'] === after.body.id),
      20_000,
    );
  }, 60_000);

  it('answers a test send whose attempt cannot be recorded with 503, not 200 {attempt: null}', async () => {
    // A receiver that, while it holds the request, makes Redis refuse writes (maxmemory reached under
    // noeviction: reads still work): the attempt is made and its record is what fails. Before,
    // test-send.ts swallowed that failure and read back no attempt, answering 200 {attempt: null} as
    // if the receiver had failed.
    let full: Promise<void> | undefined;
    const filler = createServer((req, res) => {
      req.resume().on('end', () => {
        full ??= configSet(redis.url, 'maxmemory', '1');
        void full.then(() => res.end('ok'));
      });
    });
    await new Promise<void>((resolve) => filler.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(filler.address() as AddressInfo).port}/hook`;
      const ep = await api.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url } });
      expect(ep.status).toBe(201);
      const res = await api.call('POST', `/v1/subscribers/${sid}/endpoints/${ep.body.id}/test`, { timeoutMs: 15_000 });
      expect(full).toBeDefined();
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('unavailable');
    } finally {
      await configSet(redis.url, 'maxmemory', '0');
      filler.closeAllConnections();
      await new Promise<void>((resolve) => filler.close(() => resolve()));
    }
  }, 60_000);

  it('lets a publish refused while Redis is down be retried with the same idempotency key at once, after Redis is back', async () => {
    // The key is taken by the script that writes the event (create-event.lua): a publish that Redis
    // never ran leaves no key behind, so the retry is not told to wait (before: 409 for up to 30 s).
    await redis.kill();
    const send = () =>
      api.call('POST', `/v1/subscribers/${sid}/events`, {
        body: { type: 'custom.outage', payload: { n: 7 } },
        headers: { 'idempotency-key': 'order-7' },
        timeoutMs: 10_000,
      });
    expect((await send()).status).toBe(503);
    await redis.restart();
    await waitFor('the API to answer again', async () => (await api.call('GET', '/readyz', { key: null })).status === 200, 10_000);

    const retried = await send();
    expect(retried.status).toBe(202);
    const again = await send();
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(retried.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    await waitFor(
      'the retried event to be delivered',
      () => receiver.requests.some((r) => r.headers['x-hookrelay-event-id'] === retried.body.id),
      20_000,
    );
  }, 60_000);
});
