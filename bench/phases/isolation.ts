import { capsFor, DEFAULT_SCHEDULING } from '@hookrelay/delivery';
import { DEFAULT_MAX_BATCH_DELIVERIES } from '../../apps/api/src/publish';
import { startHangingReceiver, startTrickleReceiver, type HostileReceiver } from '../../test/reliability/support/hostile-receivers';
import {
  cleanSlate,
  deliveryProblems,
  publishSender,
  subscriberWithEndpoint,
  warmUp,
  type BenchContext,
  type PhaseResult,
} from '../context';
import { atMostRatio, info, type Row } from '../report';
import { latencyStep } from './latency';
import { HOOKRELAY_KEY } from './pipeline';

/** The victim publishes single POSTs at this rate, alone and then beside the hostile load. */
const VICTIM_RATE_PER_S = 200;

/**
 * (7) Isolation (issue 15): a victim subscriber's publish-to-arrival latency alone, then beside a
 * hostile subscriber with endpoints on five hanging origins (three spellings of one port), one
 * trickling origin and 50 more hanging endpoints, and ~10,000 deliveries queued (quick: ~2,000);
 * both measured in this run at VICTIM_RATE_PER_S through deployment (b), the victim's publishes
 * sent by the load generator. The hostile receivers run in the orchestrator (they only hold
 * sockets). The "baseline" column is the victim alone.
 */
export async function runIsolation(ctx: BenchContext): Promise<PhaseResult> {
  const seconds = ctx.config.quick ? 1 : 5;
  await cleanSlate(ctx);
  const deployment = ctx.hookrelay.split;
  const { client } = deployment;
  const victim = await subscriberWithEndpoint(deployment, ctx, 'bench-victim', '/victim');
  await deployment.start();
  const publish = publishSender(deployment, [victim]);
  await warmUp(ctx, publish, HOOKRELAY_KEY);
  const alone = await latencyStep(ctx, publish, VICTIM_RATE_PER_S, seconds, deployment.pids(), HOOKRELAY_KEY);
  ctx.log(`isolation: victim alone p50 ${alone.p50.toFixed(1)} p95 ${alone.p95.toFixed(1)} ms`);

  const hostile: HostileReceiver[] = [];
  try {
    const dual = await startHangingReceiver({ dualStack: true });
    const hanging = [await startHangingReceiver(), await startHangingReceiver(), await startHangingReceiver()];
    const trickle = await startTrickleReceiver('body');
    hostile.push(dual, ...hanging, trickle);
    const port = new URL(dual.url).port;
    const urls = [
      `http://127.0.0.1:${port}/a`,
      `http://localhost:${port}/b`,
      `http://[::1]:${port}/c`,
      hanging[0]!.url,
      hanging[1]!.url,
      trickle.url,
      ...Array.from({ length: 50 }, (_, i) => `${hanging[2]!.url}/${i}`),
    ];
    const attacker = await client.createSubscriber('bench-attacker');
    for (const url of urls) await client.createEndpoint(attacker.sid, url);
    const events = Math.ceil(ctx.config.hostileDeliveries / urls.length);
    await ctx.load.closedLoop({
      sender: {
        kind: 'publish-batch',
        origin: deployment.origin,
        targets: [attacker],
        eventType: 'custom.attack',
        payload: 'bench',
        // As many events as one batch may fan out to the attacker's endpoints (the API's default
        // HOOKRELAY_MAX_BATCH_DELIVERIES): 89 to 56 endpoints; 100 were refused with 413.
        batchSize: Math.min(100, Math.floor(DEFAULT_MAX_BATCH_DELIVERIES / urls.length)),
      },
      total: events,
      clients: 1,
    });
    const share = capsFor(ctx.config.workerConcurrency, DEFAULT_SCHEDULING).subscriber;
    const held = (): number => hostile.reduce((n, r) => n + r.open, 0);
    const until = Date.now() + 15_000;
    while (held() < share && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    const waiting = await ctx.queued();
    ctx.log(`isolation: attacker holds ${held()} connections, ${waiting} of its ${events * urls.length} deliveries wait`);

    const loaded = await latencyStep(ctx, publish, VICTIM_RATE_PER_S, seconds, deployment.pids(), HOOKRELAY_KEY, 10_000_000);
    ctx.log(`isolation: victim beside the attacker p50 ${loaded.p50.toFixed(1)} p95 ${loaded.p95.toFixed(1)} ms`);
    const phase = `7 isolation ${VICTIM_RATE_PER_S}/s x ${seconds}s`;
    const rows: Row[] = [
      info(phase, 'victim publish-to-arrival p50 (baseline: alone)', 'ms', loaded.p50, alone.p50),
      atMostRatio(phase, 'victim publish-to-arrival p95 (baseline: alone)', 'ms', loaded.p95, alone.p95, 1.5),
      info(phase, "attacker's connections held / its share of slots", '', `${held()} / ${share}`, null),
      info(phase, "attacker's deliveries waiting in its lanes", '', waiting, null),
    ];
    const problems = [
      ...deliveryProblems('isolation victim alone', { ...alone, duplicates: 0 }),
      ...deliveryProblems('isolation victim beside the attacker', { ...loaded, duplicates: 0 }),
    ];
    return {
      rows,
      details: { alone, loaded, attacker: { endpoints: urls.length, deliveries: events * urls.length, waiting, held: held(), share } },
      problems,
    };
  } finally {
    // Receivers first: their sockets closing ends the attempts the worker's stop would wait for.
    for (const r of hostile) await r.close();
    await deployment.stop();
  }
}
