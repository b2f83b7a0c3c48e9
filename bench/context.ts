import type { Queue } from 'bullmq';
import type Redis from 'ioredis';
import type { BareJobData } from './bare';
import { BARE_PREFIX, BARE_QUEUE_NAME } from './bare';
import type { BaselineWorkerStartArgs } from './baseline-worker';
import type { ChildHandle } from './child';
import type { BenchConfig } from './config';
import type { BenchApi } from './hookrelay-api';
import type { HookrelayWorkerStartArgs } from './hookrelay-worker';
import type { SinkStats } from './sink';

export const KEY_PREFIX = 'hookrelay';

/** A worker child that is started and stopped between phases; its peak RSS is kept across them. */
export class WorkerChild {
  peakRssBytes = 0;
  private running = false;

  constructor(
    readonly child: ChildHandle,
    private readonly startArgs: HookrelayWorkerStartArgs | BaselineWorkerStartArgs,
  ) {}

  async start(): Promise<void> {
    if (this.running) return;
    await this.child.call('start', this.startArgs);
    this.running = true;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    const { peakRssBytes } = await this.child.call<{ peakRssBytes: number }>('stop', undefined, 60_000);
    this.peakRssBytes = Math.max(this.peakRssBytes, peakRssBytes);
  }
}

export interface BenchContext {
  config: BenchConfig;
  redisUrl: string;
  /** For INFO, CONFIG and FLUSHDB. */
  admin: Redis;
  sink: ChildHandle<{ port: number }>;
  sinkOrigin: string;
  api: BenchApi;
  bareQueue: Queue<BareJobData>;
  hookrelayWorker: WorkerChild;
  baselineWorker: WorkerChild;
  redisPid: number;
  log(line: string): void;
}

/** Process ids whose CPU time a measured stretch records; `worker` is the one under test. */
export function cpuPids(ctx: BenchContext, worker: WorkerChild): Record<string, number> {
  return { worker: worker.child.pid, redis: ctx.redisPid, sink: ctx.sink.pid, orchestrator: process.pid };
}

export function baselineWorkerArgs(config: BenchConfig, redisUrl: string, sinkOrigin: string): BaselineWorkerStartArgs {
  return { redisUrl, queueName: BARE_QUEUE_NAME, prefix: BARE_PREFIX, concurrency: config.workerConcurrency, connections: config.connectionsPerOrigin, sinkOrigin };
}

export function hookrelayWorkerArgs(config: BenchConfig, redisUrl: string): HookrelayWorkerStartArgs {
  return { redisUrl, keyPrefix: KEY_PREFIX, concurrency: config.workerConcurrency, connectionsPerOrigin: config.connectionsPerOrigin };
}

/** Workers stopped and Redis emptied: each measured stretch starts from the same clean state. */
export async function cleanSlate(ctx: BenchContext): Promise<void> {
  await ctx.hookrelayWorker.stop();
  await ctx.baselineWorker.stop();
  await ctx.admin.flushdb();
}

export async function sinkReset(ctx: BenchContext, keyHeader: string, requireHeader?: string): Promise<void> {
  await ctx.sink.call('reset', { keyHeader, requireHeader });
}

export async function sinkWait(ctx: BenchContext, count: number, timeoutMs: number, withTimes = false): Promise<SinkStats> {
  return ctx.sink.call<SinkStats>('wait', { count, timeoutMs, settleMs: 250, withTimes }, timeoutMs + 10_000);
}

/** Runs `total` calls of `send` from `clients` concurrent loops; resolves with the elapsed ms. */
export async function closedLoop(total: number, clients: number, send: (index: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(clients, total) }, async () => {
      for (let i = next++; i < total; i = next++) await send(i);
    }),
  );
  return performance.now() - started;
}

/** Chunks [0, total) into ranges of `size`. */
export function chunks(total: number, size: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let start = 0; start < total; start += size) out.push([start, Math.min(total, start + size)]);
  return out;
}

/** Deliveries that did not arrive, and arrivals beyond one per delivery. */
export function delivery(stats: SinkStats, expected: number) {
  return { lost: Math.max(0, expected - stats.distinct), duplicates: stats.duplicates, unsigned: stats.missingRequired };
}

/** What a phase measured, and anything that means the run must fail (lost or duplicated deliveries). */
export interface PhaseResult {
  rows: import('./report').Row[];
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
