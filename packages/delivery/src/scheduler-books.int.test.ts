import type { ServerResponse } from 'node:http';
import type { DeliveryRecord, Endpoint } from '@hookrelay/contracts';
import { buildEndpoint, buildEvent, useTestReceiver, waitForDrain, type ReceivedRequest } from '@hookrelay/testing';
import { useEngineHarness } from './engine-harness';

/** A small seeded generator (mulberry32): a failing run's steps are repeated with SCHEDULER_BOOKS_SEED. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Attempts that never reach the receiver: the worker records them without a request. */
const UNSENT = new Set(['endpoint_disabled', 'endpoint_deleted', 'event_expired']);

/**
 * Publishes, disables and re-enables endpoints, and retries and replays deliveries, in a random
 * order against receivers that answer 200, 503 or 400, at once or after a while (so disables and
 * retries meet attempts in flight); then re-enables everything, lets it all settle, and checks the
 * books: every delivery ended, nothing left in the scheduler or BullMQ, and every request the
 * receiver got in its delivery's history, numbered 1..n, the record counting them all.
 */
describe('the scheduler and the records, after a random mix of publishes, disables, re-enables, retries and replays', () => {
  const seed = Number(process.env.SCHEDULER_BOOKS_SEED ?? Date.now() % 1_000_000);
  // The steps and the receiver's answers draw from generators of their own: the seed repeats both
  // sequences (how they interleave with the workers still varies from run to run).
  const answers = seeded(seed + 1);
  const h = useEngineHarness({ concurrency: 10 }, 'each');
  const receiver = useTestReceiver((_req: ReceivedRequest, res: ServerResponse) => {
    const roll = answers();
    const status = roll < 0.6 ? 200 : roll < 0.8 ? 503 : 400;
    const delayMs = answers() < 0.3 ? 20 + answers() * 180 : 0;
    setTimeout(() => res.writeHead(status).end(), delayMs);
  }, 'each');

  it('keep every attempt, end every delivery and leave nothing behind', async () => {
    const random = seeded(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const fail = (what: string, detail: unknown) => new Error(`seed ${seed}: ${what}: ${JSON.stringify(detail)}`);
    // Two workers take the same lanes, as two processes would.
    await h.addWorker();
    const subscribers = ['sub_books_a', 'sub_books_b', 'sub_books_c'];
    const endpoints: Endpoint[] = [];
    for (const subscriberId of subscribers) {
      for (let i = 0; i < 2; i++) {
        endpoints.push(
          await h.saveEndpoint(
            buildEndpoint({
              subscriberId,
              url: `${receiver.url}/${subscriberId}/${i}`,
              // Not the endpoint.disabled events the disables announce: only the test's own deliveries.
              eventTypes: ['incident.*'],
              retry: { maxRetries: 2, intervalMs: 15, backoff: 'fixed' },
            }),
          ),
        );
      }
    }
    const deliveries = new Set<string>();
    const endpointOf = new Map<string, Endpoint>();
    const ops = { publish: 0, disable: 0, enable: 0, rate: 0, retry: 0, replay: 0, flap: 0 };

    for (let step = 0; step < 250; step++) {
      const roll = random();
      if (roll < 0.6) {
        const subscriberId = pick(subscribers);
        const [created = []] = await h.publisher.enqueue([
          { event: buildEvent({ subscriberId }), endpoints: endpoints.filter((e) => e.subscriberId === subscriberId) },
        ]);
        for (const d of created) {
          deliveries.add(d.id);
          endpointOf.set(
            d.id,
            endpoints.find((e) => e.id === d.endpointId)!,
          );
        }
        ops.publish++;
      } else if (roll < 0.64) {
        // An operator's mistake undone at once: disabled, re-enabled, and what the disable ended
        // retried, while its attempts may still be in flight.
        const endpoint = pick(endpoints);
        await h.worker.guard.disable(endpoint, 'manual', 'by the test');
        await h.worker.endings.idle();
        await h.saveEndpoint(endpoint);
        const ended = (await h.store.deliveries.getMany([...deliveries].filter((id) => endpointOf.get(id)?.id === endpoint.id))).filter(
          (d) => d.failureReason === 'endpoint_disabled',
        );
        await h.publisher.redeliver(ended, false);
        ops.flap++;
      } else if (roll < 0.68) {
        await h.worker.guard.disable(pick(endpoints), 'manual', 'by the test');
        ops.disable++;
      } else if (roll < 0.76) {
        await h.saveEndpoint(pick(endpoints)); // active again, as PATCH {"status":"active"} makes it
        ops.enable++;
      } else if (roll < 0.8) {
        // A rate limit set or lifted (PATCH rateLimit): deliveries wait their turn, or park.
        const at = endpoints.indexOf(pick(endpoints));
        const { rateLimit: _, ...rest } = endpoints[at]!;
        endpoints[at] = random() < 0.5 ? { ...rest, rateLimit: { perSecond: 20 } } : rest;
        await h.saveEndpoint(endpoints[at]);
        ops.rate++;
      } else if (deliveries.size > 0) {
        const record = await h.store.deliveries.get(pick([...deliveries]));
        const replay = roll >= 0.9;
        if (record && (await h.publisher.redeliver([record], replay)).length > 0) ops[replay ? 'replay' : 'retry']++;
      }
      if (random() < 0.3) await new Promise((r) => setTimeout(r, random() * 10));
    }

    for (const endpoint of endpoints) await h.saveEndpoint(endpoint);
    await h.worker.endings.idle();
    await waitForDrain(h.worker, { timeoutMs: 30_000 });
    // Attempts still in flight when the queues drained (a disable ended their deliveries) end too.
    const ids = [...deliveries];
    const until = Date.now() + 10_000;
    let records: DeliveryRecord[] = [];
    for (;;) {
      records = await h.store.deliveries.getMany(ids);
      const sent = receiver.requests.length;
      const recorded = (await Promise.all(ids.map((id) => h.store.deliveries.attempts(id)))).reduce(
        (n, list) => n + list.filter((a) => !UNSENT.has(a.errorKind ?? '')).length,
        0,
      );
      if (records.length === ids.length && records.every((d) => d.state === 'delivered' || d.state === 'failed') && recorded >= sent) break;
      if (Date.now() > until) break;
      await new Promise((r) => setTimeout(r, 20));
    }

    expect({ seed, ops: ops.publish > 50 && ops.disable > 0 && ops.enable > 0 && ops.retry + ops.replay > 0 && ops.flap > 0 }).toEqual({
      seed,
      ops: true,
    });
    const open = records.filter((d) => d.state !== 'delivered' && d.state !== 'failed').map((d) => [d.id, d.state, d.attempts]);
    if (records.length !== ids.length || open.length > 0)
      throw fail('deliveries not ended', { missing: ids.length - records.length, open });
    // Nothing left in the scheduler: no entry, nothing ready, leased or held (waitForDrain saw nothing due).
    const sched = h.store.keys.sched();
    const left = {
      entries: await h.redis.hlen(`${sched}:d`),
      ready: await h.store.lanes.readyCount(),
      leases: (await h.store.lanes.leaseCount('fast')) + (await h.store.lanes.leaseCount('slow')),
      held: (await Promise.all(endpoints.map((e) => h.redis.zcard(`${sched}:held:e:${e.id}`)))).reduce((a, b) => a + b, 0),
    };
    if (Object.values(left).some((n) => n !== 0)) throw fail('left in the scheduler', left);

    const requestsFor = new Map<string, number>();
    for (const r of receiver.requests) {
      const id = String(r.headers['x-hookrelay-delivery-id']);
      requestsFor.set(id, (requestsFor.get(id) ?? 0) + 1);
    }
    for (const record of records) {
      const history = await h.store.deliveries.attempts(record.id);
      const numbers = history.map((a) => a.attempt);
      const sent = history.filter((a) => !UNSENT.has(a.errorKind ?? '')).length;
      const books = {
        id: record.id,
        state: record.state,
        attempts: record.attempts,
        numbers,
        sent,
        requests: requestsFor.get(record.id) ?? 0,
      };
      if (record.attempts !== history.length || numbers.some((n, i) => n !== i + 1)) throw fail('history and count disagree', books);
      if (sent !== books.requests) throw fail('requests and history disagree', books);
      if (record.state === 'delivered' && !history.some((a) => a.statusCode === 200)) throw fail('delivered without a 200', books);
    }
    expect(h.logLines.filter((l) => l.level === 'error' || l.msg === 'delivery.job_failed')).toEqual([]);
  }, 60_000);
});
