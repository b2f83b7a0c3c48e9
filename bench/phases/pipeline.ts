import { phaseTimeoutMs } from '../config';
import { startCpuMeter } from '../cpu-meter';
import {
  batchSender,
  bareWorkerPids,
  cleanSlate,
  delivery,
  deliveryProblems,
  processPids,
  sinkReset,
  sinkWait,
  subscriberWithEndpoint,
  warmUp,
  type BenchContext,
  type PhaseResult,
} from '../context';
import type { Deployment } from '../hookrelay-deployments';
import type { SenderSpec } from '../load-generator';
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
  /** CPU ms each process used over the stretch: those under test, the load generator, the sink, redis. */
  cpuMs: Record<string, number>;
}

export function summarize(
  stats: SinkStats,
  events: number,
  publishMs: number,
  redis: RedisWork,
  cpuMs: Record<string, number>,
): PipelineRun {
  const firstToLastMs = stats.lastAt - stats.firstAt;
  return {
    events,
    ratePerS: firstToLastMs > 0 ? (stats.distinct / firstToLastMs) * 1000 : 0,
    firstToLastMs,
    publishMs,
    ...delivery(stats, events),
    redis,
    cpuMs,
  };
}

/** CPU ms of the processes named, summed ('worker' also sums 'worker 1', 'worker 2'...). */
export function cpuMsOf(run: PipelineRun, ...names: string[]): number {
  return Object.entries(run.cpuMs)
    .filter(([name]) => names.some((n) => name === n || name.startsWith(`${n} `)))
    .reduce((sum, [, v]) => sum + v, 0);
}

/** CPU microseconds per delivery of the processes named. */
export function cpuUsPer(run: PipelineRun, ...names: string[]): number {
  return (cpuMsOf(run, ...names) * 1000) / run.events;
}

export const redisCallsPer = (run: PipelineRun): number => run.redis.calls / run.events;
export const redisCpuUsPer = (run: PipelineRun): number => (run.redis.cpuMs * 1000) / run.events;
/** Bytes clients sent Redis per delivery: what every writer encodes, writes and Redis parses. */
export const redisBytesInPer = (run: PipelineRun): number => run.redis.netInputBytes / run.events;

export const BARE_KEY = ['x-bench-id'] as const;
export const HOOKRELAY_KEY = ['x-hookrelay-event-id', 'x-hub-signature'] as const;

/**
 * One measured stretch with the delivering processes already running, after a warm-up through the
 * same path: the load generator hands `events` to the system (the `sender`, one call at a time)
 * and every delivery must reach the sink exactly once. Redis's work and each process's CPU are
 * measured over the stretch.
 */
export async function measurePipeline(
  ctx: BenchContext,
  events: number,
  underTest: Record<string, number>,
  sink: readonly [string, string?],
  sender: SenderSpec,
  offset = 0,
): Promise<PipelineRun> {
  await warmUp(ctx, sender, sink);
  await sinkReset(ctx, sink[0], sink[1]);
  const work = await measureRedisWork(ctx.admin, { byCall: ctx.config.redisProfile });
  const cpu = startCpuMeter(processPids(ctx, underTest));
  const { elapsedMs } = await ctx.load.closedLoop({ sender, total: events, clients: 1, offset });
  const stats = await sinkWait(ctx, events, phaseTimeoutMs(events));
  return summarize(stats, events, elapsedMs, await work.finish(), cpu.finish());
}

export const bareBulkSender = (ctx: BenchContext, idPrefix: string): SenderSpec => ({
  kind: 'queue-add-bulk',
  idPrefix,
  payload: 'bench',
  batchSize: ctx.config.batchSize,
});

/** (1) addBulk into a bare queue from the load generator while the bare worker delivers. */
async function barePipeline(ctx: BenchContext, events: number): Promise<PipelineRun> {
  await cleanSlate(ctx);
  await ctx.bareWorkers[0]!.start();
  const run = await measurePipeline(ctx, events, bareWorkerPids(ctx), BARE_KEY, bareBulkSender(ctx, 'p'));
  await ctx.bareWorkers[0]!.stop();
  return run;
}

