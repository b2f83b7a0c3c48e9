import { deliveryId, type Endpoint } from '@hookrelay/contracts';
import { buildEndpoint, buildEvent, useTestReceiver, watchCommands } from '@hookrelay/testing';
import { useEngineHarness } from './engine-harness';

const LOAD = 'hookrelayLoadForAttempts';
// 200 KB: large enough that one more read of it shows in the bytes, small enough for a quick test.
const payload = JSON.stringify({ blob: 'x'.repeat(200_000) });

// What one subscriber's large fan-out costs Redis: each endpoint's attempt read the whole event
// (a 1 MiB event to 100 endpoints: ~100 MiB of Redis's output, docs/performance.md).
describe("a fan-out's event, as one worker reads it", () => {
  const h = useEngineHarness({ concurrency: 100 }, 'each');
  const receiver = useTestReceiver(undefined, 'each');

  const endpoints = (n: number): Promise<Endpoint[]> =>
    Promise.all(Array.from({ length: n }, () => h.saveEndpoint(buildEndpoint({ url: receiver.url }))));

  it('is read from Redis once for all its endpoints, and every endpoint gets the whole payload', async () => {
    const targets = await endpoints(30);
    const event = buildEvent({ payload });
    const watch = watchCommands(h.workerRedis.store);
    try {
      await h.publisher.enqueue([{ event, endpoints: targets }]);
      for (const e of targets) await h.waitForState(deliveryId(event.id, e.id), ['delivered']);
      expect(receiver.requests).toHaveLength(30);
      for (const r of receiver.requests) expect(r.body.toString()).toBe(payload);
      expect(watch.scriptCalls.some((c) => c.name === LOAD)).toBe(true);
      // Once: the event's JSON and the rest of the answers (records, entries), never a second copy.
      expect(watch.answerBytes(LOAD)).toBeGreaterThan(payload.length);
      expect(watch.answerBytes(LOAD)).toBeLessThan(2 * payload.length);
    } finally {
      watch.stop();
    }
  });

  it('is not read again for a delivery of it made after its first attempts', async () => {
    const [first, later] = await endpoints(2);
    const event = buildEvent({ payload });
    await h.waitForState(await h.enqueue(event, first!), ['delivered']);
    const watch = watchCommands(h.workerRedis.store);
    try {
      // A replay to another endpoint: its deliveries only, the payload is not written again.
      await h.publisher.replay(event, [later!]);
      await h.waitForState(deliveryId(event.id, later!.id), ['delivered']);
      expect(watch.scriptCalls.some((c) => c.name === LOAD)).toBe(true);
      expect(watch.answerBytes(LOAD)).toBeLessThan(payload.length);
      expect(receiver.requests.map((r) => r.body.toString())).toEqual([payload, payload]);
    } finally {
      watch.stop();
    }
  });

  it('is not delivered once it has expired, even though the worker still holds it', async () => {
    const [first, later] = await endpoints(2);
    const event = buildEvent({ payload });
    await h.waitForState(await h.enqueue(event, first!), ['delivered']);
    // As retention would: the worker read it a moment ago and holds it parsed.
    await h.redis.del(h.store.keys.event(event.id));
    await h.publisher.replay(event, [later!]);
    // Never attempted and its event gone: the worker drops it (delivery.expired), or sent it.
    const id = deliveryId(event.id, later!.id);
    const dropped = () => h.logLines.some((l) => l.msg === 'delivery.expired' && l.deliveryId === id);
    for (const until = Date.now() + 10_000; !dropped() && receiver.requests.length < 2;) {
      if (Date.now() > until) throw new Error('the delivery was neither dropped nor sent');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(receiver.requests).toHaveLength(1);
    expect(dropped()).toBe(true);
    // A subscriber's own configuration can make one a delivery: info, which pages no one (docs/operations.md).
    expect(h.logLines.find((l) => l.msg === 'delivery.expired' && l.deliveryId === id)?.level).toBe('info');
  });
});
