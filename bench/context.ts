import type { Queue } from 'bullmq';
import type Redis from 'ioredis';
import type { BareJobData } from './bare';
import { BARE_PREFIX, BARE_QUEUE_NAME } from './bare';
import type { BaselineWorkerStartArgs } from './baseline-worker';
import type { ChildHandle } from './child';
import { phaseTimeoutMs, type BenchConfig } from './config';
import type { Deployment, HookrelayFleet } from './hookrelay-deployments';
import { peakRssBytes } from './hookrelay-process';
import type { ClosedLoopArgs, OpenLoopArgs, PayloadKind, PublishTarget, SenderSpec } from './load-generator';
import type { OpenLoopResult } from './loops';
import type { Row } from './report';
import type { SinkStats } from './sink';

export const KEY_PREFIX = 'hookrelay';

/**
 * A bare worker child (baseline-worker.ts): its process is spawned at the first start and kept (a
 * warm process, as a deployed worker is) unless a start asks for a fresh one; its BullMQ worker is
 * started and stopped between stretches. Its peak RSS is kept across processes.
 */
export class WorkerChild {
  peakRssBytes = 0;
  private child: ChildHandle | undefined;
  private running = false;

  constructor(
    private readonly spawn: () => Promise<ChildHandle>,
    private readonly startArgs: BaselineWorkerStartArgs,
  ) {}

  /** The running process's pid (0 before the first start). */
  get pid(): number {
    return this.child?.pid ?? 0;
  }

  /** Starts delivering; `fresh` first replaces the process with a new one (cold, as Hookrelay's are when they start). */
  async start(options: { fresh?: boolean } = {}): Promise<void> {
    if (options.fresh) await this.close();
    this.child ??= await this.spawn();
    if (this.running) return;
    await this.child.call('start', this.startArgs);
    this.running = true;
  }

  async stop(): Promise<void> {
    if (!this.running || !this.child) return;
    this.running = false;
    await this.child.call('stop', undefined, 60_000);
    this.peakRssBytes = Math.max(this.peakRssBytes, peakRssBytes(this.child.pid));
  }

  /** Stops it and ends its process. */
  async close(): Promise<void> {
    await this.stop();
    const child = this.child;
    this.child = undefined;
    await child?.stop();
  }

  killNow(): void {
    this.child?.killNow();
  }
}

/** The orchestrator's handle on the load generator child: every measured call of a run starts there. */
export class LoadGenerator {
  constructor(private readonly child: ChildHandle) {}

  get pid(): number {
    return this.child.pid;
  }

  /** `total` calls (events, for the batch kinds) from `clients` loops; when it started (epoch ms) and how long it took. */
  closedLoop(args: ClosedLoopArgs): Promise<{ startedAt: number; elapsedMs: number }> {
    return this.child.call('closedLoop', args, phaseTimeoutMs(args.total));
  }

  /** Resolves once every call has been answered: a saturated server may answer long after the sending stopped. */
  openLoop(args: OpenLoopArgs): Promise<OpenLoopResult> {
    const seconds = args.seconds + (args.rampSeconds ?? 0);
    return this.child.call('openLoop', args, seconds * 1000 + phaseTimeoutMs(Math.round(args.ratePerS * seconds)));
  }
}

export interface BenchContext {
  config: BenchConfig;
  redisUrl: string;
  /** For INFO, CONFIG, FLUSHDB and the counts below; never in a measured path. */
  admin: Redis;
  sink: ChildHandle<{ port: number; ports: number[] }>;
  /** The sink's usual origin, and every port's (one receiver address each). */
  sinkOrigin: string;
  sinkOrigins: string[];
  load: LoadGenerator;
  /** Hookrelay's processes: deployments (a) `npm start` and (b) API + workers. */
  hookrelay: HookrelayFleet;
  /** Deliveries waiting in the scheduler's lanes (read with the orchestrator's own connection). */
  queued(): Promise<number>;
  /** The bare queue, for counting its jobs (the load generator's own queue adds them). */
  bareQueue: Queue<BareJobData>;
  /** Bare worker children: one, or as many as the scale phase's largest step (spawned at their first start). */
  bareWorkers: WorkerChild[];
  /** The express baseline child (express-baseline.ts). */
  express: { origin: string; pid: number };
  redisPid: number;
  log(line: string): void;
}

/** The processes whose CPU a stretch records: those under test, then the load generator, the sink and Redis. */
export function processPids(ctx: BenchContext, underTest: Record<string, number>): Record<string, number> {
  return { ...underTest, 'load generator': ctx.load.pid, sink: ctx.sink.pid, redis: ctx.redisPid };
}

