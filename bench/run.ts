// `npm run bench`: Hookrelay against a bare BullMQ + undici baseline, side by side in one run, on a
// private redis-server, loopback only. Prints one table and writes it to bench/results/latest.json.
// See bench/README.md for what each phase measures.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, relative } from 'node:path';
import Redis from 'ioredis';
import { startRedisServer } from '@hookrelay/testing';
import { createStore } from '@hookrelay/store';
import { createBareQueue } from './bare';
import { spawnChild, type ChildHandle } from './child';
import { withTimeout } from './clock';
import { loadBenchConfig, phaseTimeoutMs, type BenchConfig, type PhaseName } from './config';
import { baselineWorkerArgs, KEY_PREFIX, LoadGenerator, WorkerChild, type BenchContext, type PhaseResult } from './context';
import { HookrelayFleet } from './hookrelay-deployments';
import { peakRssBytes } from './hookrelay-process';
import { runFanOut } from './phases/fanout';
import { runIsolation } from './phases/isolation';
import { runIngest } from './phases/ingest';
import { runLatency } from './phases/latency';
import { runMemory } from './phases/memory';
import { runPipeline } from './phases/pipeline';
import { runScale } from './phases/scale';
import { PROFILE_SLOWLOG_LEN, redisPid } from './redis-stats';
import { formatTable, info, type Row } from './report';

const began = performance.now();
/** A progress line on stderr, stamped with the seconds since the run began. */
const log = (line: string): void =>
  void process.stderr.write(`[bench ${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);

/** Teardown steps, run last-in first-out, each bounded; `runSync` is the last resort on process exit. */
class Cleanup {
  private readonly steps: Array<{ name: string; run: () => Promise<unknown>; sync?: () => void }> = [];
  private done = false;

  add(name: string, run: () => Promise<unknown>, sync?: () => void): void {
    this.steps.push({ name, run, sync });
  }

  async runAll(): Promise<void> {
    if (this.done) return;
    this.done = true;
    for (const step of [...this.steps].reverse()) {
      await withTimeout(step.run(), 15_000, `cleanup ${step.name}`).catch((err: unknown) => {
        log(`cleanup ${step.name}: ${(err as Error).message}`);
        step.sync?.();
      });
    }
  }

  runSync(): void {
    for (const step of [...this.steps].reverse()) step.sync?.();
  }
}

const PHASE_RUNNERS: Record<PhaseName, { run: (ctx: BenchContext) => Promise<PhaseResult>; timeoutMs: (c: BenchConfig) => number }> = {
  pipeline: { run: runPipeline, timeoutMs: (c) => 2 * phaseTimeoutMs(c.events) + 60_000 },
  // Four systems (baseline, express + queue.add, (b), (a)), each warmed up, then each step and the
  // wait for its deliveries.
  latency: {
    run: runLatency,
    timeoutMs: (c) =>
      4 *
      (60_000 +
        c.latencyRatesPerS.reduce(
          (ms, rate) =>
            ms + (c.latencySeconds + c.latencyRampSeconds) * 1000 + phaseTimeoutMs(rate * (c.latencySeconds + c.latencyRampSeconds)),
          0,
        )),
  },
  fanout: { run: runFanOut, timeoutMs: () => 180_000 },
  ingest: { run: runIngest, timeoutMs: (c) => 4 * phaseTimeoutMs(c.singleIngestEvents) + 2 * phaseTimeoutMs(c.batchIngestEvents) },
  memory: { run: runMemory, timeoutMs: (c) => 4 * phaseTimeoutMs(c.events) },
  isolation: { run: runIsolation, timeoutMs: () => 180_000 },
  scale: { run: runScale, timeoutMs: (c) => 2 * c.scaleWorkers.length * phaseTimeoutMs(c.scaleEvents) + 60_000 },
};

async function setup(config: BenchConfig, cleanup: Cleanup): Promise<BenchContext> {
  const redis = await startRedisServer({ appendOnly: false });
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  const pid = await redisPid(admin);
  cleanup.add(
    'redis-server',
    () => redis.stop(),
    () => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    },
  );
  cleanup.add('admin connection', async () => admin.disconnect());
  // Profiling logs every command (it costs Redis time, so those runs' Redis CPU reads high).
  await admin.config('SET', 'slowlog-log-slower-than', config.redisProfile ? '0' : '1000');
  if (config.redisProfile) await admin.config('SET', 'slowlog-max-len', String(PROFILE_SLOWLOG_LEN));
  log(`redis-server ${redis.url} (pid ${pid}, appendonly no)`);

  if (config.cpuProfDir) {
    mkdirSync(config.cpuProfDir, { recursive: true });
    log(`CPU profiles of Hookrelay's processes and the bare workers go to ${config.cpuProfDir}`);
  }
  const spawn = async <R>(name: string, file: string): Promise<ChildHandle<R>> => {
    const child = await spawnChild<R>(name, file);
    cleanup.add(
      name,
      () => child.stop(),
      () => child.killNow(),
    );
    return child;
  };
  // One bare worker, or as many as the scale phase's largest step.
  const bareWorkerCount = config.phases.has('scale') ? Math.max(...config.scaleWorkers) : 1;
  const startHookrelay = async (): Promise<HookrelayFleet> => {
    const fleet = await HookrelayFleet.start(redis.url, KEY_PREFIX, config.cpuProfDir, config.workerSettings, log);
    cleanup.add(
      'hookrelay',
      () => fleet.close(),
      () => fleet.killNow(),
    );
    return fleet;
  };
  const [hookrelay, sink, loadChild, expressChild] = await Promise.all([
    startHookrelay(),
    spawn<{ port: number; ports: number[] }>('sink', 'sink.ts'),
    spawn('load-generator', 'load-generator.ts'),
    spawn('express-baseline', 'express-baseline.ts'),
  ]);
  const sinkOrigin = `http://127.0.0.1:${sink.ready.port}`;
  const bareWorkers = Array.from({ length: bareWorkerCount }, (_, i) => {
    const name = `baseline-worker-${i + 1}`;
    const worker = new WorkerChild(
      () => spawnChild(name, 'baseline-worker.ts', config.cpuProfDir ? { cpuProfDir: config.cpuProfDir } : {}),
      baselineWorkerArgs(config, redis.url, sinkOrigin),
    );
    cleanup.add(
      name,
      () => worker.close(),
      () => worker.killNow(),
    );
    return worker;
  });
  await loadChild.call('init', { redisUrl: redis.url });
  const express = await expressChild.call<{ port: number }>('start', { redisUrl: redis.url });
  const bareRedis = new Redis(redis.url, { maxRetriesPerRequest: null });
  const bareQueue = createBareQueue(bareRedis);
  cleanup.add('bare queue', async () => {
    await bareQueue.close();
    bareRedis.disconnect();
  });
  const lanes = createStore({ redis: admin, prefix: KEY_PREFIX }).lanes;
  return {
    config,
    redisUrl: redis.url,
    admin,
    sink,
    sinkOrigin,
    sinkOrigins: sink.ready.ports.map((port) => `http://127.0.0.1:${port}`),
    load: new LoadGenerator(loadChild),
    hookrelay,
    queued: () => lanes.readyCount(),
    bareQueue,
    bareWorkers,
    express: { origin: `http://127.0.0.1:${express.port}`, pid: expressChild.pid },
    redisPid: pid,
    log,
  };
}

