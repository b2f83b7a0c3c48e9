import { buildEndpoint, buildEvent, TestReceiver, waitForDrain } from '@hookrelay/testing';
import { startEngineHarness, type EngineHarness } from './engine-harness';

/**
 * waitForDrain (packages/testing) is what suites wait on before asserting that nothing more
 * arrived: if it returned early, those assertions would pass without checking anything.
 */
describe('waitForDrain', () => {
  let h: EngineHarness | undefined;
  let receiver: TestReceiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    await h?.close();
  });

  it('returns only once every delivery has arrived, in-flight attempts and retries due within the wait included', async () => {
    h = await startEngineHarness();
    // Every answer takes 150 ms, and the first is a 500: that delivery is retried 300 ms later.
    receiver = (await TestReceiver.start({ status: 200, delayMs: 150 })).enqueue({ status: 500, delayMs: 150 });
    const endpoint = await h.saveEndpoint(
      buildEndpoint({ url: receiver.url, retry: { maxRetries: 1, intervalMs: 300, backoff: 'fixed' } }),
    );
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await h.enqueue(buildEvent({ type: 'custom.drain' }), endpoint));

    // Not drained while they are under way: it says so rather than return.
    await expect(waitForDrain(h.worker, { timeoutMs: 50 })).rejects.toThrow(/not drained after 50 ms/);
    await waitForDrain(h.worker, { timeoutMs: 10_000 });

    expect(receiver.requests).toHaveLength(6);
    expect((await h.store.deliveries.getMany(ids)).map((d) => d.state)).toEqual(Array(5).fill('delivered'));
  });

  it('does not wait for a retry due after its timeout, which could not arrive within the wait', async () => {
    h = await startEngineHarness();
    receiver = await TestReceiver.start({ status: 500 });
    const endpoint = await h.saveEndpoint(
      buildEndpoint({ url: receiver.url, retry: { maxRetries: 1, intervalMs: 60_000, backoff: 'fixed' } }),
    );
    const id = await h.enqueue(buildEvent({ type: 'custom.drain' }), endpoint);
    await h.waitForState(id, ['retrying']);

    expect(await h.store.lanes.dueWithin(120_000)).toBe(1);
    expect(await h.store.lanes.dueWithin(2_000)).toBe(0);
    await expect(waitForDrain(h.worker, { timeoutMs: 2_000 })).resolves.toBeUndefined();
  });
});
