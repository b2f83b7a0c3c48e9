import { bareJob, benchPayload } from '../bare';
import { phaseTimeoutMs } from '../config';
import { startCpuMeter } from '../cpu-meter';
import { chunks, cleanSlate, cpuPids, delivery, deliveryProblems, sinkReset, sinkWait, type BenchContext, type PhaseResult } from '../context';
import { measureRedisWork, type RedisWork } from '../redis-stats';
import { atLeastRatio, exactlyOnce, info, type Row } from '../report';
import type { SinkStats } from '../sink';

export interface PipelineRun {
  events: number;
  /** Deliveries per second from the first to the last arrival at the sink. */
  ratePerS: number;
  firstToLastMs: number;
  /** How long handing all events to the queue (addBulk / batch route) took. */
  publishMs: number;
  lost: number;
  duplicates: number;
  unsigned: number;
  redis: RedisWork;
  /** CPU ms each process used over the stretch (worker, redis, sink, orchestrator = producer or API). */
  cpuMs: Record<string, number>;
}

export function summarize(stats: SinkStats, events: number, publishMs: number, redis: RedisWork, cpuMs: Record<string, number>): PipelineRun {
  const firstToLastMs = stats.lastAt - stats.firstAt;
  return { events, ratePerS: firstToLastMs > 0 ? (stats.distinct / firstToLastMs) * 1000 : 0, firstToLastMs, publishMs, ...delivery(stats, events), redis, cpuMs };
}

/** CPU microseconds per delivery of one process over a stretch. */
export function cpuUsPer(run: PipelineRun, process: string): number {
  return ((run.cpuMs[process] ?? Number.NaN) * 1000) / run.events;
}

/** (1) addBulk into a bare queue while the bare worker delivers. */
async function baselinePipeline(ctx: BenchContext, events: number): Promise<PipelineRun> {
  await cleanSlate(ctx);
  await ctx.baselineWorker.start();
  await sinkReset(ctx, 'x-bench-id');
  const work = await measureRedisWork(ctx.admin);
  const cpu = startCpuMeter(cpuPids(ctx, ctx.baselineWorker));
  const started = performance.now();
  for (const [from, to] of chunks(events, ctx.config.batchSize)) {
    await ctx.bareQueue.addBulk(Array.from({ length: to - from }, (_, i) => bareJob(`p${from + i}`, from + i)));
  }
  const publishMs = performance.now() - started;
  const stats = await sinkWait(ctx, events, phaseTimeoutMs(events));
  const run = summarize(stats, events, publishMs, await work.finish(), cpu.finish());
  await ctx.baselineWorker.stop();
  return run;
}

/** (2) The same events through Hookrelay's batch route, delivered signed and recorded by its worker. */
async function hookrelayPipeline(ctx: BenchContext, events: number): Promise<PipelineRun> {
  await cleanSlate(ctx);
  const { client } = ctx.api;
  const { sid, publisherKey } = await client.createSubscriber('bench-pipeline');
  await client.createEndpoint(sid, `${ctx.sinkOrigin}/hook`);
  await ctx.hookrelayWorker.start();
  await sinkReset(ctx, 'x-hookrelay-event-id', 'x-hub-signature');
  const work = await measureRedisWork(ctx.admin);
  const cpu = startCpuMeter(cpuPids(ctx, ctx.hookrelayWorker));
  const started = performance.now();
  for (const [from, to] of chunks(events, ctx.config.batchSize)) {
    await client.publishBatch(
      sid,
      publisherKey,
      Array.from({ length: to - from }, (_, i) => ({ type: 'custom.bench', payload: benchPayload(from + i) })),
    );
  }
  const publishMs = performance.now() - started;
  const stats = await sinkWait(ctx, events, phaseTimeoutMs(events));
  const run = summarize(stats, events, publishMs, await work.finish(), cpu.finish());
  await ctx.hookrelayWorker.stop();
  return run;
}

export async function runPipeline(ctx: BenchContext): Promise<PhaseResult> {
  const events = ctx.config.events;
  const baseline = await baselinePipeline(ctx, events);
  ctx.log(`pipeline baseline: ${baseline.ratePerS.toFixed(0)} deliveries/s, lost ${baseline.lost}, dup ${baseline.duplicates}`);
  const hookrelay = await hookrelayPipeline(ctx, events);
  ctx.log(`pipeline hookrelay: ${hookrelay.ratePerS.toFixed(0)} deliveries/s, lost ${hookrelay.lost}, dup ${hookrelay.duplicates}, unsigned ${hookrelay.unsigned}`);
  const per = (run: PipelineRun, v: number) => v / run.events;
  const rows: Row[] = [
    atLeastRatio('1-2 pipeline', `deliveries/s (${events} events)`, '/s', hookrelay.ratePerS, baseline.ratePerS, 0.8),
    exactlyOnce('1-2 pipeline', hookrelay, baseline),
    info('1-2 pipeline', 'Redis commands per delivery', '', per(hookrelay, hookrelay.redis.calls), per(baseline, baseline.redis.calls)),
    info('1-2 pipeline', 'worker CPU per delivery (us)', '', cpuUsPer(hookrelay, 'worker'), cpuUsPer(baseline, 'worker')),
    info('1-2 pipeline', 'producer CPU per delivery (us; API vs addBulk)', '', cpuUsPer(hookrelay, 'orchestrator'), cpuUsPer(baseline, 'orchestrator')),
    info('1-2 pipeline', 'Redis CPU per delivery (us)', '', per(hookrelay, hookrelay.redis.cpuMs * 1000), per(baseline, baseline.redis.cpuMs * 1000)),
  ];
  if (hookrelay.unsigned > 0) rows.push(info('1-2 pipeline', 'deliveries without x-hub-signature', '', hookrelay.unsigned, null));
  return { rows, details: { baseline, hookrelay }, problems: [...deliveryProblems('pipeline baseline', baseline), ...deliveryProblems('pipeline hookrelay', hookrelay)] };
}
