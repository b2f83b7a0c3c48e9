import { PAYLOAD_BYTES } from '../bare';
import { sleep } from '../clock';
import { phaseTimeoutMs } from '../config';
import { startCpuMeter } from '../cpu-meter';
import {
  bareWorkerPids,
  batchSender,
  cleanSlate,
  deliveryProblems,
  processPids,
  sinkReset,
  sinkWait,
  subscriberWithEndpoint,
  type BenchContext,
  type PhaseResult,
} from '../context';
import { measureRedisWork, memoryByKeyKind, usedMemory, type KeyKindUsage } from '../redis-stats';
import { atMost, exactlyOnce, info } from '../report';
import { BARE_KEY, bareBulkSender, cpuMsOf, HOOKRELAY_KEY, summarize, type PipelineRun } from './pipeline';

/** A drain: a pipeline run whose per-delivery figures count the deliveries made once the workers ran. */
type DrainRun = PipelineRun & { measuredEvents: number };

interface MemoryRun {
  events: number;
  usedBefore: number;
  usedAfter: number;
  bytesPerPending: number;
  /** MEMORY USAGE by kind of key, per pending delivery. */
  byKeyKind: Array<KeyKindUsage & { bytesPerDelivery: number }>;
  /** Worker-only throughput: the queue already full when the worker starts. */
  drain: DrainRun;
}

function perDelivery(kinds: KeyKindUsage[], events: number): MemoryRun['byKeyKind'] {
  return kinds.filter((k) => k.bytes / events >= 1).map((k) => ({ ...k, bytesPerDelivery: Math.round(k.bytes / events) }));
}

function describeKinds(run: MemoryRun): string {
  return run.byKeyKind
    .slice(0, 8)
    .map((k) => `${k.kind} ${k.bytesPerDelivery}`)
    .join(', ');
}

async function settledMemory(ctx: BenchContext): Promise<number> {
  await sleep(200);
  return usedMemory(ctx.admin);
}

/**
 * Starts the delivering processes on a full queue, then measures from the moment they run: CPU and
 * Redis work per delivery count only the deliveries made after that moment (a process's start-up
 * CPU is not a delivery's cost).
 */
async function drain(
  ctx: BenchContext,
  events: number,
  start: () => Promise<Record<string, number>>,
  sink: readonly [string, string?],
): Promise<DrainRun> {
  await sinkReset(ctx, sink[0], sink[1]);
  const underTest = await start();
  const work = await measureRedisWork(ctx.admin);
  const cpu = startCpuMeter(processPids(ctx, underTest));
  const before = await ctx.sink.call<number>('count');
  const stats = await sinkWait(ctx, events, phaseTimeoutMs(events));
  return { ...summarize(stats, events, 0, await work.finish(), cpu.finish()), measuredEvents: events - before };
}

/**
 * (6) Redis bytes per pending delivery with no worker running, then the worker is started on the
 * full queue: that gives worker-only throughput (no ingest competing for the CPU) as a by-product.
 */
export async function runMemory(ctx: BenchContext): Promise<PhaseResult> {
  const events = ctx.config.events;

  await cleanSlate(ctx);
  const bareBefore = await settledMemory(ctx);
  await ctx.load.closedLoop({ sender: bareBulkSender(ctx, 'm'), total: events, clients: 1 });
  const bareAfter = await settledMemory(ctx);
  const bareKinds = await memoryByKeyKind(ctx.admin);
  const bareWorker = ctx.bareWorkers[0]!;
  // A fresh process, as Hookrelay's worker is: both drains start cold.
  const bareDrain = await drain(ctx, events, async () => (await bareWorker.start({ fresh: true }), bareWorkerPids(ctx)), BARE_KEY);
  await bareWorker.stop();
  const baseline: MemoryRun = {
    events,
    usedBefore: bareBefore,
    usedAfter: bareAfter,
    bytesPerPending: (bareAfter - bareBefore) / events,
    byKeyKind: perDelivery(bareKinds, events),
    drain: bareDrain,
  };

  await cleanSlate(ctx);
  const deployment = ctx.hookrelay.split;
  const target = await subscriberWithEndpoint(deployment, ctx, 'bench-memory');
  const before = await settledMemory(ctx);
  await ctx.load.closedLoop({ sender: batchSender(ctx, deployment, [target]), total: events, clients: 1 });
  const after = await settledMemory(ctx);
  const kinds = await memoryByKeyKind(ctx.admin);
  const hookrelayDrain = await drain(ctx, events, async () => (await deployment.start(), deployment.pids()), HOOKRELAY_KEY);
  await deployment.stop();
  const hookrelay: MemoryRun = {
    events,
    usedBefore: before,
    usedAfter: after,
    bytesPerPending: (after - before) / events,
    byKeyKind: perDelivery(kinds, events),
    drain: hookrelayDrain,
  };
  ctx.log(`memory per pending delivery by key kind (MEMORY USAGE, B): hookrelay ${describeKinds(hookrelay)}`);
  ctx.log(`memory per pending job by key kind (MEMORY USAGE, B): bare ${describeKinds(baseline)}`);
  ctx.log(
    `memory: hookrelay ${hookrelay.bytesPerPending.toFixed(0)} B/pending, bare ${baseline.bytesPerPending.toFixed(0)} B/job; drain hookrelay ${hookrelayDrain.ratePerS.toFixed(0)}/s, bare ${bareDrain.ratePerS.toFixed(0)}/s`,
  );
  const perMeasured = (run: DrainRun, v: number) => v / run.measuredEvents;

  return {
    rows: [
      atMost(
        '6 memory',
        `Redis bytes per pending delivery - payload (${PAYLOAD_BYTES} B)`,
        'B',
        hookrelay.bytesPerPending - PAYLOAD_BYTES,
        baseline.bytesPerPending - PAYLOAD_BYTES,
        1536,
      ),
      info('6 drain', `(b) worker-only deliveries/s (${events} pre-queued)`, '/s', hookrelayDrain.ratePerS, bareDrain.ratePerS),
      info(
        '6 drain',
        '(b) worker CPU per delivery (us)',
        '',
        perMeasured(hookrelayDrain, cpuMsOf(hookrelayDrain, 'worker') * 1000),
        perMeasured(bareDrain, cpuMsOf(bareDrain, 'worker') * 1000),
      ),
      info(
        '6 drain',
        '(b) Redis commands per delivery',
        '',
        perMeasured(hookrelayDrain, hookrelayDrain.redis.calls),
        perMeasured(bareDrain, bareDrain.redis.calls),
      ),
      info(
        '6 drain',
        '(b) Redis CPU per delivery (us)',
        '',
        perMeasured(hookrelayDrain, hookrelayDrain.redis.cpuMs * 1000),
        perMeasured(bareDrain, bareDrain.redis.cpuMs * 1000),
      ),
      exactlyOnce('6 drain', '(b) ', hookrelayDrain, bareDrain),
    ],
    details: { payloadBytes: PAYLOAD_BYTES, baseline, hookrelay },
    problems: [...deliveryProblems('drain baseline', bareDrain), ...deliveryProblems('drain hookrelay', hookrelayDrain)],
  };
}
