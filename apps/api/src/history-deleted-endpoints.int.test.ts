import { newId } from '@hookrelay/contracts';
import { buildEndpoint, watchCommands } from '@hookrelay/testing';
import { useApiHarness } from './api-harness';
import { createEndpoint, publish, useTenant, useReceiverPool } from './history-test-kit';

const CYCLES = 1500;

describe("an event's deliveries to endpoints deleted since", () => {
  // No worker: deliveries stay pending, and nothing but the requests measured runs Redis commands.
  let clock = 1_900_000_000_000;
  const h = useApiHarness(() => ({ worker: false, now: () => clock }));
  const t = useTenant(h, 'Acme');
  const receivers = useReceiverPool();

  /**
   * Commands the API's store connection sent while `fn` ran, counted in the client: Redis's own
   * counters (INFO stats) also count the suites running beside this one on the test Redis.
   */
  async function commandsRun<T>(fn: () => Promise<T>): Promise<{ result: T; commands: number }> {
    const watch = watchCommands(h.redis);
    try {
      const result = await fn();
      return { result, commands: watch.sent };
    } finally {
      watch.stop();
    }
  }

  /** Endpoints created and deleted one after the other, a millisecond apart, as a client looping on the API would. */
  async function churn(cycles: number): Promise<void> {
    for (let i = 0; i < cycles; i++) {
      clock += 1;
      const endpoint = buildEndpoint({ id: newId('ep', clock), subscriberId: t.id, url: 'http://127.0.0.1:9/', createdAt: clock });
      expect(await h.store.endpoints.create(endpoint, 100)).toBe(true);
      await h.store.endpoints.delete(endpoint);
    }
  }

  it('looks only at the endpoints alive when it was created and those a replay sent it to, and still counts them', async () => {
    const receiver = await receivers.start({ status: 200 });
    // More deleted endpoints than the default limit allows (limits.maxDeletedEndpoints), as an operator may allow.
    expect((await h.call('PATCH', `/v1/subscribers/${t.id}`, { body: { limits: { maxDeletedEndpoints: 10_000 } } })).status).toBe(200);
    const kept = await createEndpoint(h, t, receiver.url);
    const deletedSince = await createEndpoint(h, t, receiver.url);
    await churn(CYCLES); // deleted before the event: they cannot hold its deliveries
    clock += 10_000;
    const first = await publish(h, t, 'custom.order.paid', { n: 1 });
    expect(first.deliveries.map((d) => d.endpointId).sort()).toEqual([kept.id, deletedSince.id].sort());
    clock += 10_000;
    expect((await h.call('DELETE', `${t.base}/endpoints/${deletedSince.id}`, { key: t.key })).status).toBe(204);
    clock += 10_000;
    await churn(CYCLES); // created after the event
    clock += 10_000;
    // Created after the event, sent it by a replay, deleted since: its delivery is still the event's.
    const replayedTo = await createEndpoint(h, t, receiver.url);
    const replay = await h.call('POST', `${t.base}/events/${first.id}/replay`, { key: t.key, body: { endpointIds: [replayedTo.id] } });
    expect(replay.body.created).toHaveLength(1);
    clock += 10_000;
    expect((await h.call('DELETE', `${t.base}/endpoints/${replayedTo.id}`, { key: t.key })).status).toBe(204);
    clock += 10_000;
    const second = await publish(h, t, 'custom.order.paid', { n: 2 });

    const listing = await commandsRun(() => h.call('GET', `${t.base}/events?include=outcomes&limit=50`, { key: t.key }));
    expect(listing.result.body.data.map((e: { id: string; outcomes: unknown }) => [e.id, e.outcomes])).toEqual([
      [second.id, { pending: 1, retrying: 0, delivered: 0, failed: 0 }],
      [first.id, { pending: 3, retrying: 0, delivered: 0, failed: 0 }],
    ]);
    // Before, 3 commands per event for every endpoint deleted within the retention period: over 18,000 here.
    expect(listing.commands).toBeLessThan(300);

    const shown = await commandsRun(() => h.call('GET', `${t.base}/events/${first.id}`, { key: t.key }));
    expect(shown.result.body.deliveries.map((d: { endpointId: string }) => d.endpointId).sort()).toEqual(
      [kept.id, deletedSince.id, replayedTo.id].sort(),
    );
    expect(shown.commands).toBeLessThan(300);
  });

  it('ends a page of events with outcomes early, with a cursor, once its deliveries to look up pass 5,000', async () => {
    const endpoints = [];
    for (let i = 0; i < 100; i++) {
      clock += 1;
      const endpoint = buildEndpoint({ id: newId('ep', clock), subscriberId: t.id, url: 'http://127.0.0.1:9/', createdAt: clock });
      expect(await h.store.endpoints.create(endpoint, 100)).toBe(true);
      endpoints.push(endpoint);
    }
    const published: string[] = [];
    for (let i = 0; i < 50; i++) {
      clock += 1;
      published.unshift((await publish(h, t, 'custom.order.paid', { n: i })).id);
    }
    // One endpoint replaced: every event now has 101 endpoints that may hold a delivery of it, 5,050 for the page.
    clock += 10_000;
    await h.store.endpoints.delete(endpoints[0]!);
    await createEndpoint(h, t, 'http://127.0.0.1:9/');
    const watch = watchCommands(h.redis);
    const first = await h.call('GET', `${t.base}/events?include=outcomes&limit=50`, { key: t.key });
    watch.stop();
    // 4,949 lookups in script calls of at most 300, one after another (one of them all held Redis from everyone else).
    const reads = watch.scriptCalls.filter((c) => c.name === 'hookrelayReadDeliveries');
    expect(reads.length).toBeGreaterThanOrEqual(17);
    expect(Math.max(...reads.map((c) => c.keys))).toBeLessThanOrEqual(1 + 2 * 300);
    expect(watch.maxScriptsAtOnce).toBe(1);
    expect(first.body.data.map((e: { id: string }) => e.id)).toEqual(published.slice(0, 49));
    for (const e of first.body.data) expect(e.outcomes).toEqual({ pending: 100, retrying: 0, delivered: 0, failed: 0 });
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const rest = await h.call('GET', `${t.base}/events?include=outcomes&limit=50&cursor=${first.body.nextCursor}`, { key: t.key });
    expect(rest.body.data.map((e: { id: string; outcomes: unknown }) => [e.id, e.outcomes])).toEqual([
      [published[49], { pending: 100, retrying: 0, delivered: 0, failed: 0 }],
    ]);
    expect(rest.body.nextCursor).toBeNull();
  });
});
