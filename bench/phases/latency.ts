import { bareJob, benchPayload } from '../bare';
import { epochMs, percentile } from '../clock';
import { startCpuMeter } from '../cpu-meter';
import { cleanSlate, closedLoop, cpuPids, deliveryProblems, sinkReset, sinkWait, type BenchContext, type PhaseResult } from '../context';
import { atMost, info, type Row } from '../report';

export interface OpenLoopResult {
  /** Publish start (epoch ms) by the key the sink will see. */
  starts: Map<string, number>;
  /** Publish start to its answer (event accepted), ms, sorted. */
  answered: number[];
  sent: number;
  errors: number;
  firstError?: string;
  achievedRatePerS: number;
}

/**
 * Sends at a steady rate whatever the answers' speed (an open loop: a slow server does not slow the
 * sender down and hide its own latency). The clock is checked every millisecond and every publish
 * that is due is started, stamped with the time it actually started.
 */
export async function openLoop(ratePerS: number, seconds: number, send: (index: number) => Promise<string>): Promise<OpenLoopResult> {
  const total = Math.round(ratePerS * seconds);
  const starts = new Map<string, number>();
  const answered: number[] = [];
  const inflight: Promise<void>[] = [];
  let sent = 0;
  let errors = 0;
  let firstError: string | undefined;
  const began = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - began) * ratePerS) / 1000) + 1);
      while (sent < due) {
        const index = sent++;
        const t0 = epochMs();
        inflight.push(
          send(index).then(
            (key) => {
              starts.set(key, t0);
              answered.push(epochMs() - t0);
            },
            (err: unknown) => {
              errors++;
              firstError ??= (err as Error).message;
            },
          ),
        );
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 1);
    tick();
  });
  const sendingMs = performance.now() - began;
  await Promise.all(inflight);
  answered.sort((a, b) => a - b);
  return { starts, answered, sent, errors, firstError, achievedRatePerS: (sent / Math.max(sendingMs, 1)) * 1000 };
}

/** Publishes that warm the path up (JIT, lazily built schemas, connection pools) before the clock starts. */
const WARM_UP_EVENTS = 500;

/** Sends WARM_UP_EVENTS from a few clients and waits for them all at the sink, then clears the sink. */
export async function warmUp(ctx: BenchContext, send: (index: number) => Promise<string>, keyHeader: string, requireHeader?: string): Promise<void> {
  await sinkReset(ctx, keyHeader, requireHeader);
  await closedLoop(WARM_UP_EVENTS, 8, (i) => send(1_000_000 + i));
  await sinkWait(ctx, WARM_UP_EVENTS, 30_000);
  await sinkReset(ctx, keyHeader, requireHeader);
}

export interface LatencyRun {
  sent: number;
  errors: number;
  firstError?: string;
  lost: number;
  achievedRatePerS: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Publish answered (accepted) percentiles: the API's share of the latency. */
  answeredP50: number;
  answeredP99: number;
}

export async function measureLatency(ctx: BenchContext, loop: OpenLoopResult): Promise<LatencyRun> {
  const stats = await sinkWait(ctx, loop.starts.size, 30_000, true);
  const arrivals = new Map(stats.times ?? []);
  const latencies: number[] = [];
  for (const [key, t0] of loop.starts) {
    const at = arrivals.get(key);
    if (at !== undefined) latencies.push(at - t0);
  }
  latencies.sort((a, b) => a - b);
  return {
    sent: loop.sent,
    errors: loop.errors,
    firstError: loop.firstError,
    lost: loop.starts.size - latencies.length,
    achievedRatePerS: loop.achievedRatePerS,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? Number.NaN,
    answeredP50: percentile(loop.answered, 50),
    answeredP99: percentile(loop.answered, 99),
  };
}