/** The first `count` bare workers by name ('worker', or 'worker 1'...), as Hookrelay's are named. */
export function bareWorkerPids(ctx: BenchContext, count = 1): Record<string, number> {
  const workers = ctx.bareWorkers.slice(0, count);
  if (workers.length === 1) return { worker: workers[0]!.pid };
  return Object.fromEntries(workers.map((w, i) => [`worker ${i + 1}`, w.pid]));
}

export function baselineWorkerArgs(config: BenchConfig, redisUrl: string, sinkOrigin: string): BaselineWorkerStartArgs {
  return {
    redisUrl,
    queueName: BARE_QUEUE_NAME,
    prefix: BARE_PREFIX,
    concurrency: config.workerConcurrency,
    connections: config.connectionsPerOrigin,
    sinkOrigin,
  };
}

/** Every worker and (a)'s process stopped and Redis emptied: each measured stretch starts from the same state. */
export async function cleanSlate(ctx: BenchContext): Promise<void> {
  await ctx.hookrelay.split.stop();
  await ctx.hookrelay.single.stop();
  await Promise.all(ctx.bareWorkers.map((w) => w.stop()));
  await ctx.admin.flushdb();
}

export async function sinkReset(ctx: BenchContext, keyHeader: string, requireHeader?: string): Promise<void> {
  await ctx.sink.call('reset', { keyHeader, requireHeader });
}

export async function sinkWait(ctx: BenchContext, count: number, timeoutMs: number, withTimes = false): Promise<SinkStats> {
  return ctx.sink.call<SinkStats>('wait', { count, timeoutMs, settleMs: 250, withTimes }, timeoutMs + 10_000);
}

/**
 * Warms the path up before a measured stretch (JIT in every process, lazily built schemas and
 * caches, connection pools): `warmUpEvents` calls of `sender` from 8 clients of the load generator,
 * all waited for at the sink. Hookrelay's processes are fresh when a stretch starts; this is what
 * keeps their first seconds out of the figures, and the baselines get the same.
 */
export async function warmUp(ctx: BenchContext, sender: SenderSpec, sink: readonly [string, string?]): Promise<void> {
  const events = ctx.config.warmUpEvents;
  await sinkReset(ctx, sink[0], sink[1]);
  await ctx.load.closedLoop({ sender, total: events, clients: 8, offset: 1_000_000 });
  await sinkWait(ctx, events, 30_000);
}

/** Single publishes of `custom.bench` (or `eventType`) through a deployment's API, to the targets in turn. */
export function publishSender(
  deployment: Deployment,
  targets: PublishTarget[],
  eventType = 'custom.bench',
  payload: PayloadKind = 'bench',
): SenderSpec {
  return { kind: 'publish', origin: deployment.origin, targets, eventType, payload };
}

export function batchSender(
  ctx: BenchContext,
  deployment: Deployment,
  targets: PublishTarget[],
  eventType = 'custom.bench',
  payload: PayloadKind = 'bench',
): SenderSpec {
  return { kind: 'publish-batch', origin: deployment.origin, targets, eventType, payload, batchSize: ctx.config.batchSize };
}

/** A subscriber with one x-hub-signature endpoint on the sink at `path`; its publish target. */
export async function subscriberWithEndpoint(
  deployment: Deployment,
  ctx: BenchContext,
  name: string,
  path = '/hook',
  origin = ctx.sinkOrigin,
): Promise<PublishTarget> {
  const target = await deployment.client.createSubscriber(name);
  await deployment.client.createEndpoint(target.sid, `${origin}${path}`);
  return target;
}

/** Deliveries that did not arrive, and arrivals beyond one per delivery. */
export function delivery(stats: SinkStats, expected: number) {
  return { lost: Math.max(0, expected - stats.distinct), duplicates: stats.duplicates, unsigned: stats.missingRequired };
}

/** What a phase measured, and anything that means the run must fail (lost or duplicated deliveries). */
export interface PhaseResult {
  rows: Row[];
  details: unknown;
  problems: string[];
}

export function deliveryProblems(label: string, run: { lost: number; duplicates: number; unsigned?: number; errors?: number }): string[] {
  const out: string[] = [];
  if (run.lost > 0) out.push(`${label}: ${run.lost} deliveries lost`);
  if (run.duplicates > 0) out.push(`${label}: ${run.duplicates} duplicate arrivals`);
  if (run.unsigned) out.push(`${label}: ${run.unsigned} deliveries without a signature`);
  if (run.errors) out.push(`${label}: ${run.errors} publish errors`);
  return out;
}

/** CPU time of each process over a stretch as % of one core, rounded: "api 61, worker 40, ...". */
export function cpuPercentages(cpuMs: Record<string, number>, seconds: number): string {
  return Object.entries(cpuMs)
    .map(([name, ms]) => `${name} ${Math.round((ms / (seconds * 1000)) * 100)}`)
    .join(', ');
}
