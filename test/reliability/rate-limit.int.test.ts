import { freePort } from '@hookrelay/testing';
import { waitFor } from './support/wait';
import { startWorkerProcess } from './support/worker-process';
import { useWorkerProcessStage } from './support/worker-process-stage';

const PER_SECOND = 20;
const EVENTS = 200;

/** The most arrivals within any window of `windowMs` (sliding, each window starting at an arrival). */
function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] as number) - (sorted[start] as number) >= windowMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/** Arrivals per one-second bucket, counted from the first arrival. */
function perSecondBuckets(times: readonly number[]): number[] {
  const first = Math.min(...times);
  const buckets: number[] = [];
  for (const t of times) {
    const b = Math.floor((t - first) / 1000);
    buckets[b] = (buckets[b] ?? 0) + 1;
  }
  return Array.from(buckets, (n) => n ?? 0);
}

/** A worker process's count of delivered deliveries, read from its /metrics. */
async function deliveredBy(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^hookrelay_deliveries_total\{outcome="delivered"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

/**
 * Issue 15: an endpoint's `rateLimit` holds across every worker (it is kept in Redis), and deliveries
 * over it wait in the endpoint's lane: no worker slot held, no attempt failed.
 */
describe("an endpoint's rate limit", () => {
  const stage = useWorkerProcessStage({ reply: { status: 200 } });
  const { workers } = stage;

  it(`delivers ${EVENTS} deliveries through two worker processes at no more than ${PER_SECOND} a second, none failed by the limit`, async () => {
    const env = { REDIS_URL: stage.redis.url, QUEUE_PREFIX: stage.api.prefix, HOOKRELAY_ALLOW_PRIVATE_TARGETS: 'true' };
    const metricsPorts = [await freePort(), await freePort()];
    for (const port of metricsPorts) workers.push(startWorkerProcess({ ...env, METRICS_PORT: String(port) }));
    await waitFor(
      'both workers to serve /metrics',
      async () =>
        await Promise.all(metricsPorts.map(deliveredBy))
          .then(() => true)
          .catch(() => false),
      20_000,
    );
    const sid = (await stage.api.call('POST', '/v1/subscribers', { body: { name: 'paced' } })).body.id as string;
    const ep = await stage.api.call('POST', `/v1/subscribers/${sid}/endpoints`, {
      body: { url: stage.receiver.url, rateLimit: { perSecond: PER_SECOND } },
    });
    expect(ep.status).toBe(201);

    const published = await stage.api.call('POST', `/v1/subscribers/${sid}/events/batch`, {
      body: { events: Array.from({ length: EVENTS }, (_, i) => ({ type: 'custom.paced', payload: { i } })) },
    });
    expect(published.status).toBe(202);
    const ids = (published.body.events as Array<{ deliveries: Array<{ id: string }> }>).flatMap((e) => e.deliveries.map((d) => d.id));
    await stage.receiver.waitForRequests(EVENTS, (EVENTS / PER_SECOND) * 1000 + 20_000);

    const records = await waitFor(
      'every delivery to be recorded',
      async () => {
        const all = await stage.api.store.deliveries.getMany(ids);
        return all.length === EVENTS && all.every((d) => d.state === 'delivered') ? all : undefined;
      },
      10_000,
    );
    // Nothing was failed or retried because of the limit: one attempt each.
    expect(records.filter((d) => d.attempts !== 1)).toEqual([]);

    const times = stage.receiver.requests.map((r) => r.receivedAt);
    const spanMs = Math.max(...times) - Math.min(...times);
    const buckets = perSecondBuckets(times);
    // A worker counts a delivery just after its record is written: wait for both counts to add up.
    const byWorker = await waitFor(
      'the workers to count every delivery',
      async () => {
        const counts = await Promise.all(metricsPorts.map(deliveredBy));
        return counts.reduce((a, b) => a + b, 0) === EVENTS ? counts : undefined;
      },
      10_000,
    );
    console.log(
      `rate-limit: ${EVENTS} deliveries over ${spanMs} ms, per second ${JSON.stringify(buckets)}, busiest sliding second ${busiestWindow(times, 1000)}, by worker ${JSON.stringify(byWorker)}`,
    );
    // Both workers delivered: the limit held across processes, not within one.
    expect(byWorker.every((n) => n > 0)).toBe(true);
    // At most perSecond in each second, one second of burst allowed (issue 15). Sends are spaced
    // 1020/perSecond ms apart (admit.lua, then pace-send.lua: 2% under the limit), so arrival
    // jitter of up to ~20 ms cannot put perSecond+1 in a second; the receiver stamps arrivals on
    // an event loop it shares with the API and this test, which can bunch more now and then.
    expect(buckets.filter((n) => n > PER_SECOND).length).toBeLessThanOrEqual(1);
    expect(busiestWindow(times, 1000)).toBeLessThanOrEqual(PER_SECOND * 1.25);
    // Paced, not merely slow: the whole run took what the limit says it must, and not much more.
    expect(spanMs).toBeGreaterThanOrEqual(((EVENTS - PER_SECOND - 1) / PER_SECOND) * 1000);
    expect(spanMs).toBeLessThan((EVENTS / PER_SECOND) * 1000 + 5000);
  }, 60_000);
});
