import Redis from 'ioredis';
import { createLogger } from '@hookrelay/observability';
import { createStore, endpointSleeper, type Store } from '@hookrelay/store';
import { buildEndpoint, buildEvent, captureLogLines, CuttingProxy, requireRedisUrl, waitUntil } from '@hookrelay/testing';
import { useTestStore } from '@hookrelay/store/src/test-store';
import { WakeRetry } from './wake-retry';

/**
 * A worker wakes the endpoints it parked on a full receiver address when a slot frees. The wake is
 * one Redis call; lost to a blip, it left them asleep until parkMs (30 s) although Redis was back.
 */
describe('WakeRetry', () => {
  const db = useTestStore('wake-retry');

  /** An endpoint parked by a worker (its delivery back in its lane, the endpoint asleep for 60 s). */
  async function parkedEndpoint(): Promise<string> {
    const endpoint = buildEndpoint({ subscriberId: 'sub_wake', url: 'http://127.0.0.1:9/' });
    await db.store.endpoints.save(endpoint);
    const [[delivery] = []] = await db.store.deliveries.createForEvents([
      { event: buildEvent({ subscriberId: 'sub_wake' }), endpoints: [endpoint] },
    ]);
    expect(await db.store.lanes.park(`${delivery!.id}-1`, Date.now() + 60_000)).toBe(true);
    const sleeper = endpointSleeper(endpoint.id, endpoint.subscriberId);
    expect(await asleep(sleeper)).toBe(true);
    return sleeper;
  }

  const asleep = async (sleeper: string) => (await db.redis.zscore(`${db.store.keys.sched()}:sleep`, sleeper)) !== null;

  it('wakes the sleepers once Redis answers again, instead of leaving them to their sleep', async () => {
    const sleeper = await parkedEndpoint();
    const url = new URL(requireRedisUrl());
    const proxy = await CuttingProxy.start({ host: url.hostname, port: Number(url.port) });
    // Fails a command at once while disconnected, and reconnects on its own.
    const redis = new Redis(proxy.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 20 });
    redis.on('error', () => undefined);
    const { lines, destination } = captureLogLines();
    let store: Store | undefined;
    const wakes = new WakeRetry({
      wake: (sleepers) => (store as Store).lanes.wake(sleepers),
      logger: createLogger({ destination }),
      parkMs: 60_000,
      firstRetryMs: 20,
    });
    try {
      store = createStore({ redis, prefix: db.prefix });
      await waitUntil(() => redis.status === 'ready', 'the proxied connection');
      proxy.cutAfter(0);
      await waitUntil(() => redis.status !== 'ready', 'the proxied connection to drop');
      wakes.wake([sleeper]);
      await waitUntil(() => lines.some((l) => l.msg === 'scheduler.wake_failed'), 'a failed wake');
      expect(await asleep(sleeper)).toBe(true);
      proxy.heal();
      await waitUntil(async () => !(await asleep(sleeper)), 'the sleeper to be woken', 5000);
      expect(lines.filter((l) => l.msg === 'scheduler.wake_failed').every((l) => typeof l.retryInMs === 'number')).toBe(true);
    } finally {
      wakes.close();
      redis.disconnect();
      await proxy.close();
    }
  });

  it('stops once its next retry would come after the sleep ends by itself, and when closed', async () => {
    const { lines, destination } = captureLogLines();
    let calls = 0;
    const failing = new WakeRetry({
      wake: () => {
        calls++;
        return Promise.reject(new Error('Connection is closed.'));
      },
      logger: createLogger({ destination }),
      parkMs: 100,
      firstRetryMs: 20,
    });
    // Tries at 0, 20 and 60 ms; the next (at 140 ms) would pass the 100 ms sleep.
    failing.wake(['e|sub_a|ep_a']);
    await waitUntil(() => lines.some((l) => l.givenUp === true), 'the retries to stop');
    expect(calls).toBe(3);
    expect(lines.map((l) => l.retryInMs ?? 'given up')).toEqual([20, 40, 'given up']);

    const closed = new WakeRetry({ wake: () => Promise.reject(new Error('down')), logger: createLogger({ destination }), parkMs: 60_000 });
    closed.wake(['e|sub_a|ep_a']);
    await waitUntil(() => lines.length === 4, 'the first failure');
    expect(closed.waiting).toBe(1);
    closed.close();
    expect(lines[3]).toMatchObject({ msg: 'scheduler.wake_failed', retryInMs: 500 });
    expect(closed.waiting).toBe(0);
  });
});
