import type { ServerResponse } from 'node:http';
import type { Endpoint } from '@hookrelay/contracts';
import { buildEndpoint, buildEvent, TestReceiver, waitUntil } from '@hookrelay/testing';
import { startEngineHarness, type EngineHarness } from '../engine-harness';

/**
 * A receiver that holds every request until the test releases it, so the requests it holds are the
 * ones the worker has in flight to it; it remembers the most it held at once and each delivery id.
 */
async function startHoldingReceiver(): Promise<{
  url: string;
  held: () => number;
  mostHeld: () => number;
  deliveryIds: () => string[];
  releaseOne: () => void;
  close(): Promise<void>;
}> {
  const held: ServerResponse[] = [];
  const ids: string[] = [];
  let mostHeld = 0;
  const receiver = await TestReceiver.start((req, res) => {
    ids.push(String(req.headers['x-hookrelay-delivery-id']));
    held.push(res);
    mostHeld = Math.max(mostHeld, held.length);
  });
  return {
    url: receiver.url,
    held: () => held.length,
    mostHeld: () => mostHeld,
    deliveryIds: () => ids.slice(),
    releaseOne: () => held.shift()?.writeHead(200).end(),
    close: () => receiver.close(),
  };
}

/** Payload text of `chars` characters (its length is what the bound counts). */
function payloadOf(chars: number): string {
  const wrapper = JSON.stringify({ blob: '' });
  return JSON.stringify({ blob: 'x'.repeat(chars - wrapper.length) });
}

