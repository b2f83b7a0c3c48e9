import { EXPRESS_QUEUE_ADD_PATH } from '../bare';
import { percentile } from '../clock';
import { phaseTimeoutMs } from '../config';
import { startCpuMeter } from '../cpu-meter';
import {
  bareWorkerPids,
  cleanSlate,
  cpuPercentages,
  deliveryProblems,
  processPids,
  publishSender,
  sinkReset,
  sinkWait,
  subscriberWithEndpoint,
  warmUp,
  type BenchContext,
  type PhaseResult,
} from '../context';
import type { Deployment } from '../hookrelay-deployments';
import type { SenderSpec } from '../load-generator';
import type { OpenLoopResult } from '../loops';
import { atMost, info, type Row } from '../report';
import { BARE_KEY, HOOKRELAY_KEY } from './pipeline';

/** The express baseline's `queue.add` route in front of the bare worker (express-baseline.ts, baseline-worker.ts). */
const HTTP_CEILING = 'express + queue.add + bare worker';

/** The bound on p99 publish-to-arrival (issue 22: at up to 2,000 events/s). */
const P99_TARGET_MS = 50;
const P99_TARGET_UP_TO_RATE = 2_000;

export interface LatencyRun {
  ratePerS: number;
  seconds: number;
  sent: number;
  errors: number;
  firstError?: string;
  lost: number;
  achievedRatePerS: number;
  /** Publish start (in the load generator) to first arrival at the sink, ms. */
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Publish start to its answer (202): the API's share of the latency. */
  answeredP50: number;
  answeredP95: number;
  answeredP99: number;
  /** The step up to the rate: its first `rampSeconds`, sent before the measured seconds and not in the figures above. */
  ramp: { seconds: number; p99: number; answeredP99: number; max: number; lost: number };
  /** CPU ms of each process over the step (ramp and measured seconds). */
  cpuMs: Record<string, number>;
}

/** Each process's CPU over a step, its ramp included, as % of a core. */
function stepCpu(run: LatencyRun): string {
  return cpuPercentages(run.cpuMs, run.seconds + run.ramp.seconds);
}

/** Publish-to-arrival of each answered call whose publish arrived, sorted. */
function arrivalLatencies(starts: ReadonlyArray<[string, number]>, arrivals: Map<string, number>): number[] {
  const latencies: number[] = [];
  for (const [key, t0] of starts) {
    const at = arrivals.get(key);
    if (at !== undefined) latencies.push(at - t0);
  }
  return latencies.sort((a, b) => a - b);
}

function latencyOf(
  loop: OpenLoopResult,
  arrivals: Map<string, number>,
  ratePerS: number,
  seconds: number,
  rampSeconds: number,
  cpuMs: Record<string, number>,
): LatencyRun {
  const latencies = arrivalLatencies(loop.starts, arrivals);
  const ramp = arrivalLatencies(loop.ramp.starts, arrivals);
  return {
    ratePerS,
    seconds,
    sent: loop.sent,
    errors: loop.errors,
    firstError: loop.firstError,
    lost: loop.starts.length - latencies.length,
    achievedRatePerS: loop.achievedRatePerS,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? Number.NaN,
    answeredP50: percentile(loop.answered, 50),
    answeredP95: percentile(loop.answered, 95),
    answeredP99: percentile(loop.answered, 99),
    ramp: {
      seconds: rampSeconds,
      p99: percentile(ramp, 99),
      answeredP99: percentile(loop.ramp.answered, 99),
      max: ramp[ramp.length - 1] ?? Number.NaN,
      lost: loop.ramp.starts.length - ramp.length,
    },
    cpuMs,
  };
}

/**
 * One step: the load generator sends at `ratePerS` for `rampSeconds` and then, without a pause, for
 * the measured `seconds` (open loop) while the processes under test run; then every answered
 * publish's arrival is waited for. The ramp is the step up from the rate before (connections the
 * load generator's pool opens, code paths a higher rate takes for the first time): the figures
 * of a rate that holds are the measured seconds', and the ramp's are kept beside them.
 */
