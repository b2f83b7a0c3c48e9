import type { ServerResponse } from 'node:http';
import { buildEndpoint, buildEvent, TestReceiver } from '@hookrelay/testing';
import { startEngineHarness, type EngineHarness } from '../engine-harness';

async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

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

describe("a subscriber's payload bytes in flight on a worker (WORKER_SUBSCRIBER_BYTES_IN_FLIGHT)", () => {
  // 10,000 bytes: two 4,000-byte deliveries fit, a third does not. At concurrency 20 the shares let
  // one subscriber hold 8, one endpoint 5 and one address 5, so the bound is what binds.
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
  const publish = async (subscriberId: string, url: string, endpoints: number, perEndpoint: number, chars: number) => {
    const saved = await Promise.all(
      Array.from({ length: endpoints }, (_, i) => h.saveEndpoint(buildEndpoint({ subscriberId, url: `${url}/e${i}` }))),
    );
    const ids: string[] = [];
    for (let n = 0; n < perEndpoint; n++) {
      for (const endpoint of saved) ids.push(await h.enqueue(buildEvent({ subscriberId, payload: payloadOf(chars) }), endpoint));
    }
    return ids;
  };

  it('holds its big deliveries to the bound, parks the rest, and delivers each parked one once as bytes free', async () => {
    const receiver = await holdingReceiver();
    const ids = await publish('sub_big', receiver.url, 3, 4, 4000);

    await waitUntil(() => receiver.held() === 2, 'two deliveries to be in flight');
    await waitUntil(async () => (await h.metricValue('hookrelay_deliveries_parked_total', { reason: 'bytes' })) >= 1, 'a park for bytes');
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
  });

  it('sends a delivery larger than the bound when its subscriber has nothing else in flight, one at a time', async () => {
    const receiver = await holdingReceiver();
    const ids = await publish('sub_huge', receiver.url, 2, 1, 3 * BOUND);

    await waitUntil(() => receiver.held() === 1, 'the first oversize delivery to arrive');
    await waitUntil(async () => (await h.metricValue('hookrelay_deliveries_parked_total', { reason: 'bytes' })) >= 1, 'the second to park');
    expect(receiver.held()).toBe(1);
    receiver.releaseOne();
    await waitUntil(() => receiver.held() === 1 && receiver.deliveryIds().length === 2, 'the second oversize delivery to arrive');
    receiver.releaseOne();
    for (const id of ids) await h.waitForState(id, ['delivered']);
    expect(receiver.mostHeld()).toBe(1);
    expect(receiver.deliveryIds().sort()).toEqual([...ids].sort());
  });

  it("leaves another subscriber's deliveries to its own bound while one subscriber is parked at its", async () => {
    const busy = await holdingReceiver();
    const busyIds = await publish('sub_big', busy.url, 3, 4, 4000);
    await waitUntil(() => busy.held() === 2, "the busy subscriber's bound to be in flight");
    await waitUntil(async () => (await h.metricValue('hookrelay_deliveries_parked_total', { reason: 'bytes' })) >= 1, 'a park for bytes');

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
  });
});