function howItRan(config: BenchConfig): string[] {
  return [
    'every process below is its own OS process; the orchestrator (run.ts) only starts them, sets up subscribers and endpoints, and reads Redis between measured stretches',
    'load generator: every measured call (single and batch publishes over an undici Pool of up to 256 connections with a publisher key, bare queue.add/addBulk, POSTs to the express baseline)',
    `hookrelay (a): \`npm start\` (apps/api/src/main.ts --with-worker: API and worker in one process, the worker on a thread of its own); (b): \`npm run start:api\` and 1..n \`npm run start:worker\` processes; NODE_ENV=production, secrets encrypted, LOG_LEVEL=info to a file, worker defaults (concurrency 100, 64 connections per origin)`,
    `baseline: bare BullMQ Worker (concurrency ${config.workerConcurrency}) POSTing with an undici Pool (${config.connectionsPerOrigin} connections), one process each; express baseline: a route that parses JSON and calls queue.add, and one that does nothing`,
    'sink: node http server, answers 200 after reading the body; redis-server: private, loopback, appendonly no, no snapshots',
    'ratios are hookrelay / baseline: above 1 is better for rates, below 1 is better for times and bytes',
    ...changedSettings(config),
  ];
}

/** Said with every table, so a run with BENCH_WORKER_SETTINGS is never read as one at the defaults. */
function changedSettings(config: BenchConfig): string[] {
  const changed = Object.entries(config.workerSettings).map(([name, value]) => `${name}=${value}`);
  return changed.length ? [`NOT THE DEFAULTS: Hookrelay's processes ran with ${changed.join(' ')} (BENCH_WORKER_SETTINGS)`] : [];
}