export async function latencyStep(
  ctx: BenchContext,
  sender: SenderSpec,
  ratePerS: number,
  seconds: number,
  underTest: Record<string, number>,
  sink: readonly [string, string?],
  offset = 0,
  rampSeconds = 0,
): Promise<LatencyRun> {
  await sinkReset(ctx, sink[0], sink[1]);
  const cpu = startCpuMeter(processPids(ctx, underTest));
  const loop = await ctx.load.openLoop({ sender, ratePerS, seconds, offset, rampSeconds });
  const cpuMs = cpu.finish();
  const calls = loop.starts.length + loop.ramp.starts.length;
  const stats = await sinkWait(ctx, calls, phaseTimeoutMs(calls), true);
  return latencyOf(loop, new Map(stats.times ?? []), ratePerS, seconds, rampSeconds, cpuMs);
}

/** Every step of one system, warmed up first; steps run in order, each after the last one's deliveries all arrived. */
async function steps(
  ctx: BenchContext,
  label: string,
  sender: SenderSpec,
  underTest: () => Record<string, number>,
  sink: readonly [string, string?],
): Promise<LatencyRun[]> {
  const { latencyRatesPerS, latencySeconds, latencyRampSeconds } = ctx.config;
  await warmUp(ctx, sender, sink);
  const runs: LatencyRun[] = [];
  for (const [i, rate] of latencyRatesPerS.entries()) {
    const run = await latencyStep(ctx, sender, rate, latencySeconds, underTest(), sink, i * 10_000_000, latencyRampSeconds);
    ctx.log(
      `latency ${label} ${rate}/s: p50 ${run.p50.toFixed(1)} p99 ${run.p99.toFixed(1)} ms, answered p99 ${run.answeredP99.toFixed(1)} ms, ` +
        `achieved ${run.achievedRatePerS.toFixed(0)}/s, errors ${run.errors}, lost ${run.lost + run.ramp.lost}; ` +
        `first ${run.ramp.seconds} s at the rate: p99 ${run.ramp.p99.toFixed(1)} ms, answered p99 ${run.ramp.answeredP99.toFixed(1)} ms; ` +
        `CPU % ${stepCpu(run)}`,
    );
    runs.push(run);
  }
  return runs;
}

async function hookrelaySteps(ctx: BenchContext, deployment: Deployment): Promise<LatencyRun[]> {
  await cleanSlate(ctx);
  await deployment.start();
  const target = await subscriberWithEndpoint(deployment, ctx, 'bench-latency');
  const runs = await steps(ctx, deployment.label, publishSender(deployment, [target]), () => deployment.pids(), HOOKRELAY_KEY);
  await deployment.stop();
  return runs;
}

/** A step counts when every publish was answered and arrived, the rate held, and p99 was under the bound. */
function held(run: LatencyRun): boolean {
  return (
    run.errors === 0 && run.lost === 0 && run.ramp.lost === 0 && run.achievedRatePerS >= 0.95 * run.ratePerS && run.p99 < P99_TARGET_MS
  );
}

/** The highest step rate at which p99 stayed under the bound, with every lower step under it too; null if none. */
export function highestRateUnder(runs: readonly LatencyRun[]): number | null {
  let highest: number | null = null;
  for (const run of runs) {
    if (!held(run)) break;
    highest = run.ratePerS;
  }
  return highest;
}

function stepRows(phase: string, label: string, run: LatencyRun, bare: LatencyRun): Row[] {
  const p99 =
    run.ratePerS <= P99_TARGET_UP_TO_RATE
      ? atMost(phase, `${label} publish-to-arrival p99`, 'ms', run.p99, bare.p99, P99_TARGET_MS)
      : info(phase, `${label} publish-to-arrival p99`, 'ms', run.p99, bare.p99);
  return [
    info(phase, `${label} publish-to-arrival p50`, 'ms', run.p50, bare.p50),
    info(phase, `${label} publish-to-arrival p95`, 'ms', run.p95, bare.p95),
    p99,
    info(phase, `${label} publish answered p50`, 'ms', run.answeredP50, bare.answeredP50),
    info(phase, `${label} publish answered p99`, 'ms', run.answeredP99, bare.answeredP99),
    info(phase, `${label} achieved publish rate`, '/s', run.achievedRatePerS, bare.achievedRatePerS),
    info(phase, `${label} first ${run.ramp.seconds} s at the rate (not above): p99`, 'ms', run.ramp.p99, bare.ramp.p99),
    // Which process is busiest while the rate holds: the one that queues requests when it saturates.
    info(phase, `${label} CPU, % of a core`, '', stepCpu(run), stepCpu(bare)),
  ];
}