describe("a subscriber's payload bytes admitted across workers (WORKER_SUBSCRIBER_BYTES_IN_FLIGHT)", () => {
  // 10,000 bytes: two deliveries of 4,000-character payloads (~4,150 bytes stored) fit, a third does
  // not. At concurrency 20 the shares let one subscriber hold 8, one endpoint 5 and one address 5 per
  // worker, so the bound is what binds.
  const BOUND = 10_000;
  let h: EngineHarness;
  const closers: Array<() => Promise<void>> = [];
  beforeEach(async () => {
    h = await startEngineHarness({ concurrency: 20, scheduling: { subscriberBytesInFlight: BOUND, parkMs: 60_000 } });
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await h.close();
  });
  const holdingReceiver = async () => {
    const receiver = await startHoldingReceiver();
    closers.push(() => receiver.close());
    return receiver;
  };
  /** Publishes `perEndpoint` events of `chars` characters to each of `endpoints` endpoints of `subscriberId` on `url`. */
  const publish = async (
    subscriberId: string,
    url: string,
    endpoints: number,
    perEndpoint: number,
    chars: number,
    extra: Partial<Endpoint> = {},
  ) => {
    const saved = await Promise.all(
      Array.from({ length: endpoints }, (_, i) => h.saveEndpoint(buildEndpoint({ subscriberId, url: `${url}/e${i}`, ...extra }))),
    );
    const ids: string[] = [];
    for (let n = 0; n < perEndpoint; n++) {
      for (const endpoint of saved) ids.push(await h.enqueue(buildEvent({ subscriberId, payload: payloadOf(chars) }), endpoint));
    }
    return ids;
  };
  /** Whether the subscriber's fast-lane member sleeps at its bytes (until they fall to `bytes:<n>`). */
  const sleepsAtBytes = async (subscriberId: string) =>
    /^bytes:\d+$/.test((await h.redis.hget(`${h.store.keys.sched()}:sleep-why`, `s|fast|${subscriberId}`)) ?? '');
  const bytesHeld = async (subscriberId: string) => Object.keys(await h.store.lanes.heldBytes(subscriberId, 'fast')).length;
  const parkedForBytes = () => h.metricValue('hookrelay_deliveries_parked_total', { reason: 'bytes' });

  it('holds its big deliveries to the bound across two workers, asleep rather than parked, and delivers each once as bytes free', async () => {
    await h.addWorker();
    const receiver = await holdingReceiver();
    const ids = await publish('sub_big', receiver.url, 3, 4, 4000);

    await waitUntil(() => receiver.held() === 2, 'two deliveries to be in flight');
    await waitUntil(() => sleepsAtBytes('sub_big'), 'the subscriber to sleep at its bytes');
    // Released one at a time: whenever a request waits at the receiver, the bound still holds.
    for (let released = 0; released < ids.length; released++) {
      await waitUntil(() => receiver.held() > 0, `delivery ${released + 1} of ${ids.length} to arrive`);
      expect(receiver.mostHeld()).toBeLessThanOrEqual(2);
      receiver.releaseOne();
    }
    for (const id of ids) await h.waitForState(id, ['delivered']);
    expect(receiver.mostHeld()).toBe(2);
    expect(receiver.deliveryIds().sort()).toEqual([...ids].sort());
    for (const id of ids) expect(await h.store.deliveries.attempts(id)).toHaveLength(1);
    expect(await parkedForBytes()).toBe(0);
    expect(await bytesHeld('sub_big')).toBe(0);
  });

  it('sends a delivery larger than the bound when its subscriber has nothing else admitted, one at a time', async () => {
    const receiver = await holdingReceiver();
    const ids = await publish('sub_huge', receiver.url, 2, 1, 3 * BOUND);

    await waitUntil(() => receiver.held() === 1, 'the first oversize delivery to arrive');
    await waitUntil(() => sleepsAtBytes('sub_huge'), 'the subscriber to sleep at its bytes');
    expect(receiver.held()).toBe(1);
    receiver.releaseOne();
    await waitUntil(() => receiver.held() === 1 && receiver.deliveryIds().length === 2, 'the second oversize delivery to arrive');
    receiver.releaseOne();
    for (const id of ids) await h.waitForState(id, ['delivered']);
    expect(receiver.mostHeld()).toBe(1);
    expect(receiver.deliveryIds().sort()).toEqual([...ids].sort());
    expect(await parkedForBytes()).toBe(0);
  });

  it("admits another subscriber's deliveries to its own bound while one subscriber sleeps at its", async () => {
    const busy = await holdingReceiver();
    const busyIds = await publish('sub_big', busy.url, 3, 4, 4000);
    await waitUntil(() => busy.held() === 2, "the busy subscriber's bound to be in flight");
    await waitUntil(() => sleepsAtBytes('sub_big'), 'the busy subscriber to sleep at its bytes');

    const other = await holdingReceiver();
    const otherIds = await publish('sub_other', other.url, 2, 1, 4000);
    // Both at once: the other subscriber's bytes are its own, not what the busy one left.
    await waitUntil(() => other.held() === 2, "the other subscriber's two deliveries to be in flight together");
    expect(busy.held()).toBe(2);
    expect(busy.mostHeld()).toBe(2);

    for (let released = 0; released < busyIds.length + otherIds.length; released++) {
      await waitUntil(() => busy.held() + other.held() > 0, 'a delivery to arrive');
      if (other.held() > 0) other.releaseOne();
      else busy.releaseOne();
    }
    for (const id of [...busyIds, ...otherIds]) await h.waitForState(id, ['delivered']);
    expect(busy.mostHeld()).toBe(2);
    expect(await parkedForBytes()).toBe(0);
  });

  it('gives the bytes back when attempts are retried, fail for good, or find their endpoint deleted', async () => {
    const answers: number[] = [];
    const receiver = await TestReceiver.start((req, res) => {
      const path = req.url ?? '';
      // e0 fails once then succeeds; e1 always refuses for good (400); e2's requests are held.
      if (path.endsWith('/e0')) {
        answers.push(503);
        res.writeHead(answers.filter((a) => a === 503).length <= 2 ? 503 : 200).end();
      } else if (path.endsWith('/e1')) res.writeHead(400).end();
      else held.push(res);
    });
    const held: ServerResponse[] = [];
    closers.push(() => receiver.close());
    const retry = { maxRetries: 2, intervalMs: 50, backoff: 'fixed' as const };
    const saved = await Promise.all(
      [0, 1, 2].map((i) => h.saveEndpoint(buildEndpoint({ subscriberId: 'sub_paths', url: `${receiver.url}/e${i}`, retry }))),
    );
    const small = (n: number) => buildEvent({ subscriberId: 'sub_paths', payload: payloadOf(n) });
    const retried = [await h.enqueue(small(1000), saved[0]!), await h.enqueue(small(1000), saved[0]!)];
    const failed = await h.enqueue(small(1000), saved[1]!);
    const deleted = await h.enqueue(small(1000), saved[2]!);
    for (const id of retried) await h.waitForState(id, ['delivered']);
    await h.waitForState(failed, ['failed']);
    await waitUntil(() => held.length >= 1, "the deleted endpoint's delivery to be in flight");
    await h.store.endpoints.delete(saved[2]!);
    held.shift()?.writeHead(200).end();
    await waitUntil(async () => (await h.store.lanes.entry(deleted)) === null, 'the delivery to leave the scheduler');
    await waitUntil(async () => (await bytesHeld('sub_paths')) === 0, 'every byte to be given back');
    expect(await sleepsAtBytes('sub_paths')).toBe(false);
  });
});
