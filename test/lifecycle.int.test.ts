import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Publisher } from '@hookrelay/publishing';
import { createDeliveryQueue, createRedis } from '@hookrelay/queue';
import { createStore } from '@hookrelay/store';
import { buildEndpoint, buildEvent, freePort, requireRedisUrl, TestReceiver, uniquePrefix } from '@hookrelay/testing';

const ROOT = join(__dirname, '..');
const ADMIN_KEY = 'lifecycle-admin-key-0123456789abcdef';

function startProgram(entry: string, args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, entry), ...args], {
    cwd: ROOT,
    // Its endpoints retry 50 ms apart: no 1 s floor.
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      HOOKRELAY_ALLOW_HTTP: 'true',
      HOOKRELAY_ALLOW_PRIVATE_TARGETS: 'true',
      HOOKRELAY_MIN_RETRY_INTERVAL_MS: '1',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

describe('when the service gets SIGTERM during a burst', () => {
  it('stops cleanly, and every event it accepted is delivered after a restart', async () => {
    const redisUrl = requireRedisUrl();
    const prefix = uniquePrefix('lifecycle');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const receiver = await TestReceiver.start({ status: 200, delayMs: 30 });
    const env = { REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, PORT: String(port), HOST: '127.0.0.1', HOOKRELAY_ADMIN_KEY: ADMIN_KEY };
    const auth = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
    let service = startProgram('apps/api/src/main.ts', ['--with-worker'], env);
    const redis = createRedis(redisUrl, 'store');
    try {
      await waitFor(async () => (await fetch(`${base}/readyz`)).ok, 20_000, 'readiness');
      const sub = (await (
        await fetch(`${base}/v1/subscribers`, { method: 'POST', headers: auth, body: '{"name":"lifecycle"}' })
      ).json()) as { id: string };
      await fetch(`${base}/v1/subscribers/${sub.id}/endpoints`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ url: receiver.url }),
      });

      const accepted: string[] = [];
      let refused = 0;
      let sent = 0;
      const publishOne = async (): Promise<void> => {
        try {
          const res = await fetch(`${base}/v1/subscribers/${sub.id}/events`, {
            method: 'POST',
            headers: auth,
            body: JSON.stringify({ type: 'custom.burst', payload: { n: sent } }),
          });
          if (res.status === 202) accepted.push(((await res.json()) as { id: string }).id);
          else refused++;
        } catch {
          refused++; // connection closed by the stopping server: not accepted
        }
      };
      // 20 clients, 400 events at most; SIGTERM lands once 100 are accepted.
      // Another client's answer can land between a push and this check, so test for "at least".
      let terminated = false;
      const clients = Array.from({ length: 20 }, async () => {
        while (sent < 400) {
          sent++;
          await publishOne();
          if (!terminated && accepted.length >= 100) {
            terminated = true;
            service.kill('SIGTERM');
          }
        }
      });
      await Promise.all(clients);
      expect(await exited(service)).toBe(0);
      expect(accepted.length).toBeGreaterThanOrEqual(100);
      expect(refused).toBeGreaterThan(0);

      // Nothing is recorded as delivered that the receiver did not get.
      const store = createStore({ redis, prefix });
      const received = () => new Set(receiver.requests.map((r) => String(r.headers['x-hookrelay-event-id'])));
      for (const id of accepted) {
        const event = await store.events.get(id);
        const [delivery = null] = event ? await store.history.deliveriesOfEvent(event) : [];
        expect(delivery).not.toBeNull();
        if (delivery?.state === 'delivered') expect(received()).toContain(id);
      }

      service = startProgram('apps/api/src/main.ts', ['--with-worker'], env);
      await waitFor(async () => accepted.every((id) => received().has(id)), 30_000, 'every accepted event to arrive');
      expect(accepted.filter((id) => !received().has(id))).toEqual([]);
    } finally {
      service.kill('SIGKILL');
      await receiver.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  }, 90_000);
});