/**
 * (4) Latency at each rate of `latencyRatesPerS`: single publishes from the load generator (open
 * loop) to each deployment, against bare `queue.add` from the same load generator with the bare
 * worker; the sink stamps each arrival. Beside them, the same publishes over HTTP to the express
 * baseline's `queue.add` route in front of the bare worker: what any express + BullMQ service
 * could do on this machine, with no records, signatures or scheduler.
 */
export async function runLatency(ctx: BenchContext): Promise<PhaseResult> {
  const { latencyRatesPerS: rates, latencySeconds: seconds } = ctx.config;

  await cleanSlate(ctx);
  const bareWorker = ctx.bareWorkers[0]!;
  await bareWorker.start();
  const baseline = await steps(
    ctx,
    'baseline',
    { kind: 'queue-add', idPrefix: 'l', payload: 'bench' },
    () => bareWorkerPids(ctx),
    BARE_KEY,
  );
  const httpCeiling = await steps(
    ctx,
    'express + queue.add + bare worker',
    { kind: 'post', origin: ctx.express.origin, path: EXPRESS_QUEUE_ADD_PATH, payload: 'bench' },
    () => ({ express: ctx.express.pid, ...bareWorkerPids(ctx) }),
    BARE_KEY,
  );
  await bareWorker.stop();
  const split = await hookrelaySteps(ctx, ctx.hookrelay.split);
  const single = await hookrelaySteps(ctx, ctx.hookrelay.single);

  const rows: Row[] = [];
  const problems: string[] = [];
  rates.forEach((rate, i) => {
    const phase = `4 latency ${rate}/s x ${seconds}s`;
    const bare = baseline[i]!;
    rows.push(...stepRows(phase, '(b)', split[i]!, bare), ...stepRows(phase, '(a)', single[i]!, bare));
    const http = httpCeiling[i]!;
    rows.push(
      info(phase, `(b) publish-to-arrival p99 vs ${HTTP_CEILING}`, 'ms', split[i]!.p99, http.p99),
      info(phase, `(b) publish answered p99 vs ${HTTP_CEILING}`, 'ms', split[i]!.answeredP99, http.answeredP99),
      info(phase, `(b) CPU, % of a core, vs ${HTTP_CEILING}`, '', stepCpu(split[i]!), stepCpu(http)),
    );
    for (const [label, run] of [
      ['baseline', bare],
      [HTTP_CEILING, http],
      ['(b)', split[i]!],
      ['(a)', single[i]!],
    ] as const) {
      problems.push(...deliveryProblems(`latency ${label} at ${rate}/s`, { ...run, lost: run.lost + run.ramp.lost, duplicates: 0 }));
      if (run.errors > 0) ctx.log(`latency ${label} at ${rate}/s: first publish error: ${run.firstError}`);
    }
  });
  const tried = `of ${rates.join(', ')}/s`;
  for (const [label, runs] of [
    ['(b)', split],
    ['(a)', single],
  ] as const) {
    rows.push(
      info(
        `4 latency`,
        `${label} highest rate with p99 < ${P99_TARGET_MS} ms (${tried})`,
        '/s',
        highestRateUnder(runs),
        highestRateUnder(baseline),
      ),
    );
  }
  rows.push(
    info(
      `4 latency`,
      `(b) highest rate with p99 < ${P99_TARGET_MS} ms vs ${HTTP_CEILING} (${tried})`,
      '/s',
      highestRateUnder(split),
      highestRateUnder(httpCeiling),
    ),
  );
  return { rows, details: { ratesPerS: rates, seconds, baseline, httpCeiling, split, single }, problems };
}
