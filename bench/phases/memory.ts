import { bareJob, benchPayload, PAYLOAD_BYTES } from '../bare';
import { sleep } from '../clock';
import { phaseTimeoutMs } from '../config';
import { startCpuMeter } from '../cpu-meter';
import { chunks, cleanSlate, cpuPids, deliveryProblems, sinkReset, sinkWait, type BenchContext, type PhaseResult } from '../context';
import { measureRedisWork, memoryByKeyKind, usedMemory, type KeyKindUsage } from '../redis-stats';
import { atMost, info } from '../report';
import { cpuUsPer, summarize, type PipelineRun } from './pipeline';

interface MemoryRun {
  events: number;
  usedBefore: number;
  usedAfter: number;
  bytesPerPending: number;
  /** MEMORY USAGE by kind of key, per pending delivery. */
  byKeyKind: Array<KeyKindUsage & { bytesPerDelivery: number }>;
  /** Worker-only throughput: the queue already full when the worker starts. */
  drain: PipelineRun;
}

function perDelivery(kinds: KeyKindUsage[], events: number): MemoryRun['byKeyKind'] {
  return kinds.filter((k) => k.bytes / events >= 1).map((k) => ({ ...k, bytesPerDelivery: Math.round(k.bytes / events) }));
}

function describeKinds(run: MemoryRun): string {
  return run.byKeyKind.slice(0, 8).map((k) => `${k.kind} ${k.bytesPerDelivery}`).join(', ');
}

async function settledMemory(ctx: BenchContext): Promise<number> {
  await sleep(200);
  return usedMemory(ctx.admin);
}

/**
 * (6) Redis bytes per pending delivery with no worker running, then the worker is started on the
 * full queue: that gives worker-only throughput (no ingest competing for the CPU) as a by-product.
 */
export async function runMemory(ctx: BenchContext): Promise<PhaseResult> {
  const events = ctx.config.events;
  const ranges = chunks(events, ctx.config.batchSize);

  await cleanSlate(ctx);
  const bareBefore = await settledMemory(ctx);
  for (const [from, to] of ranges) await ctx.bareQueue.addBulk(Array.from({ length: to - from }, (_, i) => bareJob(`m${from + i}`, from + i)));
  const bareAfter = await settledMemory(ctx);
  const bareKinds = await memoryByKeyKind(ctx.admin);
  await sinkReset(ctx, 'x-bench-id');
  let work = await measureRedisWork(ctx.admin);
  let cpu = startCpuMeter(cpuPids(ctx, ctx.baselineWorker));
  await ctx.baselineWorker.start();
  const bareDrain = summarize(await sinkWait(ctx, events, phaseTimeoutMs(events)), events, 0, await work.finish(), cpu.finish());
  await ctx.baselineWorker.stop();
  const baseline: MemoryRun = { events, usedBefore: bareBefore, usedAfter: bareAfter, bytesPerPending: (bareAfter - bareBefore) / events, byKeyKind: perDelivery(bareKinds, events), drain: bareDrain };

  await cleanSlate(ctx);
  const { client } = ctx.api;
  const { sid, publisherKey } = await client.createSubscriber('bench-memory');
  await client.createEndpoint(sid, `${ctx.sinkOrigin}/hook`);
  const before = await settledMemory(ctx);
  for (const [from, to] of ranges) {
    await client.publishBatch(sid, publisherKey, Array.from({ length: to - from }, (_, i) => ({ type: 'custom.bench', payload: benchPayload(from + i) })));
  }
  const after = await settledMemory(ctx);
  const kinds = await memoryByKeyKind(ctx.admin);
  await sinkReset(ctx, 'x-hookrelay-event-id', 'x-hub-signature');
  work = await measureRedisWork(ctx.admin);
  cpu = startCpuMeter(cpuPids(ctx, ctx.hookrelayWorker));
  await ctx.hookrelayWorker.start();
  const drain = summarize(await sinkWait(ctx, events, phaseTimeoutMs(events)), events, 0, await work.finish(), cpu.finish());
  await ctx.hookrelayWorker.stop();
  const hookrelay: MemoryRun = { events, usedBefore: before, usedAfter: after, bytesPerPending: (after - before) / events, byKeyKind: perDelivery(kinds, events), drain };
  ctx.log(`memory per pending delivery by key kind (MEMORY USAGE, B): hookrelay ${describeKinds(hookrelay)}`);
  ctx.log(`memory per pending job by key kind (MEMORY USAGE, B): bare ${describeKinds(baseline)}`);
  ctx.log(`memory: hookrelay ${hookrelay.bytesPerPending.toFixed(0)} B/pending, bare ${baseline.bytesPerPending.toFixed(0)} B/job; drain hookrelay ${drain.ratePerS.toFixed(0)}/s, bare ${bareDrain.ratePerS.toFixed(0)}/s`);

  return {
    rows: [
      atMost('6 memory', `Redis bytes per pending delivery - payload (${PAYLOAD_BYTES} B)`, 'B', hookrelay.bytesPerPending - PAYLOAD_BYTES, baseline.bytesPerPending - PAYLOAD_BYTES, 1536),
      info('6 drain', `worker-only deliveries/s (${events} pre-queued)`, '/s', drain.ratePerS, bareDrain.ratePerS),
      info('6 drain', 'worker CPU per delivery (us)', '', cpuUsPer(drain, 'worker'), cpuUsPer(bareDrain, 'worker')),
      info('6 drain', 'Redis CPU per delivery (us)', '', (drain.redis.cpuMs * 1000) / events, (bareDrain.redis.cpuMs * 1000) / events),
      info('6 drain', 'lost / duplicates', '', `${drain.lost} / ${drain.duplicates}`, `${bareDrain.lost} / ${bareDrain.duplicates}`),
    ],
    details: { payloadBytes: PAYLOAD_BYTES, baseline, hookrelay },
    problems: [...deliveryProblems('drain baseline', bareDrain), ...deliveryProblems('drain hookrelay', drain)],
  };
}
