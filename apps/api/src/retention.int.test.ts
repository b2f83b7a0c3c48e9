import { useApiHarness } from './api-harness';
import { createEndpoint, publish, waitFor, waitForDelivery, useTenant, useReceiverPool } from './history-test-kit';

const RETENTION_MS = 1500;

describe('history retention', () => {
  const h = useApiHarness({ retentionMs: RETENTION_MS }, 'each');
  const t = useTenant(h, 'Acme');
  const receivers = useReceiverPool();

  /** Keys under the harness prefix whose name mentions one of `ids`. */
  async function keysNaming(ids: string[]): Promise<string[]> {
    return (await h.redis.keys(`${h.prefix}*`)).filter((key) => ids.some((id) => key.includes(id))).sort();
  }
  /** The same, less BullMQ's own job records. */
  async function storeKeysNaming(ids: string[]): Promise<string[]> {
    return (await keysNaming(ids)).filter((key) => !key.startsWith(`${h.prefix}:bull:`));
  }

  it('forgets events, deliveries, attempts and their indexes after the retention period, and keeps endpoints and their health', async () => {
    const ok = await createEndpoint(h, t, (await receivers.start({ status: 200 })).url, { eventTypes: ['custom.*'] });
    const failing = await createEndpoint(h, t, (await receivers.start({ status: 500 })).url, { eventTypes: ['custom.*'] });
    const gone = await createEndpoint(h, t, (await receivers.start({ status: 410 })).url, { eventTypes: ['custom.*'] });
    const notices = await receivers.start({ status: 200 });
    await createEndpoint(h, t, notices.url, { eventTypes: ['endpoint.disabled'] });

    // An event to three endpoints (delivered, failed, and 410 which disables and sends a notice), a test send and a manual retry.
    const event = await publish(h, t, 'custom.order.paid', { orderId: 1 });
    const byEndpoint = Object.fromEntries(event.deliveries.map((d) => [d.endpointId, d.id]));
    await waitForDelivery(h, t, byEndpoint[ok.id]!, 'delivered');
    await waitForDelivery(h, t, byEndpoint[failing.id]!, 'failed');
    await waitForDelivery(h, t, byEndpoint[gone.id]!, 'failed');
    expect((await h.call('POST', `${t.base}/deliveries/${byEndpoint[failing.id]}/retry`, { key: t.key })).status).toBe(202);
    await waitForDelivery(h, t, byEndpoint[failing.id]!, 'failed', 2);
    const test = await h.call('POST', `${t.base}/endpoints/${ok.id}/test`, { key: t.key });
    expect(test.body.attempt.statusCode).toBe(200);
    await notices.waitForRequests(1);

    const events = (await h.call('GET', `${t.base}/events`, { key: t.key })).body.data.map((e: { id: string }) => e.id);
    const deliveries = await waitFor(
      async () => (await h.call('GET', `${t.base}/deliveries`, { key: t.key })).body.data as Array<{ id: string; state: string }>,
      (list) => list.length === 5 && list.every((d) => d.state === 'delivered' || d.state === 'failed'),
      'five ended deliveries',
    );
    expect(events).toHaveLength(3); // the event, the endpoint.disabled notice, the test event
    const ids = [...events, ...deliveries.map((d) => d.id)];
    // Before expiry the check below has something to find.
    expect((await keysNaming(ids)).length).toBeGreaterThanOrEqual(ids.length);

    const remaining = await waitFor(
      () => storeKeysNaming(ids),
      (keys) => keys.length === 0,
      'history keys to expire',
      RETENTION_MS + 3000,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\nkeys left: ${(await keysNaming(ids)).join('\n')}`);
    });
    expect(remaining).toEqual([]);
    // Known and bounded, not history: BullMQ keeps the job hashes (ids and failure reason, no payload,
    // no attempts) of the last 1000 failed jobs (DELIVERY_JOB_OPTIONS.removeOnFail in packages/queue).
    // Anything else left naming an event or delivery fails here.
    const failedJobs = deliveries.filter((d) => d.state === 'failed').map((d) => d.id);
    for (const key of await keysNaming(ids))
      expect(key).toMatch(new RegExp(`^${h.prefix}:bull:deliveries:(${failedJobs.join('|')})(-m\\d+)?$`));

    for (const id of deliveries.map((d) => d.id)) {
      expect((await h.call('GET', `${t.base}/deliveries/${id}`, { key: t.key })).status).toBe(404);
      expect((await h.call('POST', `${t.base}/deliveries/${id}/retry`, { key: t.key })).status).toBe(404);
    }
    for (const id of events) {
      expect((await h.call('GET', `${t.base}/events/${id}`, { key: t.key })).status).toBe(404);
      expect((await h.call('POST', `${t.base}/events/${id}/replay`, { key: t.key, body: {} })).status).toBe(404);
    }
    expect((await h.call('GET', `${t.base}/deliveries`, { key: t.key })).body).toEqual({ data: [], nextCursor: null });
    expect((await h.call('GET', `${t.base}/events`, { key: t.key })).body).toEqual({ data: [], nextCursor: null });
    expect((await h.call('POST', `${t.base}/endpoints/${failing.id}/recover`, { key: t.key, body: { since: 0 } })).body.recovered).toBe(0);
    for (const index of [
      h.store.keys.subscriberDeliveries(t.id),
      h.store.keys.subscriberEvents(t.id),
      h.store.keys.endpointDeliveries(ok.id),
      h.store.keys.endpointDeliveries(failing.id),
    ]) {
      expect([index, await h.redis.exists(index)]).toEqual([index, 0]);
    }

    // What is not history stays: the endpoints, with their health and the disable record.
    const kept = await h.call('GET', `${t.base}/endpoints/${gone.id}`, { key: t.key });
    expect(kept.body).toMatchObject({
      status: 'disabled',
      disabledReason: expect.stringMatching(/^gone/),
      health: { sampleSize: 1, successRate: 0 },
    });
    const okNow = await h.call('GET', `${t.base}/endpoints/${ok.id}`, { key: t.key });
    expect(okNow.body.health).toMatchObject({ successRate: 1, lastSuccessAt: expect.any(Number) });
    const failingNow = await h.call('GET', `${t.base}/endpoints/${failing.id}`, { key: t.key });
    // Two failed attempts of one delivery (it was retried once): one failed delivery in the streak.
    expect(failingNow.body.health).toMatchObject({ sampleSize: 2, consecutiveFailures: 1 });

    // And the endpoints still work: a new event is delivered and listed.
    const fresh = await publish(h, t, 'custom.order.paid', { orderId: 2 });
    await waitForDelivery(h, t, fresh.deliveries.find((d) => d.endpointId === ok.id)!.id, 'delivered');
    expect((await h.call('GET', `${t.base}/events`, { key: t.key })).body.data.map((e: { id: string }) => e.id)).toEqual([fresh.id]);
  });
});
