import {
  cleanSlate,
  delivery,
  deliveryProblems,
  publishSender,
  sinkReset,
  sinkWait,
  subscriberWithEndpoint,
  warmUp,
  type BenchContext,
  type PhaseResult,
} from '../context';
import { closedLoop } from '../loops';
import { atMost, info, type Row } from '../report';
import { BARE_KEY, bareBulkSender, HOOKRELAY_KEY } from './pipeline';

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

/**
 * (5) One event to `fanOutEndpoints` endpoints (distinct paths on the sink) through deployment (b),
 * published by the load generator; against one bare `addBulk` of as many jobs from the same place.
 * Both sides are warmed up first (Hookrelay's through another subscriber).
 */
export async function runFanOut(ctx: BenchContext): Promise<PhaseResult> {
  const count = ctx.config.fanOutEndpoints;

  await cleanSlate(ctx);
  const bareWorker = ctx.bareWorkers[0]!;
  await bareWorker.start();
  await warmUp(ctx, bareBulkSender(ctx, 'w'), BARE_KEY);
  await sinkReset(ctx, 'x-bench-id');
  const bare = await ctx.load.closedLoop({
    sender: { kind: 'queue-add-bulk', idPrefix: 'f', payload: 'bench', batchSize: count, fanOut: true },
    total: count,
    clients: 1,
  });
  const bareStats = await sinkWait(ctx, count, 60_000);
  await bareWorker.stop();
  const baseline: FanOutRun = {
    endpoints: count,
    enqueuedMs: bare.elapsedMs,
    allArrivedMs: bareStats.lastAt - bare.startedAt,
    ...delivery(bareStats, count),
  };

  await cleanSlate(ctx);
  const deployment = ctx.hookrelay.split;
  const { client } = deployment;
  const target = await client.createSubscriber('bench-fanout');
  // More endpoints than a subscriber's default quota (100): the operator raises it, as for a big customer.
  await client.setLimits(target.sid, { maxEndpoints: count });
  const setupStart = performance.now();
  await closedLoop(count, 16, (i) => client.createEndpoint(target.sid, `${ctx.sinkOrigin}/fan/${i}`));
  ctx.log(`fan-out: ${count} endpoints created in ${(performance.now() - setupStart).toFixed(0)} ms`);
  await deployment.start();
  const warm = await subscriberWithEndpoint(deployment, ctx, 'bench-fanout-warm-up', '/warm');
  await warmUp(ctx, publishSender(deployment, [warm]), HOOKRELAY_KEY);
  await sinkReset(ctx, 'x-hookrelay-delivery-id', 'x-hub-signature');
  const published = await ctx.load.closedLoop({ sender: publishSender(deployment, [target]), total: 1, clients: 1 });
  const stats = await sinkWait(ctx, count, 60_000);
  await deployment.stop();
  const hookrelay: FanOutRun = {
    endpoints: count,
    enqueuedMs: published.elapsedMs,
    allArrivedMs: stats.lastAt - published.startedAt,
    ...delivery(stats, count),
    unsigned: stats.missingRequired,
  };
  ctx.log(
    `fan-out hookrelay: enqueued in ${hookrelay.enqueuedMs.toFixed(1)} ms, all arrived in ${hookrelay.allArrivedMs.toFixed(1)} ms, lost ${hookrelay.lost}`,
  );

  const phase = `5 fan-out 1 event x ${count}`;
  const rows: Row[] = [
    atMost(phase, 'all enqueued', 'ms', hookrelay.enqueuedMs, baseline.enqueuedMs, 250),
    info(phase, 'all arrived', 'ms', hookrelay.allArrivedMs, baseline.allArrivedMs),
  ];
  if (hookrelay.lost + hookrelay.duplicates + baseline.lost + baseline.duplicates > 0) {
    rows.push(
      info(phase, 'lost / duplicates', '', `${hookrelay.lost} / ${hookrelay.duplicates}`, `${baseline.lost} / ${baseline.duplicates}`),
    );
  }
  return {
    rows,
    details: { baseline, hookrelay },
    problems: [...deliveryProblems('fan-out baseline', baseline), ...deliveryProblems('fan-out hookrelay', hookrelay)],
  };
}
