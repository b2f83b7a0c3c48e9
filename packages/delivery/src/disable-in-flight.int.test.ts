import type { ServerResponse } from 'node:http';
import { buildEndpoint, buildEvent, useTestReceiver } from '@hookrelay/testing';
import { useEngineHarness } from './engine-harness';

/**
 * An endpoint disabled while one of its deliveries is being sent: the disable ends the delivery
 * (endpoint_disabled) at once, and the attempt in flight answers after that.
 */
describe('a delivery whose endpoint is disabled while its attempt is in flight', () => {
  const receiver = useTestReceiver({ status: 200 }, 'each');
  const h = useEngineHarness({}, 'each');

  /** Sends one delivery, holds its request, disables the endpoint, then answers `status`. */
  async function disableWhileSending(status: number) {
    let held: ServerResponse | undefined;
    receiver.enqueue((_req, res) => {
      held = res;
    });
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: `${receiver.url}/hook`, eventTypes: ['custom.*'] }));
    const id = await h.enqueue(buildEvent({ subscriberId: endpoint.subscriberId, type: 'custom.order.paid' }), endpoint);
    await receiver.waitForRequests(1);
    expect((await h.worker.guard.disable(endpoint, 'manual', 'by the test')).disabled).toBe(true);
    await h.worker.endings.idle();
    expect((await h.waitForState(id, ['failed'])).failureReason).toBe('endpoint_disabled');
    held!.writeHead(status).end();
    // The attempt's outcome is recorded (its line logged after the record is written).
    const until = Date.now() + 10_000;
    while (!h.logLines.some((l) => l.msg === 'delivery.attempted' && l.deliveryId === id)) {
      if (Date.now() > until) throw new Error('the attempt was never recorded');
      await new Promise((r) => setTimeout(r, 10));
    }
    return { id, delivery: await h.store.deliveries.get(id) };
  }

  it('stays ended when the receiver then fails it: no retry is promised that nothing will make', async () => {
    const { id, delivery } = await disableWhileSending(503);
    expect(delivery).toMatchObject({ state: 'failed', failureReason: 'endpoint_disabled', attempts: 1 });
    expect(delivery?.nextAttemptAt).toBeUndefined();
    expect(await h.store.lanes.liveFor(delivery!.endpointId)).toEqual([]);
    // The attempt itself is in the history.
    expect((await h.store.deliveries.attempts(id)).map((a) => a.statusCode)).toEqual([503]);
    expect(await h.metricValue('hookrelay_deliveries_total', { outcome: 'disabled' })).toBe(1);
    expect(await h.metricValue('hookrelay_deliveries_total', { outcome: 'failed' })).toBe(0);
  });

  it('stays ended, counted once, when the receiver then refuses it for good', async () => {
    const { delivery } = await disableWhileSending(400); // never retried (classify.ts)
    expect(delivery).toMatchObject({ state: 'failed', failureReason: 'endpoint_disabled', attempts: 1, lastStatusCode: 400 });
    expect(await h.metricValue('hookrelay_deliveries_total', { outcome: 'disabled' })).toBe(1);
    expect(await h.metricValue('hookrelay_deliveries_total', { outcome: 'failed' })).toBe(0);
  });

  it('is delivered when the receiver then takes it, and counted once', async () => {
    const { delivery } = await disableWhileSending(200);
    expect(delivery).toMatchObject({ state: 'delivered', attempts: 1 });
    expect(delivery?.failureReason).toBeUndefined();
    expect(await h.metricValue('hookrelay_deliveries_total', { outcome: 'disabled' })).toBe(1);
    expect(await h.metricValue('hookrelay_deliveries_total', { outcome: 'delivered' })).toBe(0);
  });
});
