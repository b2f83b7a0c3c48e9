import { bareWorkerPids, cleanSlate, deliveryProblems, subscriberWithEndpoint, type BenchContext, type PhaseResult } from '../context';
import type { SenderSpec } from '../load-generator';
import { exactlyOnce, info, type Row } from '../report';
import { BARE_KEY, cpuUsPer, HOOKRELAY_KEY, measurePipeline, redisCallsPer, redisCpuUsPer, type PipelineRun } from './pipeline';

/**
 * Subscribers the scale phase publishes for, one endpoint each, each on a port of its own on the
 * sink (a receiver of its own). With one endpoint the scheduler's caps (an endpoint holds at most
 * a quarter of a lane's slots, a subscriber 40%, across all workers) would bound the pipeline
 * whatever the worker count; four customers with four receivers let each added worker add slots.
 * (Four endpoints on ONE receiver address would measure something else: the per-worker address
 * cap parks attempts over and over, which costs Redis commands of its own.)
 */
const SUBSCRIBERS = 4;
/** Events per batch request (and per addBulk): small enough that every subscriber gets batches in quick mode. */
const BATCH_SIZE = 125;

const workersLabel = (count: number): string => `${count} worker${count === 1 ? '' : 's'}`;

/**
 * (8) Scale: the pipeline (batches through the API, delivered by deployment (b)'s workers) with 1,
 * 2 and 4 worker processes, against the bare pipeline with as many bare workers. Workers are added
 * between steps; each step's deliveries have all arrived before the next starts. On a 2-core machine
 * more processes cannot add CPU: the steps show what more processes cost (Redis commands and CPU
 * per delivery, each process's own overhead), not the throughput of a bigger machine.
 */
export async function runScale(ctx: BenchContext): Promise<PhaseResult> {
  const { scaleWorkers, scaleEvents: events } = ctx.config;

  await cleanSlate(ctx);
  const bare: PipelineRun[] = [];
  for (const [i, count] of scaleWorkers.entries()) {
    await Promise.all(ctx.bareWorkers.slice(0, count).map((w) => w.start()));
    const sender: SenderSpec = { kind: 'queue-add-bulk', idPrefix: `s${i}-`, payload: 'bench', batchSize: BATCH_SIZE };
    bare.push(await measurePipeline(ctx, events, bareWorkerPids(ctx, count), BARE_KEY, sender, i * 10_000_000));
    ctx.log(`scale baseline, ${workersLabel(count)}: ${bare[i]!.ratePerS.toFixed(0)} deliveries/s`);
  }

  await cleanSlate(ctx);
  const deployment = ctx.hookrelay.split;
  const targets = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    targets.push(
      await subscriberWithEndpoint(deployment, ctx, `bench-scale-${i}`, `/scale/${i}`, ctx.sinkOrigins[i % ctx.sinkOrigins.length]),
    );
  }
  const sender: SenderSpec = {
    kind: 'publish-batch',
    origin: deployment.origin,
    targets,
    eventType: 'custom.bench',
    payload: 'bench',
    batchSize: BATCH_SIZE,
  };
  const hookrelay: PipelineRun[] = [];
  for (const [i, count] of scaleWorkers.entries()) {
    await deployment.start(count);
    hookrelay.push(await measurePipeline(ctx, events, deployment.pids(), HOOKRELAY_KEY, sender, i * 10_000_000));
    ctx.log(
      `scale ${deployment.label}, ${workersLabel(count)}: ${hookrelay[i]!.ratePerS.toFixed(0)} deliveries/s, ${redisCallsPer(hookrelay[i]!).toFixed(1)} Redis commands per delivery`,
    );
  }
  await deployment.stop();

  const rows: Row[] = [];
  const problems: string[] = [];
  scaleWorkers.forEach((count, i) => {
    const phase = `8 scale ${workersLabel(count)}`;
    const run = hookrelay[i]!;
    const base = bare[i]!;
    rows.push(
      info(phase, `deliveries/s (${events} events, ${SUBSCRIBERS} endpoints)`, '/s', run.ratePerS, base.ratePerS),
      exactlyOnce(phase, '', run, base),
      info(phase, 'Redis commands per delivery', '', redisCallsPer(run), redisCallsPer(base)),
      info(phase, 'Redis CPU per delivery (us)', '', redisCpuUsPer(run), redisCpuUsPer(base)),
      info(phase, 'workers CPU per delivery (us, all of them)', '', cpuUsPer(run, 'worker'), cpuUsPer(base, 'worker')),
    );
    problems.push(...deliveryProblems(`scale ${count} baseline`, base), ...deliveryProblems(`scale ${count} hookrelay`, run));
  });
  return {
    rows,
    details: { subscribers: SUBSCRIBERS, batchSize: BATCH_SIZE, events, workers: scaleWorkers, baseline: bare, hookrelay },
    problems,
  };
}