export async function runLatency(ctx: BenchContext): Promise<PhaseResult> {
  const { latencyRatePerS: rate, latencySeconds: seconds } = ctx.config;

  await cleanSlate(ctx);
  await ctx.baselineWorker.start();
  const bareSend = async (i: number): Promise<string> => {
    const job = bareJob(`l${i}`, i);
    await ctx.bareQueue.add(job.name, job.data, job.opts);
    return job.data.id;
  };
  await warmUp(ctx, bareSend, 'x-bench-id');
  const bareCpu = startCpuMeter(cpuPids(ctx, ctx.baselineWorker));
  const bareLoop = await openLoop(rate, seconds, bareSend);
  const bareUsed = bareCpu.finish();
  const baseline = await measureLatency(ctx, bareLoop);
  await ctx.baselineWorker.stop();
  ctx.log(`latency baseline: p50 ${baseline.p50.toFixed(1)} p99 ${baseline.p99.toFixed(1)} ms at ${baseline.achievedRatePerS.toFixed(0)}/s`);

  await cleanSlate(ctx);
  const { client } = ctx.api;
  const { sid, publisherKey } = await client.createSubscriber('bench-latency');
  await client.createEndpoint(sid, `${ctx.sinkOrigin}/hook`);
  await ctx.hookrelayWorker.start();
  const publish = (i: number): Promise<string> => client.publish(sid, publisherKey, { type: 'custom.bench', payload: benchPayload(i) });
  await warmUp(ctx, publish, 'x-hookrelay-event-id', 'x-hub-signature');
  const hookrelayCpu = startCpuMeter(cpuPids(ctx, ctx.hookrelayWorker));
  const hookrelayLoop = await openLoop(rate, seconds, publish);
  const hookrelayUsed = hookrelayCpu.finish();
  const hookrelay = await measureLatency(ctx, hookrelayLoop);
  await ctx.hookrelayWorker.stop();
  ctx.log(`latency hookrelay: p50 ${hookrelay.p50.toFixed(1)} p99 ${hookrelay.p99.toFixed(1)} ms (answered p50 ${hookrelay.answeredP50.toFixed(1)} p99 ${hookrelay.answeredP99.toFixed(1)}) at ${hookrelay.achievedRatePerS.toFixed(0)}/s, errors ${hookrelay.errors}`);

  const phase = `4 latency ${rate}/s x ${seconds}s`;
  const rows: Row[] = [
    info(phase, 'publish-to-arrival p50', 'ms', hookrelay.p50, baseline.p50),
    info(phase, 'publish-to-arrival p95', 'ms', hookrelay.p95, baseline.p95),
    atMost(phase, 'publish-to-arrival p99', 'ms', hookrelay.p99, baseline.p99, 50),
    info(phase, 'publish answered p50', 'ms', hookrelay.answeredP50, baseline.answeredP50),
    info(phase, 'publish answered p99', 'ms', hookrelay.answeredP99, baseline.answeredP99),
    info(phase, 'achieved publish rate', '/s', hookrelay.achievedRatePerS, baseline.achievedRatePerS),
    // Which process is busiest while the rate holds: the one that queues requests when it saturates.
    ...(['orchestrator', 'worker', 'redis'] as const).map((name) =>
      info(phase, `${name === 'orchestrator' ? 'API+sender (vs queue.add)' : name} CPU, % of a core`, '', ((hookrelayUsed[name] ?? Number.NaN) / (seconds * 1000)) * 100, ((bareUsed[name] ?? Number.NaN) / (seconds * 1000)) * 100),
    ),
  ];
  if (hookrelay.errors + hookrelay.lost + baseline.errors + baseline.lost > 0) {
    rows.push(info(phase, 'publish errors / lost', '', `${hookrelay.errors} / ${hookrelay.lost}`, `${baseline.errors} / ${baseline.lost}`));
  }
  const problems = [...deliveryProblems('latency baseline', { ...baseline, duplicates: 0 }), ...deliveryProblems('latency hookrelay', { ...hookrelay, duplicates: 0 })];
  return { rows, details: { baseline: { ...baseline, cpuMs: bareUsed }, hookrelay: { ...hookrelay, cpuMs: hookrelayUsed } }, problems };
}
