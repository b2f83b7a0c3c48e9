// What recording an attempt costs Redis: records PROBE_ATTEMPTS attempts through
// DeliveryStore.recordAttempt (the worker's one write per attempt, record-attempts.lua) on a
// redis-server of its own, and prints the attempt script's time and calls (INFO commandstats,
// evalsha) and the bytes Redis read (INFO stats total_net_input_bytes) per attempt. Not part of
// the test run; docs/performance.md quotes it.
//
//   PROBE_ATTEMPTS=20000 npx tsx scripts/probe-attempt-cost.ts
//
// The attempts mirror a worker's: PROBE_ENDPOINTS endpoints, gathered 50 to an event-loop turn
// (what TurnBatch folds into one call), each the first attempt of its delivery, 4 of 5 delivered
// and the fifth a 503 to be retried; the clock moves one hour every PROBE_ATTEMPTS_PER_HOUR (1,000),
// so work done once per endpoint and hour is counted at a busier rate than a real hour's.
import { buildEvent } from '@hookrelay/testing';
import { startRedisServer } from '@hookrelay/testing';
import Redis from 'ioredis';
import { createStore, pendingDelivery } from '@hookrelay/store';

const ATTEMPTS = Number(process.env.PROBE_ATTEMPTS ?? 20_000);
const ENDPOINTS = Number(process.env.PROBE_ENDPOINTS ?? 20);
/** Attempts between one hour and the next on the probe's clock. */
const PER_HOUR = Number(process.env.PROBE_ATTEMPTS_PER_HOUR ?? 1000);
const PER_TURN = 50;
const HOUR_MS = 3_600_000;

function field(info: string, name: string): number {
  const m = new RegExp(`${name}[:=]([0-9.]+)`).exec(info);
  return m ? Number(m[1]) : 0;
}

async function main(): Promise<void> {
  const server = await startRedisServer();
  const redis = new Redis(server.url);
  let clock = Date.UTC(2026, 11, 1);
  const store = createStore({ redis, prefix: 'probe', now: () => clock });
  try {
    const event = buildEvent({ subscriberId: 'sub_probe' });
    // The script is loaded (one EVAL) before the counters are reset: only EVALSHA is counted below.
    const warm = pendingDelivery('dlv_warm', event, 'ep_probe0', clock);
    await store.deliveries.recordAttempt(
      warm,
      { attempt: 1, startedAt: clock, durationMs: 1, outcome: 'delivered', requestHeaders: {} },
      { state: 'delivered', attempts: 1 },
      { endpointId: 'ep_probe0', ok: true, final: 'delivered' },
    );
    await redis.config('RESETSTAT');
    const inputBefore = field(await redis.info('stats'), 'total_net_input_bytes');
    let recorded = 0;
    for (let i = 0; recorded < ATTEMPTS; i++) {
      const turn: Array<Promise<unknown>> = [];
      for (let j = 0; j < PER_TURN && recorded < ATTEMPTS; j++, recorded++) {
        const n = i * PER_TURN + j;
        if (n % PER_HOUR === 0) clock += HOUR_MS;
        const endpointId = `ep_probe${n % ENDPOINTS}`;
        const delivery = pendingDelivery(`dlv_probe${n}`, event, endpointId, clock);
        // Every fifth attempt fails and will be retried (a 503).
        const retry = n % 5 === 4;
        const attempt = 1;
        turn.push(
          store.deliveries.recordAttempt(
            delivery,
            {
              attempt,
              startedAt: clock,
              durationMs: 12,
              outcome: retry ? 'retry' : 'delivered',
              statusCode: retry ? 503 : 200,
              requestHeaders: { 'content-type': 'application/json', 'webhook-id': `msg_${n}` },
            },
            retry
              ? { state: 'retrying', attempts: attempt, nextAttemptAt: clock + 5000, lastStatusCode: 503 }
              : { state: 'delivered', attempts: attempt, lastStatusCode: 200 },
            { endpointId, ok: !retry, final: retry ? 'none' : 'delivered' },
          ),
        );
      }
      await Promise.all(turn);
    }
    const stats = await redis.info('commandstats');
    const inputBytes = field(await redis.info('stats'), 'total_net_input_bytes') - inputBefore;
    const calls = field(stats, 'cmdstat_evalsha:calls');
    const usec = field(stats, 'cmdstat_evalsha:calls=\\d+,usec');
    const line = (label: string, value: string) => console.log(`${label.padEnd(34)} ${value}`);
    line('attempts recorded', String(recorded));
    line('evalsha calls', String(calls));
    line('evalsha usec (total)', String(usec));
    line('evalsha usec per attempt', (usec / recorded).toFixed(2));
    line('bytes sent to Redis per attempt', (inputBytes / recorded).toFixed(1));
    line('keys left (all)', String(await redis.dbsize()));
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
