// What one subscriber's large fan-out costs everyone's Redis, and the other subscribers' latency:
// an attacker publishes PROBE_EVENTS (20) events of 1 MiB to 100 endpoints on one receiver, while
// a victim subscriber publishes a small event every 20 ms to an endpoint of its own. A worker
// process runs as apps/worker starts it (concurrency 100 / slow 20) from the tree PROBE_TREE (the
// current one by default, so an older checkout can be measured the same way), on a redis-server
// of the probe's own. Prints the Redis CPU (INFO cpu), the worker's CPU and the commands while the
// attack ran, the worker's parks (hookrelay_deliveries_parked_total) and the victim's publish-to-arrival p50/p99.
// Not part of the test run; docs/performance.md quotes it. PROBE_REDIS_PROFILE=1 logs every call in
// Redis's SLOWLOG and adds Redis's time by script and command (bench/redis-stats.ts's byCall): that
// run's CPU reads high, so compare scripts within it, not with another run.
//
//   PROBE_TREE=/path/to/checkout npx tsx scripts/probe-fanout-bytes.ts
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildEndpoint, buildEvent, startRedisServer } from '@hookrelay/testing';
import { Publisher } from '@hookrelay/publishing';
import { createStore } from '@hookrelay/store';
import Redis from 'ioredis';
import { measureRedisWork, PROFILE_SLOWLOG_LEN } from '../bench/redis-stats';

const TREE = process.env.PROBE_TREE ?? process.cwd();
const EVENTS = Number(process.env.PROBE_EVENTS ?? 20);
const ENDPOINTS = Number(process.env.PROBE_ENDPOINTS ?? 100);
const PAYLOAD = Number(process.env.PROBE_PAYLOAD_BYTES ?? 1024 * 1024);
const PREFIX = 'probefan';
const PROFILE = process.env.PROBE_REDIS_PROFILE === '1';

/** The worker process's CPU so far (prom-client's process_cpu_seconds_total on its metrics port). */
async function workerCpuSeconds(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const m = /^process_cpu_seconds_total ([0-9.e+-]+)$/m.exec(text);
  if (!m) throw new Error('the worker does not report process_cpu_seconds_total');
  return Number(m[1]);
}

function field(info: string, name: string): number {
  const m = new RegExp(`${name}[:=]([0-9.]+)`).exec(info);
  return m ? Number(m[1]) : 0;
}