/** (2) The same events through a deployment's batch route, delivered signed and recorded by its worker. */
async function hookrelayPipeline(ctx: BenchContext, deployment: Deployment, events: number): Promise<PipelineRun> {
  await cleanSlate(ctx);
  await deployment.start();
  const target = await subscriberWithEndpoint(deployment, ctx, 'bench-pipeline');
  const run = await measurePipeline(ctx, events, deployment.pids(), HOOKRELAY_KEY, batchSender(ctx, deployment, [target]));
  await deployment.stop();
  return run;
}

export async function runPipeline(ctx: BenchContext): Promise<PhaseResult> {
  const events = ctx.config.events;
  const baseline = await barePipeline(ctx, events);
  ctx.log(`pipeline baseline: ${baseline.ratePerS.toFixed(0)} deliveries/s, lost ${baseline.lost}, dup ${baseline.duplicates}`);
  const split = await hookrelayPipeline(ctx, ctx.hookrelay.split, events);
  ctx.log(
    `pipeline ${ctx.hookrelay.split.label}: ${split.ratePerS.toFixed(0)} deliveries/s, lost ${split.lost}, dup ${split.duplicates}, unsigned ${split.unsigned}`,
  );
  const single = await hookrelayPipeline(ctx, ctx.hookrelay.single, events);
  ctx.log(
    `pipeline ${ctx.hookrelay.single.label}: ${single.ratePerS.toFixed(0)} deliveries/s, lost ${single.lost}, dup ${single.duplicates}, unsigned ${single.unsigned}`,
  );

  const phase = '1-2 pipeline';
  const rows: Row[] = [
    atLeastRatio(phase, `(b) deliveries/s (${events} events)`, '/s', split.ratePerS, baseline.ratePerS, 0.65),
    exactlyOnce(phase, '(b) ', split, baseline),
    info(phase, '(b) Redis commands per delivery', '', redisCallsPer(split), redisCallsPer(baseline)),
    info(phase, '(b) Redis CPU per delivery (us)', '', redisCpuUsPer(split), redisCpuUsPer(baseline)),
    info(phase, '(b) bytes sent to Redis per delivery', '', redisBytesInPer(split), redisBytesInPer(baseline)),
    info(phase, '(b) worker CPU per delivery (us)', '', cpuUsPer(split, 'worker'), cpuUsPer(baseline, 'worker')),
    info(phase, '(b) API CPU per delivery (us; bare: addBulk producer)', '', cpuUsPer(split, 'api'), cpuUsPer(baseline, 'load generator')),
    info(phase, '(b) load generator CPU per delivery (us)', '', cpuUsPer(split, 'load generator'), cpuUsPer(baseline, 'load generator')),
    info(phase, `(a) deliveries/s (${events} events)`, '/s', single.ratePerS, baseline.ratePerS),
    exactlyOnce(phase, '(a) ', single, baseline),
    info(phase, '(a) Redis commands per delivery', '', redisCallsPer(single), redisCallsPer(baseline)),
    info(phase, '(a) Redis CPU per delivery (us)', '', redisCpuUsPer(single), redisCpuUsPer(baseline)),
    info(
      phase,
      '(a) npm start CPU per delivery (us; bare: worker + producer)',
      '',
      cpuUsPer(single, 'npm start'),
      cpuUsPer(baseline, 'worker', 'load generator'),
    ),
  ];
  for (const [label, run] of [
    ['(b)', split],
    ['(a)', single],
  ] as const) {
    if (run.unsigned > 0) rows.push(info(phase, `${label} deliveries without x-hub-signature`, '', run.unsigned, null));
  }
  return {
    rows,
    details: { baseline, split, single },
    problems: [
      ...deliveryProblems('pipeline baseline', baseline),
      ...deliveryProblems('pipeline (b)', split),
      ...deliveryProblems('pipeline (a)', single),
    ],
  };
}