describe('the worker program', () => {
  it('on SIGTERM waits for in-flight deliveries only until SHUTDOWN_TIMEOUT_MS, then exits 0; the delivery is made later', async () => {
    const redisUrl = requireRedisUrl();
    const prefix = uniquePrefix('deadline');
    // Never answers the first request; answers the next at once.
    const receiver = await TestReceiver.start({ status: 200 });
    receiver.enqueue(() => undefined);
    const env = {
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      METRICS_PORT: '0',
      SHUTDOWN_TIMEOUT_MS: '300',
      WORKER_LOCK_DURATION_MS: '1000',
      WORKER_STALLED_INTERVAL_MS: '300',
    };
    const redis = createRedis(redisUrl, 'store');
    const queueRedis = createRedis(redisUrl, 'queue');
    const store = createStore({ redis, prefix });
    const queue = createDeliveryQueue({ connection: queueRedis, keyPrefix: prefix });
    let worker = startProgram('apps/worker/src/main.ts', [], env);
    try {
      const endpoint = buildEndpoint({ url: receiver.url, timeoutMs: 60_000, retry: { maxRetries: 3, intervalMs: 50, backoff: 'fixed' } });
      await store.endpoints.save(endpoint);
      const event = buildEvent();
      const [[delivery] = []] = await new Publisher({ store }).enqueue([{ event, endpoints: [endpoint] }]);
      await receiver.waitForRequests(1, 20_000);
      const stopping = Date.now();
      worker.kill('SIGTERM');
      expect(await exited(worker)).toBe(0);
      expect(Date.now() - stopping).toBeLessThan(5000);
      // The abandoned attempt is either recorded as aborted (and retried by policy) or left to the
      // stalled-job check; never recorded as delivered.
      expect(['pending', 'retrying']).toContain((await store.deliveries.get(delivery!.id))?.state);

      worker = startProgram('apps/worker/src/main.ts', [], env);
      await receiver.waitForRequests(2, 20_000);
      await waitFor(async () => (await store.deliveries.get(delivery!.id))?.state === 'delivered', 10_000, 'the delivery');
    } finally {
      worker.kill('SIGKILL');
      await receiver.close();
      await queue.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      queueRedis.disconnect();
    }
  }, 60_000);

  it('serves its own /metrics on METRICS_PORT and exits 0 on SIGTERM', async () => {
    const metricsPort = await freePort();
    const worker = startProgram('apps/worker/src/main.ts', [], {
      REDIS_URL: requireRedisUrl(),
      QUEUE_PREFIX: uniquePrefix('wm'),
      METRICS_PORT: String(metricsPort),
    });
    try {
      let text = '';
      await waitFor(
        async () => {
          const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
          text = await res.text();
          return res.ok;
        },
        20_000,
        'worker metrics',
      );
      expect(text).toContain('# TYPE hookrelay_deliveries_total counter');
      expect(text).toContain('process_cpu_user_seconds_total');
      worker.kill('SIGTERM');
      expect(await exited(worker)).toBe(0);
    } finally {
      worker.kill('SIGKILL');
    }
  }, 40_000);
});

describe('npm start: the API and the delivery worker on a thread of its own', () => {
  it("delivers, serves one /metrics with the API's and the worker's series summed, and exits 0 on SIGTERM", async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const receiver = await TestReceiver.start({ status: 200 });
    const auth = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
    const service = startProgram('apps/api/src/main.ts', ['--with-worker'], {
      REDIS_URL: requireRedisUrl(),
      QUEUE_PREFIX: uniquePrefix('thread'),
      PORT: String(port),
      HOST: '127.0.0.1',
      HOOKRELAY_ADMIN_KEY: ADMIN_KEY,
      // start:worker's own listener, which npm start does not open: a value it would refuse is ignored here.
      METRICS_PORT: 'not-a-port',
    });
    try {
      await waitFor(async () => (await fetch(`${base}/readyz`)).ok, 20_000, 'readiness');
      const sub = (await (await fetch(`${base}/v1/subscribers`, { method: 'POST', headers: auth, body: '{"name":"thread"}' })).json()) as {
        id: string;
      };
      await fetch(`${base}/v1/subscribers/${sub.id}/endpoints`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ url: receiver.url }),
      });
      for (let n = 0; n < 3; n++)
        expect(
          (
            await fetch(`${base}/v1/subscribers/${sub.id}/events`, {
              method: 'POST',
              headers: auth,
              body: JSON.stringify({ type: 'custom.thread', payload: { n } }),
            })
          ).status,
        ).toBe(202);
      await waitFor(async () => receiver.requests.length >= 3, 20_000, 'three deliveries');

      let text = '';
      // The worker counts a delivery just after its attempt is recorded: wait for the third.
      await waitFor(
        async () => {
          text = await (await fetch(`${base}/metrics`)).text();
          return /^hookrelay_deliveries_total\{outcome="delivered"\} 3$/m.test(text);
        },
        10_000,
        "the worker thread's deliveries in /metrics",
      );
      // The API's own series beside the worker's, and the process's metrics once, not once per thread.
      expect(text).toMatch(/^hookrelay_events_published_total\{type="custom"\} 3$/m);
      expect(text).toMatch(/^hookrelay_delivery_attempts_total\{outcome="delivered",status_class="2xx"\} 3$/m);
      expect(text.match(/^# TYPE process_cpu_user_seconds_total counter$/gm)).toHaveLength(1);
      // prom-client leaves this one out of any aggregate: the API's own families are passed through.
      expect(text).toMatch(/^process_start_time_seconds \d+$/m);
      expect(text.match(/^# TYPE hookrelay_deliveries_total counter$/gm)).toHaveLength(1);
      service.kill('SIGTERM');
      expect(await exited(service)).toBe(0);
      expect(receiver.requests).toHaveLength(3);
    } finally {
      service.kill('SIGKILL');
      await receiver.close();
    }
  }, 60_000);
});

describe('when Redis cannot be reached at start', () => {
  it('stops with exit 1 and says what to do, for the service and the worker alike', async () => {
    const closedPort = await freePort();
    for (const entry of ['apps/api/src/main.ts', 'apps/worker/src/main.ts']) {
      const child = startProgram(entry, ['--with-worker'], {
        REDIS_URL: `redis://127.0.0.1:${closedPort}`,
        HOOKRELAY_ADMIN_KEY: ADMIN_KEY,
        METRICS_PORT: '0',
      });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      expect(await exited(child)).toBe(1);
      expect(stderr).toContain(`Cannot reach Redis at redis://127.0.0.1:${closedPort}`);
      expect(stderr).toContain('redis-server --daemonize yes');
      expect(stderr).toContain('REDIS_URL');
    }
  }, 30_000);
});
