import { bareJob, benchPayload } from '../bare';
import { epochMs } from '../clock';
import { cleanSlate, closedLoop, delivery, deliveryProblems, sinkReset, sinkWait, type BenchContext, type PhaseResult } from '../context';
import { atMost, info, type Row } from '../report';

interface FanOutRun {
  endpoints: number;
  /** Publish call start to its answer: every delivery recorded and queued. */
  enqueuedMs: number;
  /** Publish call start to the last delivery's arrival at the sink. */
  allArrivedMs: number;
  lost: number;
  duplicates: number;
  unsigned?: number;
}

export async function runFanOut(ctx: BenchContext): Promise<PhaseResult> {
  const count = ctx.config.fanOutEndpoints;

  await cleanSlate(ctx);
  await ctx.baselineWorker.start();
  await sinkReset(ctx, 'x-bench-id');
  const jobs = Array.from({ length: count }, (_, i) => bareJob(`f${i}`, 0, `/fan/${i}`));
  const bareStart = epochMs();
  await ctx.bareQueue.addBulk(jobs);
  const bareEnqueued = epochMs();
  const bareStats = await sinkWait(ctx, count, 60_000);
  await ctx.baselineWorker.stop();
  const baseline: FanOutRun = { endpoints: count, enqueuedMs: bareEnqueued - bareStart, allArrivedMs: bareStats.lastAt - bareStart, ...delivery(bareStats, count) };

  await cleanSlate(ctx);
  const { client } = ctx.api;
  const { sid, publisherKey } = await client.createSubscriber('bench-fanout');
  // More endpoints than a subscriber's default quota (100): the operator raises it, as for a big customer.
  await client.setLimits(sid, { maxEndpoints: count });
  const setupStart = performance.now();
  await closedLoop(count, 16, (i) => client.createEndpoint(sid, `${ctx.sinkOrigin}/fan/${i}`));
  ctx.log(`fan-out: ${count} endpoints created in ${(performance.now() - setupStart).toFixed(0)} ms`);
  await ctx.hookrelayWorker.start();
  await sinkReset(ctx, 'x-hookrelay-delivery-id', 'x-hub-signature');
  const start = epochMs();
  await client.publish(sid, publisherKey, { type: 'custom.bench', payload: benchPayload(0) });
  const enqueued = epochMs();
  const stats = await sinkWait(ctx, count, 60_000);
  await ctx.hookrelayWorker.stop();
  const hookrelay: FanOutRun = { endpoints: count, enqueuedMs: enqueued - start, allArrivedMs: stats.lastAt - start, ...delivery(stats, count), unsigned: stats.missingRequired };
  ctx.log(`fan-out hookrelay: enqueued in ${hookrelay.enqueuedMs.toFixed(1)} ms, all arrived in ${hookrelay.allArrivedMs.toFixed(1)} ms, lost ${hookrelay.lost}`);

  const phase = `5 fan-out 1 event x ${count}`;
  const rows: Row[] = [
    atMost(phase, 'all enqueued', 'ms', hookrelay.enqueuedMs, baseline.enqueuedMs, 250),
    info(phase, 'all arrived', 'ms', hookrelay.allArrivedMs, baseline.allArrivedMs),
  ];
  if (hookrelay.lost + hookrelay.duplicates + baseline.lost + baseline.duplicates > 0) {
    rows.push(info(phase, 'lost / duplicates', '', `${hookrelay.lost} / ${hookrelay.duplicates}`, `${baseline.lost} / ${baseline.duplicates}`));
  }
  return { rows, details: { baseline, hookrelay }, problems: [...deliveryProblems('fan-out baseline', baseline), ...deliveryProblems('fan-out hookrelay', hookrelay)] };
}
