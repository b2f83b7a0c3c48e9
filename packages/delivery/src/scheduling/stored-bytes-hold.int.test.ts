import { buildEndpoint, buildEvent, TestReceiver, waitUntil } from '@hookrelay/testing';
import { Publisher, StoredBytesError } from '@hookrelay/publishing';
import { startEngineHarness, type EngineHarness } from '../engine-harness';

describe("a subscriber over its stored bytes (admit.lua): its deliveries wait, everyone else's go", () => {
  let h: EngineHarness;
  let receiver: TestReceiver;
  beforeEach(async () => {
    // A sleep far longer than the test: a held subscriber goes again only when woken.
    h = await startEngineHarness({ scheduling: { capSleepMs: 600_000 } });
    receiver = await TestReceiver.start({ status: 200 });
  });
  afterEach(async () => {
    await receiver.close();
    await h.close();
  });
  const arrivedFor = (subscriberId: string) => receiver.requests.filter((r) => r.url === `/${subscriberId}`).length;
  const heldForStoredBytes = async (subscriberId: string) =>
    (await h.redis.hget(`${h.store.keys.sched()}:sleep-why`, `s|fast|${subscriberId}`)) === 'stored';
  const endpointOf = (subscriberId: string) => h.saveEndpoint(buildEndpoint({ subscriberId, url: `${receiver.url}/${subscriberId}` }));

  it("holds the subscriber's deliveries while it is over, delivers another's meanwhile, and lets them go as soon as the limit is raised", async () => {
    const held = await endpointOf('sub_heldstore');
    const other = await endpointOf('sub_otherstore');
    // A limit below what one event costs: once the event is written the subscriber is over it.
    await h.store.storedBytes.setLimit('sub_heldstore', 100, Date.now());
    const waiting = await h.enqueue(buildEvent({ subscriberId: 'sub_heldstore' }), held);
    await waitUntil(() => heldForStoredBytes('sub_heldstore'), 'the subscriber to be held for its stored bytes');
    const delivered = await h.enqueue(buildEvent({ subscriberId: 'sub_otherstore' }), other);
    await h.waitForState(delivered, ['delivered']);
    // The other subscriber's delivery went through the same admission, after the held one's.
    expect(arrivedFor('sub_heldstore')).toBe(0);
    expect((await h.store.lanes.entry(waiting))?.ticket).toBeDefined();
    expect(await h.store.deliveries.get(waiting)).toMatchObject({ state: 'pending' });

    await h.store.storedBytes.setLimit('sub_heldstore', 1_000_000, Date.now());
    await h.waitForState(waiting, ['delivered']);
    expect(arrivedFor('sub_heldstore')).toBe(1);
    expect(await heldForStoredBytes('sub_heldstore')).toBe(false);
  });

  it('sends a subscriber at its limit (publishes refused, a tenth of room for its accepted deliveries), and holds it a tenth over', async () => {
    // What one event and its delivery cost, measured on another subscriber: the events below have
    // the same shape, ids of the same length, so each costs exactly this (a first attempt of this
    // size is paid for by its publish and charged nothing).
    const probe = await endpointOf('sub_probestore');
    await h.waitForState(await h.enqueue(buildEvent({ subscriberId: 'sub_probestore' }), probe), ['delivered']);
    const oneEvent = (await h.store.storedBytes.usage('sub_probestore', Date.now(), 0)).usedBytes;
    expect(oneEvent).toBeGreaterThan(2200);

    // Exactly at the limit once its event is written: sent.
    const atLimit = await endpointOf('sub_limitstore');
    await h.store.storedBytes.setLimit('sub_limitstore', oneEvent, Date.now());
    await h.waitForState(await h.enqueue(buildEvent({ subscriberId: 'sub_limitstore' }), atLimit), ['delivered']);
    expect((await h.store.storedBytes.usage('sub_limitstore', Date.now(), oneEvent)).usedBytes).toBe(oneEvent);

    // A tenth over it (the limit a little under 10/11 of what it wrote): held.
    const over = await endpointOf('sub_overxstore');
    await h.store.storedBytes.setLimit('sub_overxstore', Math.floor((oneEvent * 10) / 11), Date.now());
    const waiting = await h.enqueue(buildEvent({ subscriberId: 'sub_overxstore' }), over);
    await waitUntil(() => heldForStoredBytes('sub_overxstore'), 'the subscriber to be held');
    expect(await h.store.deliveries.get(waiting)).toMatchObject({ state: 'pending' });
    expect(arrivedFor('sub_overxstore')).toBe(0);
  });

  it('counts the attempts the worker records, so a subscriber whose retries fill its limit stops being sent', async () => {
    const failing = await TestReceiver.start({ status: 503 });
    try {
      const endpoint = await h.saveEndpoint(
        buildEndpoint({ subscriberId: 'sub_retrystore', url: failing.url, retry: { maxRetries: 50, intervalMs: 1, backoff: 'fixed' } }),
      );
      const publisher = new Publisher({ store: h.store, storedBytesLimit: 20_000 });
      const [[delivery] = []] = await publisher.enqueue([{ event: buildEvent({ subscriberId: 'sub_retrystore' }), endpoints: [endpoint] }]);
      // Each retry writes ~1 KB (its request headers), so 50 of them would write far more than the
      // 22 KB (a tenth over the limit) at which admission holds the subscriber.
      await waitUntil(() => heldForStoredBytes('sub_retrystore'), 'the subscriber to be held for its stored bytes');
      const { usedBytes } = await h.store.storedBytes.usage('sub_retrystore', Date.now(), 20_000);
      expect(usedBytes).toBeGreaterThanOrEqual(20_000);
      const attempts = (await h.store.deliveries.get(delivery!.id))!.attempts;
      expect(attempts).toBeGreaterThan(1);
      expect(attempts).toBeLessThan(51);
      // Held, not ended: the delivery waits with its retries still to make.
      expect(await h.store.deliveries.get(delivery!.id)).toMatchObject({ state: 'retrying' });
      // And the next publish is refused, naming how far over it is.
      await expect(publisher.enqueue([{ event: buildEvent({ subscriberId: 'sub_retrystore' }), endpoints: [endpoint] }])).resolves.toEqual([
        [],
      ]);
      const over = await h.store.deliveries.writeEvents([
        { event: buildEvent({ subscriberId: 'sub_retrystore' }), endpoints: [endpoint], storedBytesLimit: 20_000 },
      ]);
      expect(over[0]).toMatchObject({ kind: 'stored', usedBytes, limitBytes: 20_000 });
      expect(new StoredBytesError(over[0] as never).message).toContain(`${usedBytes} of the 20000 bytes`);
      expect(failing.requests.length).toBe(attempts);
    } finally {
      await failing.close();
    }
  });
});
