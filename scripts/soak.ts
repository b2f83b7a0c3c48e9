// `npm run soak`: a bounded soak of the API and the worker (issue 8), not part of the test run.
//
// Starts its own redis-server (AOF on, free port, temp folder), 100 receivers on loopback in a
// child process (10% answer 500, 5% never answer, the rest 200 after 5-30 ms), the API and the
// delivery worker in this process (as `npm start` runs them), then publishes at a steady rate for
// SOAK_SECONDS and reports: events published; deliveries delivered, failed and still in flight;
// warnings and errors in the service logs; Redis used_memory over time (retention is short, so it
// should flatten); event-loop lag (p50, p99, max). Everything stays on 127.0.0.1.
//
//   SOAK_SECONDS=60 SOAK_RATE=100 SOAK_RETENTION_SECONDS=15 SOAK_DRAIN_SECONDS=20 npm run soak
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { startDeliveryWorker } from '@hookrelay/delivery';
import { createLogger, createMetrics } from '@hookrelay/observability';
import { createRedis } from '@hookrelay/queue';
import { startRedisServer } from '@hookrelay/testing';
import { createWorkerResources } from '@hookrelay/worker';
import { Agent, request } from 'undici';
import { createApp } from '../apps/api/src/app';
import { buildApiDeps } from '../apps/api/src/build-deps';

const ENDPOINTS = 100;
const FAILING = 10; // answer 500
const HANGING = 5; // accept, never answer

function envNumber(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`${name} must be a number from ${min} to ${max} (got ${raw})`);
  return value;
}

type Behaviour = 'ok' | 'fail' | 'hang';
const behaviourOf = (i: number): Behaviour => (i < FAILING ? 'fail' : i < FAILING + HANGING ? 'hang' : 'ok');