async function main(): Promise<number> {
  const config = loadBenchConfig(process.env);
  const started = Date.now();
  const load = { start: loadavg()[0] ?? 0, end: 0 };
  const cleanup = new Cleanup();
  process.on('exit', () => cleanup.runSync());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping children and redis-server`);
      void cleanup.runAll().finally(() => process.exit(130));
    });
  }
  log(
    `${config.quick ? 'quick' : 'full'} run: ${config.events} events, phases ${[...config.phases].join(', ')}; ${cpus().length} cpus, load ${load.start.toFixed(2)}`,
  );

  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  const problems: string[] = [];
  const durationsMs: Record<string, number> = {};
  let broken: string | undefined;
  try {
    const setupStart = performance.now();
    const ctx = await withTimeout(setup(config, cleanup), 60_000, 'setup');
    durationsMs.setup = performance.now() - setupStart;
    for (const name of Object.keys(PHASE_RUNNERS) as PhaseName[]) {
      if (!config.phases.has(name)) continue;
      const phase = PHASE_RUNNERS[name];
      const phaseStart = performance.now();
      try {
        const result = await withTimeout(phase.run(ctx), phase.timeoutMs(config), `phase ${name}`);
        rows.push(...result.rows);
        details[name] = result.details;
        problems.push(...result.problems);
      } finally {
        durationsMs[name] = performance.now() - phaseStart;
        log(`${name} took ${(durationsMs[name] / 1000).toFixed(1)} s`);
      }
    }
    const mb = (b: number): number | null => (b > 0 ? b / (1024 * 1024) : null);
    const peak = ctx.hookrelay.peakRssBytes;
    const bareWorkerPeak = Math.max(0, ...ctx.bareWorkers.map((w) => w.peakRssBytes));
    rows.push(
      info('6 memory', 'peak RSS: worker process (all phases)', 'MB', mb(peak.worker), mb(bareWorkerPeak)),
      info('6 memory', 'peak RSS: (a) npm start process (bare: worker)', 'MB', mb(peak['npm start']), mb(bareWorkerPeak)),
      info(
        '6 memory',
        'peak RSS: API process (bare: express + queue.add)',
        'MB',
        mb(Math.max(peak.api, ctx.hookrelay.apiPeakRssBytes())),
        mb(peakRssBytes(ctx.express.pid)),
      ),
    );
  } catch (err) {
    broken = (err as Error).stack ?? String(err);
    log(`BROKEN: ${broken}`);
  } finally {
    await cleanup.runAll();
  }
  load.end = loadavg()[0] ?? 0;
  const totalMs = Date.now() - started;
  const exitCode = broken ? 1 : problems.length > 0 ? 2 : 0;

  // Phases run in the order that keeps workers' start/stop cheap; the table reads in the issue's order.
  const phaseNumber = (row: Row): number => Number.parseFloat(row.phase);
  rows.sort((a, b) => phaseNumber(a) - phaseNumber(b));
  // Targets are for the defaults: under other settings only nothing lost or duplicated still counts.
  if (Object.keys(config.workerSettings).length > 0) for (const row of rows) if (row.target !== '0 / 0') row.met = null;
  const how = howItRan(config);
  process.stdout.write(`\n${formatTable(rows)}\n\n${how.map((h) => `  ${h}`).join('\n')}\n`);
  process.stdout.write(
    `  ${config.quick ? 'BENCH_QUICK=1 ' : ''}npm run bench: ${(totalMs / 1000).toFixed(1)} s; load average ${load.start.toFixed(2)} -> ${load.end.toFixed(2)} on ${cpus().length} cpus\n`,
  );
  for (const p of problems) process.stdout.write(`  PROBLEM: ${p}\n`);
  if (broken) process.stdout.write(`  BROKEN: ${broken.split('\n')[0]}\n`);
  const missed = rows.filter((r) => r.met === false).map((r) => `${r.phase} ${r.metric}`);
  if (missed.length) process.stdout.write(`  targets missed (reported, not a failure): ${missed.join('; ')}\n`);

  const { resultsFile } = config;
  mkdirSync(dirname(resultsFile), { recursive: true });
  const json = {
    command: `${config.quick ? 'BENCH_QUICK=1 ' : ''}npm run bench`,
    mode: config.quick ? 'quick' : 'full',
    startedAt: new Date(started).toISOString(),
    durationMs: totalMs,
    phaseDurationsMs: durationsMs,
    machine: { cpus: cpus().length, loadAverage1m: load },
    config: { ...config, phases: [...config.phases] },
    how,
    rows,
    details,
    problems,
    broken: broken ?? null,
    exitCode,
  };
  writeFileSync(resultsFile, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`  written to ${relative(process.cwd(), resultsFile)}\n`);
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
