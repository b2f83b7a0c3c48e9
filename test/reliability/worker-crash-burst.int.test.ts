import { inParallel, sleep, waitFor } from './support/wait';
import { startWorkerProcess } from './support/worker-process';
import { useWorkerProcessStage } from './support/worker-process-stage';

const EVENTS = 2000;
const BATCH = 100;
/** The worker is SIGKILLed once the receiver has seen this many requests. */
const KILL_AFTER = 400;

describe('when the worker process is killed with SIGKILL during a burst', () => {
  // A little latency keeps many deliveries in flight when the kill lands.
  const stage = useWorkerProcessStage({ redis: { appendOnly: true }, reply: { status: 200, delayMs: 20 } });
  const { workers } = stage;

  it('delivers every accepted event once a new worker starts', async () => {
    const env = {
      REDIS_URL: stage.redis.url,
      QUEUE_PREFIX: stage.api.prefix,
      HOOKRELAY_ALLOW_PRIVATE_TARGETS: 'true',
      // Its endpoint retries 200 ms apart.
      HOOKRELAY_MIN_RETRY_INTERVAL_MS: '1',
      WORKER_CONCURRENCY: '50',
      // One endpoint here, and the point is crash safety: let it use every slot, as before the
      // scheduler capped what one endpoint may hold (isolation.int.test.ts tests the caps).
      WORKER_ENDPOINT_SHARE: '1',
      WORKER_SUBSCRIBER_SHARE: '1',
      WORKER_ADDRESS_SHARE: '1',
      WORKER_LOCK_DURATION_MS: '1000',
      WORKER_STALLED_INTERVAL_MS: '300',
    };
    const sid = (await stage.api.call('POST', '/v1/subscribers', { body: { name: 'worker-crash' } })).body.id as string;
    const ep = await stage.api.call('POST', `/v1/subscribers/${sid}/endpoints`, {
      body: { url: stage.receiver.url, retry: { maxRetries: 5, intervalMs: 200, backoff: 'fixed' } },
    });
    expect(ep.status).toBe(201);

    workers.push(startWorkerProcess(env));
    const accepted = new Set<string>();
    const deliveryIds: string[] = [];
    let killedAt = 0;
    let seenAtKill = 0;
    const publishing = inParallel(
      2,
      Array.from({ length: EVENTS / BATCH }, (_, b) => async () => {
        const events = Array.from({ length: BATCH }, (_, i) => ({ type: 'custom.crash', payload: { n: b * BATCH + i } }));
        const res = await stage.api.call('POST', `/v1/subscribers/${sid}/events/batch`, { body: { events } });
        expect(res.status).toBe(202);
        for (const e of res.body.events as Array<{ id: string; deliveries: Array<{ id: string }> }>) {
          accepted.add(e.id);
          deliveryIds.push(...e.deliveries.map((d) => d.id));
        }
        await sleep(50); // a steady burst, so some events arrive while no worker runs
      }),
    );

    await stage.receiver.waitForRequests(KILL_AFTER, 30_000);
    await workers[0]!.kill();
    killedAt = Date.now();
    seenAtKill = stage.receiver.requests.length;
    await sleep(500);
    workers.push(startWorkerProcess(env));
    await publishing;
    expect(accepted.size).toBe(EVENTS);

    const seen = () => new Set(stage.receiver.requests.map((r) => String(r.headers['x-hookrelay-event-id'])));
    await waitFor('every accepted event to reach the receiver', () => [...accepted].every((id) => seen().has(id)), 60_000, 200).catch(
      () => undefined,
    );
    const received = seen();
    const missing = [...accepted].filter((id) => !received.has(id));
    const duplicates = stage.receiver.requests.length - received.size;
    console.log(
      `worker-crash-burst: ${JSON.stringify({ events: EVENTS, seenAtKill, lost: missing.length, duplicates, receiverRequests: stage.receiver.requests.length, drainedAfterKillMs: Date.now() - killedAt })}`,
    );
    expect(missing).toEqual([]);
    // The delivery records agree with what the stage.receiver saw.
    const records = await waitFor(
      'every delivery record to say delivered',
      async () => {
        const all = await stage.api.store.deliveries.getMany(deliveryIds);
        return all.every((d) => d.state === 'delivered') ? all : undefined;
      },
      10_000,
    );
    expect(records).toHaveLength(EVENTS);
    // At-least-once: the only events sent twice are those whose first request was in flight at the kill.
    const firstSeen = new Map<string, number>();
    for (const r of stage.receiver.requests) {
      const id = String(r.headers['x-hookrelay-event-id']);
      if (!firstSeen.has(id)) firstSeen.set(id, r.receivedAt);
    }
    const counts = new Map<string, number>();
    for (const r of stage.receiver.requests)
      counts.set(String(r.headers['x-hookrelay-event-id']), (counts.get(String(r.headers['x-hookrelay-event-id'])) ?? 0) + 1);
    const sentTwice = [...counts].filter(([, c]) => c > 1).map(([id]) => id);
    expect(sentTwice.filter((id) => (firstSeen.get(id) ?? Infinity) > killedAt)).toEqual([]);
    expect(Math.max(0, ...counts.values())).toBeLessThanOrEqual(2);
    expect(duplicates).toBeLessThanOrEqual(50); // WORKER_CONCURRENCY
  }, 120_000);
});
