import { capsFor, DEFAULT_SCHEDULING } from '@hookrelay/delivery';
import { startHangingReceiver, startTrickleReceiver, type HostileReceiver } from '../../test/reliability/support/hostile-receivers';
import { benchPayload } from '../bare';
import { cleanSlate, deliveryProblems, sinkReset, type BenchContext, type PhaseResult } from '../context';
import { atMostRatio, info, type Row } from '../report';
import { measureLatency, openLoop, warmUp } from './latency';

/** The victim publishes single POSTs at this rate, alone and then beside the hostile load. */
const VICTIM_RATE_PER_S = 200;
/** Deliveries the hostile subscriber has queued before the victim publishes again. */
const HOSTILE_DELIVERIES = 10_000;

/**
 * (7) Isolation (issue 15): a victim subscriber's publish-to-arrival latency alone, then beside a
 * hostile subscriber with endpoints on five hanging origins (three spellings of one port), one
 * trickling origin and 50 more hanging endpoints, and ~10,000 deliveries queued; both measured in
 * this run at VICTIM_RATE_PER_S. The "baseline" column is the victim alone.
 */
export async function runIsolation(ctx: BenchContext): Promise<PhaseResult> {
  const seconds = ctx.config.quick ? 2 : 5;
  await cleanSlate(ctx);
  const { client } = ctx.api;
  const victim = await client.createSubscriber('bench-victim');
  await client.createEndpoint(victim.sid, `${ctx.sinkOrigin}/victim`);
  await ctx.hookrelayWorker.start();
  const publish = (i: number): Promise<string> => client.publish(victim.sid, victim.publisherKey, { type: 'custom.bench', payload: benchPayload(i) });
  await warmUp(ctx, publish, 'x-hookrelay-event-id', 'x-hub-signature');
  const alone = await measureLatency(ctx, await openLoop(VICTIM_RATE_PER_S, seconds, publish));
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
    const events = Math.ceil(HOSTILE_DELIVERIES / urls.length);
    for (let i = 0; i < events; i += 100) {
      await client.publishBatch(attacker.sid, attacker.publisherKey, Array.from({ length: Math.min(100, events - i) }, (_, n) => ({ type: 'custom.attack', payload: benchPayload(i + n) })));
    }
    const share = capsFor(ctx.config.workerConcurrency, DEFAULT_SCHEDULING).subscriber;
    const held = (): number => hostile.reduce((n, r) => n + r.open, 0);
    const until = Date.now() + 15_000;
    while (held() < share && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    const waiting = await ctx.api.queued();
    ctx.log(`isolation: attacker holds ${held()} connections, ${waiting} of its ${events * urls.length} deliveries wait`);

    await sinkReset(ctx, 'x-hookrelay-event-id', 'x-hub-signature');
    const loaded = await measureLatency(ctx, await openLoop(VICTIM_RATE_PER_S, seconds, publish));
    ctx.log(`isolation: victim beside the attacker p50 ${loaded.p50.toFixed(1)} p95 ${loaded.p95.toFixed(1)} ms`);
    const phase = `7 isolation ${VICTIM_RATE_PER_S}/s x ${seconds}s`;
    const rows: Row[] = [
      info(phase, 'victim publish-to-arrival p50 (baseline: alone)', 'ms', loaded.p50, alone.p50),
      atMostRatio(phase, 'victim publish-to-arrival p95 (baseline: alone)', 'ms', loaded.p95, alone.p95, 1.5),
      info(phase, "attacker's connections held / its share of slots", '', `${held()} / ${share}`, null),
      info(phase, "attacker's deliveries waiting in its lanes", '', waiting, null),
    ];
    const problems = [...deliveryProblems('isolation victim alone', { ...alone, duplicates: 0 }), ...deliveryProblems('isolation victim beside the attacker', { ...loaded, duplicates: 0 })];
    return { rows, details: { alone, loaded, attacker: { endpoints: urls.length, deliveries: events * urls.length, waiting, held: held(), share } }, problems };
  } finally {
    // Receivers first: their sockets closing ends the attempts the worker's stop would wait for.
    for (const r of hostile) await r.close();
    await ctx.hookrelayWorker.stop();
  }
}
