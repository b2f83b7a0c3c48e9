import type { Endpoint } from '@hookrelay/contracts';
import { buildEndpoint, buildEvent, useTestReceiver, waitForDrain } from '@hookrelay/testing';
import { useEngineHarness } from './engine-harness';

describe('Publisher.redeliver and recover, through the engine', () => {
  const h = useEngineHarness({}, 'each');
  const receiver = useTestReceiver({ status: 500 }, 'each');

  const endpointOnce = () =>
    h.saveEndpoint(buildEndpoint({ url: receiver.url, retry: { maxRetries: 0, intervalMs: 20, backoff: 'fixed' } }));

  async function failedDelivery(endpoint?: Endpoint): Promise<string> {
    const id = await h.enqueue(buildEvent(), endpoint ?? (await endpointOnce()));
    await h.waitForState(id, ['failed']);
    return id;
  }

  describe('when a caller acts on a read taken before another retry ran', () => {
    it('queues nothing and leaves the delivery failed, not pending with no job', async () => {
      const id = await failedDelivery();
      const stale = (await h.store.deliveries.get(id))!;
      expect(await h.publisher.redeliver([stale], false)).toEqual([id]);
      await receiver.waitForRequests(2);
      await h.waitForState(id, ['failed']);
      expect((await h.store.deliveries.get(id))!.attempts).toBe(2);

      // The second of two overlapping recovers: it listed the delivery before the first re-opened it.
      expect(await h.publisher.redeliver([stale], false)).toEqual([]);
      await waitForDrain(h.worker);
      expect(receiver.requests).toHaveLength(2);
      expect((await h.store.deliveries.get(id))!.state).toBe('failed');

      // A fresh read may retry again.
      const fresh = (await h.store.deliveries.get(id))!;
      expect(await h.publisher.redeliver([fresh], false)).toEqual([id]);
      await receiver.waitForRequests(3);
      await h.waitForState(id, ['failed']);
      expect((await h.store.deliveries.attempts(id)).map((a) => a.attempt)).toEqual([1, 2, 3]);
    });
  });

  it('recovers each failed delivery once when two recovers overlap', async () => {
    const endpoint = await endpointOnce();
    const ids = await Promise.all([1, 2, 3].map(() => failedDelivery(endpoint)));
    const results = await Promise.all([0, 1].map(() => h.publisher.recover(endpoint, { since: 0 })));
    expect(results[0]!.recovered + results[1]!.recovered).toBe(ids.length);
    await receiver.waitForRequests(ids.length * 2);
    await waitForDrain(h.worker);
    expect(receiver.requests).toHaveLength(ids.length * 2);
  });
});
