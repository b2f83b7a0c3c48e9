// `npm run bench`: Hookrelay against a bare BullMQ + undici baseline, side by side in one run, on a
// private redis-server, loopback only. Prints one table and writes it to bench/results/latest.json.
// See bench/README.md for what each phase measures.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, relative } from 'node:path';
import Redis from 'ioredis';
import { startRedisServer } from '@hookrelay/testing';
import { createBareQueue } from './bare';
import { spawnChild, type ChildHandle } from './child';
import { withTimeout } from './clock';
import { loadBenchConfig, phaseTimeoutMs, type BenchConfig, type PhaseName } from './config';
import { baselineWorkerArgs, hookrelayWorkerArgs, KEY_PREFIX, WorkerChild, type BenchContext, type PhaseResult } from './context';
import { startBenchApi } from './hookrelay-api';
import { runFanOut } from './phases/fanout';
import { runIsolation } from './phases/isolation';
import { runIngest } from './phases/ingest';
import { runLatency } from './phases/latency';
import { runMemory } from './phases/memory';
import { runPipeline } from './phases/pipeline';
import { redisPid } from './redis-stats';
import { formatTable, info, type Row } from './report';


const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

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
  latency: { run: runLatency, timeoutMs: (c) => 2 * (c.latencySeconds * 1000 + 45_000) },
  fanout: { run: runFanOut, timeoutMs: () => 180_000 },
  ingest: { run: runIngest, timeoutMs: (c) => 2 * phaseTimeoutMs(c.singleIngestEvents) + 2 * phaseTimeoutMs(c.events) },
  memory: { run: runMemory, timeoutMs: (c) => 4 * phaseTimeoutMs(c.events) },
  isolation: { run: runIsolation, timeoutMs: () => 180_000 },
};

async function setup(config: BenchConfig, cleanup: Cleanup): Promise<BenchContext> {
  const redis = await startRedisServer({ appendOnly: false });
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  const pid = await redisPid(admin);
  cleanup.add('redis-server', () => redis.stop(), () => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  });
  cleanup.add('admin connection', async () => admin.disconnect());
  await admin.config('SET', 'slowlog-log-slower-than', '1000');
  log(`redis-server ${redis.url} (pid ${pid}, appendonly no)`);

  if (config.cpuProfDir) {
    mkdirSync(config.cpuProfDir, { recursive: true });
    log(`worker CPU profiles go to ${config.cpuProfDir}`);
  }
  const spawn = async <R>(name: string, file: string, profile: boolean): Promise<ChildHandle<R>> => {
    const child = await spawnChild<R>(name, file, profile && config.cpuProfDir ? { cpuProfDir: config.cpuProfDir } : {});
    cleanup.add(name, () => child.stop(), () => child.killNow());
    return child;
  };
  const [sink, hookrelayChild, baselineChild] = await Promise.all([
    spawn<{ port: number }>('sink', 'sink.ts', false),
    spawn('hookrelay-worker', 'hookrelay-worker.ts', true),
    spawn('baseline-worker', 'baseline-worker.ts', true),
  ]);
  const sinkOrigin = `http://127.0.0.1:${sink.ready.port}`;

  const api = await startBenchApi(redis.url, KEY_PREFIX, config.ingestClients);
  cleanup.add('api', () => api.close());
  const bareRedis = new Redis(redis.url, { maxRetriesPerRequest: null });
  const bareQueue = createBareQueue(bareRedis);
  cleanup.add('bare queue', async () => {
    await bareQueue.close();
    bareRedis.disconnect();
  });
  return {
    config,
    redisUrl: redis.url,
    admin,
    sink,
    sinkOrigin,
    api,
    bareQueue,
    hookrelayWorker: new WorkerChild(hookrelayChild, hookrelayWorkerArgs(config, redis.url)),
    baselineWorker: new WorkerChild(baselineChild, baselineWorkerArgs(config, redis.url, sinkOrigin)),
    redisPid: pid,
    log,
  };
}

function howItRan(config: BenchConfig): string[] {
  return [
    `baseline: bare BullMQ Queue.add/addBulk in the orchestrator process; bare BullMQ Worker (concurrency ${config.workerConcurrency}) POSTing with an undici Pool (${config.connectionsPerOrigin} connections) in its own child process`,
    `hookrelay: API (createApp + buildApiDeps, as main.ts) in the orchestrator process, called over loopback with an undici Pool (${config.ingestClients} connections) and a publisher key; startDeliveryWorker (concurrency ${config.workerConcurrency}, ${config.connectionsPerOrigin} connections/origin, x-hub-signature sha256, attempt records, metrics, log lines serialized then dropped) in its own child process`,
    'sink: node http server in its own child process, answers 200 after reading the body; redis-server: private, loopback, appendonly no, no snapshots',
    'ratios are hookrelay / baseline: above 1 is better for rates, below 1 is better for times and bytes',
  ];
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
  log(`${config.quick ? 'quick' : 'full'} run: ${config.events} events, phases ${[...config.phases].join(', ')}; ${cpus().length} cpus, load ${load.start.toFixed(2)}`);

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
    rows.push(info('6 memory', 'worker peak RSS (sampled, all phases)', 'MB', mb(ctx.hookrelayWorker.peakRssBytes), mb(ctx.baselineWorker.peakRssBytes)));
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
  const how = howItRan(config);
  process.stdout.write(`\n${formatTable(rows)}\n\n${how.map((h) => `  ${h}`).join('\n')}\n`);
  process.stdout.write(`  ${config.quick ? 'BENCH_QUICK=1 ' : ''}npm run bench: ${(totalMs / 1000).toFixed(1)} s; load average ${load.start.toFixed(2)} -> ${load.end.toFixed(2)} on ${cpus().length} cpus\n`);
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
