import { buildEndpoint, buildEvent, TestReceiver } from '@hookrelay/testing';
import { startEngineHarness, type EngineHarness } from './engine-harness';

describe('when a publisher dies after recording deliveries but before queueing them', () => {
  let h: EngineHarness;
  let receiver: TestReceiver;

  beforeEach(async () => {
    h = await startEngineHarness({ outboxSweepIntervalMs: 100, outboxGraceMs: 200 });
    receiver = await TestReceiver.start();
  });
  afterEach(async () => {
    await h.close();
    await receiver.close();
  });

  it('the outbox sweeper queues them and they are delivered once', async () => {
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url }));
    const event = buildEvent();
    // Exactly what enqueueEvents writes before its addBulk: the crash window.
    const [[delivery] = []] = await h.store.deliveries.createForEvents([{ event, endpoints: [endpoint] }]);
    if (!delivery) throw new Error('no delivery recorded');
    expect(await h.queue.getJobCounts('waiting', 'delayed')).toMatchObject({ waiting: 0, delayed: 0 });

    const done = await h.waitForState(delivery.id, ['delivered'], 5000);
    expect(done.attempts).toBe(1);
    expect(receiver.requests).toHaveLength(1);
    expect(await h.store.deliveries.outboxBefore(Date.now(), 10)).toEqual([]);
  });

  it('leaves entries younger than the grace period to the publisher', async () => {
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url }));
    await h.store.deliveries.createForEvents([{ event: buildEvent(), endpoints: [endpoint] }]);
    await new Promise((r) => setTimeout(r, 120));
    expect(receiver.requests).toHaveLength(0);
  });
});