/** A receiver answering 200 at once; calls `seen` with each delivery id. */
async function receiver(seen: (id: string) => void): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen(String(req.headers['x-hookrelay-delivery-id']));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const redisServer = await startRedisServer();
  const redis = new Redis(redisServer.url);
  const store = createStore({ redis, prefix: PREFIX });
  const publisher = new Publisher({ store });
  const arrived = new Map<string, number>();
  const attack = await receiver((id) => arrived.set(id, Date.now()));
  const victimAt = new Map<string, number>();
  const victim = await receiver((id) => victimAt.set(id, Date.now()));
  const metricsPort = 20_000 + Math.floor(Math.random() * 20_000);
  // Its own process group, so that stopping it stops tsx's node child too.
  const worker = spawn('node_modules/.bin/tsx', ['apps/worker/src/main.ts'], {
    cwd: TREE,
    detached: true,
    env: {
      ...process.env,
      REDIS_URL: redisServer.url,
      QUEUE_PREFIX: PREFIX,
      HOOKRELAY_ALLOW_PRIVATE_TARGETS: 'true',
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const ready = Date.now() + 30_000;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${metricsPort}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > ready) throw new Error('worker not ready');
      await new Promise((r) => setTimeout(r, 200));
    }
    const attackEps = [];
    for (let i = 0; i < ENDPOINTS; i++) {
      const e = buildEndpoint({ subscriberId: 'sub_attack', url: `${attack.url}/e${i}` });
      await store.endpoints.save(e);
      attackEps.push(e);
    }
    const victimEp = buildEndpoint({ subscriberId: 'sub_victim', url: `${victim.url}/v` });
    await store.endpoints.save(victimEp);
    // Warm up the worker's path with a few victim deliveries.
    const sentAt = new Map<string, number>();
    const publishVictim = async () => {
      const [[d] = []] = await publisher.enqueue([{ event: buildEvent({ subscriberId: 'sub_victim' }), endpoints: [victimEp] }]);
      if (d) sentAt.set(d.id, Date.now());
    };
    for (let i = 0; i < 20; i++) await publishVictim();
    while (victimAt.size < 20) await new Promise((r) => setTimeout(r, 20));
    sentAt.clear();
    victimAt.clear();

    const payload = JSON.stringify({ blob: 'x'.repeat(PAYLOAD - 11) });
    if (PROFILE) {
      await redis.config('SET', 'slowlog-log-slower-than', '0');
      await redis.config('SET', 'slowlog-max-len', String(PROFILE_SLOWLOG_LEN));
    }
    const profile = PROFILE ? await measureRedisWork(redis, { byCall: true }) : undefined;
    await redis.config('RESETSTAT');
    const workerCpu0 = await workerCpuSeconds(metricsPort);
    const cpu0 = await redis.info('cpu');
    const t0 = Date.now();
    let stop = false;
    const victimLoop = (async () => {
      while (!stop) {
        await publishVictim();
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const events = Array.from({ length: EVENTS }, () => buildEvent({ subscriberId: 'sub_attack', payload }));
    for (const event of events) await publisher.enqueue([{ event, endpoints: attackEps }]);
    const total = EVENTS * ENDPOINTS;
    console.error(`published ${total} attacker deliveries in ${Date.now() - t0} ms`);
    while (arrived.size < total) {
      if (Date.now() - t0 > 180_000) throw new Error(`only ${arrived.size} of ${total} arrived`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const attackMs = Date.now() - t0;
    stop = true;
    await victimLoop;
    const cpu1 = await redis.info('cpu');
    const workerCpuS = (await workerCpuSeconds(metricsPort)) - workerCpu0;
    const byCall = profile ? ((await profile.finish()).byCall ?? []).slice(0, 25) : undefined;
    const stats = await redis.info('commandstats');
    const cpuS = (i: string) => field(i, 'used_cpu_sys') + field(i, 'used_cpu_user');
    const calls = [...stats.matchAll(/cmdstat_([a-z|]+):calls=(\d+),usec=(\d+)/g)].map((m) => ({
      cmd: m[1],
      calls: Number(m[2]),
      usec: Number(m[3]),
    }));
    const evalsha = calls.filter((c) => c.cmd!.startsWith('evalsha')).reduce((a, c) => a + c.usec, 0);
    while ([...sentAt.keys()].some((id) => !victimAt.has(id))) await new Promise((r) => setTimeout(r, 20));
    const lat = [...sentAt].map(([id, at]) => victimAt.get(id)! - at).sort((a, b) => a - b);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const parkedOf = (reason: string) => {
      const m = new RegExp(`hookrelay_deliveries_parked_total\\{reason="${reason}"\\} ([0-9.]+)`).exec(metrics);
      return m ? Number(m[1]) : 0;
    };
    console.log(
      JSON.stringify({
        tree: TREE,
        attackMs,
        redisCpuS: Number((cpuS(cpu1) - cpuS(cpu0)).toFixed(3)),
        workerCpuS: Number(workerCpuS.toFixed(3)),
        redisCpuSysS: Number((field(cpu1, 'used_cpu_sys') - field(cpu0, 'used_cpu_sys')).toFixed(3)),
        redisNetOutMiB: Math.round(field(await redis.info('stats'), 'total_net_output_bytes') / 2 ** 20),
        evalshaMs: Math.round(evalsha / 1000),
        commands: calls.reduce((a, c) => a + c.calls, 0),
        parkedBytes: parkedOf('bytes'),
        parkedAddress: parkedOf('address'),
        victim: { n: lat.length, p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat[lat.length - 1] },
        ...(byCall ? { byCall } : {}),
      }),
    );
  } finally {
    const exited = new Promise((r) => worker.once('exit', r));
    process.kill(-worker.pid!, 'SIGTERM');
    await exited;
    attack.server.close();
    victim.server.close();
    redis.disconnect();
    await redisServer.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