/** Child process: the 100 receivers, so their work does not count in the service's event-loop lag. */
async function runReceivers(): Promise<void> {
  const servers: Server[] = [];
  const hung = new Set<ServerResponse>();
  const counts = { ok: 0, fail: 0, hang: 0 };
  for (let i = 0; i < ENDPOINTS; i++) {
    const behaviour = behaviourOf(i);
    const server = createServer((req, res) => {
      req.resume();
      counts[behaviour]++;
      if (behaviour === 'hang') {
        hung.add(res);
        res.on('close', () => hung.delete(res));
        return;
      }
      setTimeout(
        () => res.writeHead(behaviour === 'fail' ? 500 : 200, { 'content-type': 'text/plain' }).end(behaviour),
        5 + Math.random() * 25,
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
  }
  process.send?.({ ports: servers.map((s) => (s.address() as AddressInfo).port) });
  process.on('message', (message) => {
    if (message === 'counts') process.send?.({ counts, hanging: hung.size });
    if (message === 'stop') {
      for (const s of servers) s.closeAllConnections();
      process.exit(0);
    }
  });
}

interface LogTally {
  byLevel: Record<string, number>;
  /** warn and above, by message, with one example each. */
  problems: Map<string, { count: number; example: Record<string, unknown> }>;
}

function logCapture(): { sink: Writable; tally: LogTally } {
  const tally: LogTally = { byLevel: {}, problems: new Map() };
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        const level = String(entry.level);
        tally.byLevel[level] = (tally.byLevel[level] ?? 0) + 1;
        if (level === 'warn' || level === 'error' || level === 'fatal') {
          const key = `${level} ${String(entry.msg)}`;
          const seen = tally.problems.get(key);
          if (seen) seen.count++;
          else tally.problems.set(key, { count: 1, example: entry });
        }
      }
      cb();
    },
  });
  return { sink, tally };
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function runSoak(): Promise<void> {
  const seconds = envNumber('SOAK_SECONDS', 60, 1, 3600);
  const rate = envNumber('SOAK_RATE', 100, 1, 5000);
  // Longer than a delivery's whole retry horizon (3 attempts x (timeout + 1 s)): a record that expires
  // while its retries are pending is dropped (delivery.expired), which would read as lost here.
  const retentionSeconds = envNumber('SOAK_RETENTION_SECONDS', 15, 1, 86_400);
  const drainSeconds = envNumber('SOAK_DRAIN_SECONDS', 15, 0, 600);
  const timeoutMs = envNumber('SOAK_ENDPOINT_TIMEOUT_MS', 3000, 100, 60_000);
  console.log(
    `soak: ${seconds} s at ${rate} events/s to ${ENDPOINTS} endpoints (${FAILING} answer 500, ${HANGING} hang; timeout ${timeoutMs} ms), retention ${retentionSeconds} s, drain ${drainSeconds} s`,
  );

  const unexpected: string[] = [];
  process.on('unhandledRejection', (err) => unexpected.push(`unhandledRejection: ${(err as Error)?.stack ?? String(err)}`));
  process.on('uncaughtException', (err) => unexpected.push(`uncaughtException: ${err.stack ?? String(err)}`));

  const redis = await startRedisServer({ appendOnly: true });
  const receivers: ChildProcess = fork(__filename, ['--receivers'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ports = await new Promise<number[]>((resolve, reject) => {
    receivers.once('message', (m) => resolve((m as { ports: number[] }).ports));
    receivers.once('exit', (code) => reject(new Error(`receivers exited with ${code}`)));
  });
  const ask = <T>(message: string) =>
    new Promise<T>((resolve) => {
      receivers.once('message', (m) => resolve(m as T));
      receivers.send(message);
    });

  const { sink, tally } = logCapture();
  const logger = createLogger({ level: 'info', destination: sink });
  const metrics = createMetrics({ processMetrics: false });
  const prefix = 'soak';
  const adminKey = 'hr_admin_soak_local_only';
  const retentionMs = retentionSeconds * 1000;
  const api = await buildApiDeps({
    redisUrl: redis.url,
    keyPrefix: prefix,
    logger,
    metrics,
    adminKey,
    retentionMs,
    policy: { allowHttp: true, allowPrivateTargets: true, allowSha1: false },
  });
  const server: Server = await new Promise((resolve) => {
    const s = createApp(api.deps).listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const workerResources = createWorkerResources({ redisUrl: redis.url, allowPrivateTargets: true });
  const worker = await startDeliveryWorker(workerResources, {
    keyPrefix: prefix,
    logger,
    metrics,
    retentionMs,
    metricsSampleIntervalMs: 0,
  });
  const client = new Agent({ connections: 64 });
  const call = async (method: string, path: string, body: unknown) => {
    const res = await request(`${base}${path}`, {
      method: method as 'POST',
      dispatcher: client,
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    // The soak reads a field or two of several answers' shapes; each read is checked where it is used.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.statusCode, body: (await res.body.json()) as any };
  };

  // Ten subscribers of ten endpoints; endpoint i takes event type custom.soak.e<i>, so each event is one delivery.
  for (let s = 0; s < 10; s++) {
    const sid = (await call('POST', '/v1/subscribers', { name: `soak-${s}` })).body.id as string;
    for (let e = s * 10; e < s * 10 + 10; e++) {
      const res = await call('POST', `/v1/subscribers/${sid}/endpoints`, {
        url: `http://127.0.0.1:${ports[e]}/hook`,
        eventTypes: [`custom.soak.e${e}`],
        timeoutMs,
        retry: { maxRetries: 2, intervalMs: 1000, backoff: 'fixed' },
      });
      if (res.status !== 201) throw new Error(`endpoint ${e}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    sids.push(sid);
  }

  const admin = createRedis(redis.url, 'store');
  const usedMemory = async () => Number(/^used_memory:(\d+)/m.exec(await admin.info('memory'))?.[1] ?? NaN);
  const memory: Array<{ atS: number; bytes: number }> = [{ atS: 0, bytes: await usedMemory() }];
  const LAG_RESOLUTION_MS = 10;
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();
  const rssStart = process.memoryUsage().rss;

  let published = 0;
  let refused = 0;
  const refusals = new Map<string, number>();
  let n = 0;
  const started = Date.now();
  const deadline = started + seconds * 1000;
  const sampler = setInterval(() => {
    void usedMemory().then((bytes) => memory.push({ atS: Math.round((Date.now() - started) / 1000), bytes }));
  }, 5000);
  // A steady rate: every 50 ms, the events due by now, each its own POST.
  const inFlight = new Set<Promise<void>>();
  while (Date.now() < deadline) {
    const due = Math.floor(((Date.now() - started) / 1000) * rate);
    while (n < due && inFlight.size < 500) {
      const e = n % ENDPOINTS;
      const sid = sids[Math.floor(e / 10)] as string;
      const p = call('POST', `/v1/subscribers/${sid}/events`, { type: `custom.soak.e${e}`, payload: { n, at: Date.now() } })
        .then((res) => {
          if (res.status === 202) published++;
          else {
            refused++;
            const key = `${res.status} ${String(res.body?.error?.code)}`;
            refusals.set(key, (refusals.get(key) ?? 0) + 1);
          }
        })
        .catch((err: Error) => {
          refused++;
          refusals.set(err.message, (refusals.get(err.message) ?? 0) + 1);
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      n++;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await Promise.all(inFlight);
  const publishSeconds = (Date.now() - started) / 1000;
  const middle = memory[Math.floor(memory.length / 2)] as { atS: number; bytes: number };

  // Drain: retries and hanging attempts end within (retries x (timeout + interval)).
  const counter = async (outcome: string) => (await metrics.deliveries.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
  const drainUntil = Date.now() + drainSeconds * 1000;
  while (Date.now() < drainUntil && (await counter('delivered')) + (await counter('failed')) < published)
    await new Promise((r) => setTimeout(r, 250));
  clearInterval(sampler);
  lag.disable();
  memory.push({ atS: Math.round((Date.now() - started) / 1000), bytes: await usedMemory() });

  // Where the memory is: BullMQ's keys (it keeps the last 1000 failed jobs) against Hookrelay's records.
  const breakdown = { bullmq: { keys: 0, bytes: 0 }, records: { keys: 0, bytes: 0 } };
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    const pipeline = admin.pipeline();
    for (const key of keys) pipeline.memory('USAGE', key);
    const sizes = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) => {
      const bucket = key.startsWith(`${prefix}:bull:`) ? breakdown.bullmq : breakdown.records;
      bucket.keys++;
      bucket.bytes += Number(sizes[i]?.[1] ?? 0);
    });
  } while (cursor !== '0');

  const delivered = await counter('delivered');
  const failed = await counter('failed');
  const jobs = await worker.queue.getJobCounts('wait', 'active', 'delayed', 'failed', 'completed');
  const receiverCounts = await ask<{ counts: Record<Behaviour, number>; hanging: number }>('counts');
  const expectedWarn = new Set(['warn endpoint.disabled']);
  const problems = [...tally.problems].filter(([key]) => !expectedWarn.has(key));
  // The histogram records each timer interval, resolution included: the lag is what exceeds it.
  const ms = (ns: number) => Math.max(0, ns / 1e6 - LAG_RESOLUTION_MS).toFixed(1);

  const first = memory[0] as { bytes: number };
  const last = memory[memory.length - 1] as { bytes: number };
  console.log(
    [
      '',
      '=== soak report ===',
      `duration:            ${publishSeconds.toFixed(1)} s publishing, then up to ${drainSeconds} s drain; rate asked ${rate}/s, achieved ${(published / publishSeconds).toFixed(1)}/s`,
      `events published:    ${published} (202); refused ${refused}${refusals.size ? ` ${JSON.stringify(Object.fromEntries(refusals))}` : ''}`,
      `deliveries:          delivered ${delivered}, failed ${failed}, in flight ${published - delivered - failed}`,
      `  expected:          ~${Math.round((published * (ENDPOINTS - FAILING - HANGING)) / ENDPOINTS)} delivered, ~${Math.round((published * (FAILING + HANGING)) / ENDPOINTS)} failed`,
      `  queue now:         ${JSON.stringify(jobs)}`,
      `  receivers saw:     ${JSON.stringify(receiverCounts.counts)} requests; ${receiverCounts.hanging} hanging now`,
      `service logs:        ${JSON.stringify(tally.byLevel)} lines by level`,
      `  warn/error lines other than expected delivery failures: ${problems.length === 0 ? 'none' : ''}`,
      ...problems.map(([key, { count, example }]) => `    ${count} x ${key}: ${JSON.stringify(example).slice(0, 300)}`),
      `  uncaught errors:   ${unexpected.length === 0 ? 'none' : unexpected.join('\n')}`,
      `redis used_memory:   start ${mb(first.bytes)}, middle ${mb(middle.bytes)} (t=${middle.atS} s), end ${mb(last.bytes)}`,
      `  samples:           ${memory.map((m) => `${m.atS}s=${mb(m.bytes)}`).join(', ')}`,
      `  at the end:        BullMQ ${breakdown.bullmq.keys} keys ${mb(breakdown.bullmq.bytes)} (failed jobs are kept, up to 1000); records ${breakdown.records.keys} keys ${mb(breakdown.records.bytes)} (expire after ${retentionSeconds} s)`,
      `event-loop lag:      p50 ${ms(lag.percentile(50))} ms, p99 ${ms(lag.percentile(99))} ms, max ${ms(lag.max)} ms (API + worker process)`,
      `process rss:         start ${mb(rssStart)}, end ${mb(process.memoryUsage().rss)}`,
      '',
    ].join('\n'),
  );

  receivers.send('stop');
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await worker.close();
  await workerResources.close();
  await api.close();
  await client.close();
  admin.disconnect();
  await redis.stop();
  process.exit(unexpected.length > 0 ? 1 : 0);
}

const sids: string[] = [];

if (process.argv.includes('--receivers')) {
  void runReceivers();
} else {
  runSoak().catch((err: unknown) => {
    console.error(`soak failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  });
}
