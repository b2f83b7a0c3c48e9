import type { ServerResponse } from 'node:http';
import { buildEndpoint, buildEvent, useTestReceiver, waitForDrain } from '@hookrelay/testing';
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
    // The attempt itself is in the history, as failed: the retry it asked for is not made. Its
    // log line and the attempts counter say the same.
    expect((await h.store.deliveries.attempts(id)).map((a) => [a.statusCode, a.outcome])).toEqual([[503, 'failed']]);
    expect(h.logLines.filter((l) => l.msg === 'delivery.attempted' && l.deliveryId === id).map((l) => l.outcome)).toEqual(['failed']);
    expect(await h.metricValue('hookrelay_delivery_attempts_total', { outcome: 'failed', status_class: '5xx' })).toBe(1);
    expect(await h.metricValue('hookrelay_delivery_attempts_total', { outcome: 'retry' })).toBe(0);
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

  describe('and then retried by a person, the old attempt still in flight', () => {
    /** Holds the delivery's request, disables and re-enables its endpoint, retries the delivery and holds that request too. */
    async function retryWhileSending() {
      const held: ServerResponse[] = [];
      const hold = (_req: unknown, res: ServerResponse) => void held.push(res);
      receiver.enqueue(hold, hold);
      const endpoint = await h.saveEndpoint(buildEndpoint({ url: `${receiver.url}/hook` }));
      const id = await h.enqueue(buildEvent({ subscriberId: endpoint.subscriberId }), endpoint);
      await receiver.waitForRequests(1);
      await h.worker.guard.disable(endpoint, 'manual', 'by the test');
      await h.worker.endings.idle();
      const ended = await h.waitForState(id, ['failed']);
      await h.saveEndpoint(endpoint); // active again
      expect(await h.publisher.redeliver([ended], false)).toEqual([id]);
      await receiver.waitForRequests(2);
      const attempted = async (n: number) => {
        const until = Date.now() + 10_000;
        while (h.logLines.filter((l) => l.msg === 'delivery.attempted' && l.deliveryId === id).length < n) {
          if (Date.now() > until) throw new Error(`attempt ${n} was never recorded`);
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      return { id, endpoint, held, attempted };
    }

    async function expectSettled(id: string, endpointId: string, history: Array<[number, number]>) {
      expect(await h.store.deliveries.get(id)).toMatchObject({ state: 'delivered', attempts: 2, lastStatusCode: 200 });
      expect((await h.store.deliveries.attempts(id)).map((a) => [a.attempt, a.statusCode])).toEqual(history);
      // Nothing of it is left in the scheduler, and nothing more is sent.
      expect(await h.store.lanes.liveFor(endpointId)).toEqual([]);
      await waitForDrain(h.worker);
      expect(receiver.requests).toHaveLength(2);
      expect(await h.metricValue('hookrelay_deliveries_total', { outcome: 'delivered' })).toBe(1);
      expect(await h.metricValue('hookrelay_deliveries_total', { outcome: 'failed' })).toBe(0);
    }

    it('the old attempt answered first moves nothing; the retry then records attempt 2 and ends the delivery', async () => {
      const { id, endpoint, held, attempted } = await retryWhileSending();
      held[0]!.writeHead(503).end();
      await attempted(1);
      expect(await h.store.deliveries.get(id)).toMatchObject({ state: 'pending', attempts: 1 });
      held[1]!.writeHead(200).end();
      await attempted(2);
      await expectSettled(id, endpoint.id, [
        [1, 503],
        [2, 200],
      ]);
    });

    it('the retry answered first ends the delivery; the old attempt then joins the history as attempt 2', async () => {
      const { id, endpoint, held, attempted } = await retryWhileSending();
      held[1]!.writeHead(200).end();
      await attempted(1);
      held[0]!.writeHead(503).end();
      await attempted(2);
      await expectSettled(id, endpoint.id, [
        [1, 200],
        [2, 503],
      ]);
    });
  });
});
