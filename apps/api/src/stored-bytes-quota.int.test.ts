import { deliveryId } from '@hookrelay/contracts';
import { useTestReceiver, waitUntil } from '@hookrelay/testing';
import { useApiHarness } from './api-harness';
import { DEFAULT_SUBSCRIBER_LIMITS } from './subscriber-limits';
import { createSource, eventsOf, historyOf, ingest, newSubscriber } from './sources/source-test-kit';

const WITH_TOKEN = { 'x-source-token': 'stored-bytes-secret-1' };
const TOKEN_HEADER = { type: 'header', headers: { 'X-Source-Token': 'stored-bytes-secret-1' } };

/** A payload of about `chars` characters. */
const eventOf = (chars: number) => ({ type: 'custom.stored', payload: { blob: 'x'.repeat(chars) } });

describe('stored bytes per subscriber (limits.maxStoredBytes)', () => {
  const h = useApiHarness({ worker: false, policy: { allowPrivateTargets: true } });

  /** A new subscriber whose limit the admin set to `maxStoredBytes`. */
  async function limited(maxStoredBytes: number): Promise<string> {
    const { sid } = await newSubscriber(h);
    expect((await h.call('PATCH', `/v1/subscribers/${sid}`, { body: { limits: { maxStoredBytes } } })).status).toBe(200);
    return sid;
  }
  const usageOf = async (sid: string): Promise<number> => (await h.call('GET', `/v1/subscribers/${sid}`)).body.usage.storedBytes;

  it('is 1 GiB by default, from HOOKRELAY_MAX_STORED_BYTES_PER_SUBSCRIBER, shown with what the subscriber has used', async () => {
    // config.test.ts asserts HOOKRELAY_MAX_STORED_BYTES_PER_SUBSCRIBER's default, the same value.
    expect(DEFAULT_SUBSCRIBER_LIMITS.maxStoredBytes).toBe(1024 ** 3);
    const { sid } = await newSubscriber(h);
    expect((await h.call('GET', `/v1/subscribers/${sid}`)).body).toMatchObject({
      limits: { maxStoredBytes: 1024 ** 3 },
      usage: { storedBytes: 0, deliveriesHeld: false },
    });
    expect((await h.call('POST', `/v1/subscribers/${sid}/events`, { body: eventOf(1000) })).status).toBe(202);
    // The event's JSON (its payload and ~100 characters of id, type and time), 250 bytes beside it
    // and its type again (its history log entry holds it).
    const used = await usageOf(sid);
    expect(used).toBeGreaterThan(1400);
    expect(used).toBeLessThan(1500);
  });

  it.each<[string, unknown]>([
    ['a negative limit', -1],
    ['a fraction', 1.5],
    ['a string', '1000'],
    ['a limit above the ceiling (1 TiB)', 2 ** 40 + 1],
  ])('refuses %s with 400 naming limits.maxStoredBytes', async (_label, maxStoredBytes) => {
    const { sid } = await newSubscriber(h);
    const res = await h.call('PATCH', `/v1/subscribers/${sid}`, { body: { limits: { maxStoredBytes } } });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(['limits.maxStoredBytes']);
    expect((await h.call('GET', `/v1/subscribers/${sid}`)).body.limits.maxStoredBytes).toBe(1024 ** 3);
  });

  it('refuses the publish that would go over with 429 storage_quota_exceeded and Retry-After, writing nothing of it; other subscribers publish on', async () => {
    const sid = await limited(5000);
    const other = await limited(5000);
    const single = await h.call('POST', `/v1/subscribers/${sid}/events`, { body: eventOf(3000) });
    expect(single.status).toBe(202);
    const used = await usageOf(sid);
    const refused = await h.call('POST', `/v1/subscribers/${sid}/events/batch`, { body: { events: [eventOf(100), eventOf(2000)] } });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toEqual({
      code: 'storage_quota_exceeded',
      message: expect.stringContaining(`has written ${used} of the 5000 bytes`),
      details: [{ path: 'limits.maxStoredBytes', message: expect.stringContaining('at most 5000 bytes') }],
    });
    // The default retention period is 30 days: the first event's bytes fit again about then.
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(30 * 86_400 - 60);
    expect(retryAfter).toBeLessThanOrEqual(31 * 86_400);
    expect(await eventsOf(h, sid)).toHaveLength(1);
    expect(await usageOf(sid)).toBe(used);
    // What still fits is accepted; another subscriber's bytes are its own.
    expect((await h.call('POST', `/v1/subscribers/${sid}/events`, { body: eventOf(100) })).status).toBe(202);
    expect((await h.call('POST', `/v1/subscribers/${other}/events`, { body: eventOf(3000) })).status).toBe(202);
    // A request larger than the whole limit can never fit: 413, not a wait.
    const alone = await h.call('POST', `/v1/subscribers/${other}/events`, { body: eventOf(6000) });
    expect(alone.status).toBe(413);
    expect(alone.body.error.code).toBe('storage_quota_exceeded');
    expect(alone.headers.get('retry-after')).toBeNull();
    // Raising the limit lets the refused batch in at once.
    expect((await h.call('PATCH', `/v1/subscribers/${sid}`, { body: { limits: { maxStoredBytes: 50_000 } } })).status).toBe(200);
    expect((await h.call('POST', `/v1/subscribers/${sid}/events/batch`, { body: { events: [eventOf(100), eventOf(2000)] } })).status).toBe(
      202,
    );
  });

  it('answers an idempotent repeat at the limit, refuses a replay that would go over (nothing queued), and lets a disable through', async () => {
    const { sid } = await newSubscriber(h);
    const endpoint = async (path: string) =>
      (await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: `http://127.0.0.1:9/${path}` } })).body.id as string;
    const first = await endpoint('a');
    const keyed = { body: eventOf(10), headers: { 'Idempotency-Key': 'stored-k1' } };
    const published = await h.call('POST', `/v1/subscribers/${sid}/events`, keyed);
    expect(published.status).toBe(202);
    const used = await usageOf(sid);
    // Room for less than one more delivery: a replay to an endpoint made since would create one.
    expect((await h.call('PATCH', `/v1/subscribers/${sid}`, { body: { limits: { maxStoredBytes: used + 1000 } } })).status).toBe(200);
    const repeat = await h.call('POST', `/v1/subscribers/${sid}/events`, keyed);
    expect(repeat.status).toBe(202);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(repeat.body.id).toBe(published.body.id);

    const second = await endpoint('b');
    const replay = await h.call('POST', `/v1/subscribers/${sid}/events/${published.body.id}/replay`, { body: { endpointIds: [second] } });
    expect(replay.status).toBe(429);
    expect(replay.body.error).toMatchObject({ code: 'storage_quota_exceeded', details: [{ path: 'limits.maxStoredBytes' }] });
    expect(await h.store.deliveries.get(deliveryId(published.body.id, second))).toBeNull();
    expect(await usageOf(sid)).toBe(used);

    // At the limit, a disable still ends the endpoint's deliveries and announces itself.
    const atLimit = await h.call('PATCH', `/v1/subscribers/${sid}`, { body: { limits: { maxStoredBytes: used } } });
    expect(atLimit.status).toBe(200);
    // At it, not a tenth over it: publishes are refused, deliveries still go.
    expect(atLimit.body.usage).toMatchObject({ storedBytes: used, deliveriesHeld: false });
    const wellOver = await h.call('PATCH', `/v1/subscribers/${sid}`, {
      body: { limits: { maxStoredBytes: Math.floor((used * 10) / 11) } },
    });
    expect(wellOver.body.usage).toMatchObject({ storedBytes: used, deliveriesHeld: true });
    const disabled = await h.call('PATCH', `/v1/subscribers/${sid}/endpoints/${first}`, { body: { status: 'disabled' } });
    expect(disabled.status).toBe(200);
    expect(await h.store.deliveries.get(deliveryId(published.body.id, first))).toMatchObject({ state: 'failed' });
    const types = await Promise.all((await eventsOf(h, sid)).map(async (id) => (await h.store.events.get(id))?.type));
    expect(types).toContain('endpoint.disabled');
  });

  it("refuses a source's publish the same way, answering its sender 429 and recording it", async () => {
    const sid = await limited(1500);
    const source = await createSource(h, sid, { eventType: 'source.stored', verification: TOKEN_HEADER });
    const body = JSON.stringify({ blob: 'y'.repeat(1000) });
    expect((await ingest(h, source.ingestUrl, { body, headers: WITH_TOKEN })).status).toBe(202);
    const refused = await ingest(h, source.ingestUrl, { body, headers: WITH_TOKEN });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    const history = await historyOf(h, sid, source.id);
    expect(history[0]).toMatchObject({ outcome: 'rejected', status: 429, reason: expect.stringContaining('subscriber storage quota') });
    expect(await eventsOf(h, sid)).toHaveLength(1);
  });
});

describe('a subscriber at its stored bytes, with the worker: a manual retry is refused until the limit is raised', () => {
  const h = useApiHarness({ policy: { allowPrivateTargets: true } });
  const receiver = useTestReceiver();

  it('answers the retry 429, changing nothing, and takes it once the admin raises the limit', async () => {
    const { sid } = await newSubscriber(h);
    receiver.enqueue({ status: 500 });
    const created = await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: receiver.url, retry: { maxRetries: 0 } } });
    expect(created.status).toBe(201);
    // Larger than the event published below at the limit: that one is refused 429 (it would fit in
    // a limit this size once older records expire), not 413.
    const published = await h.call('POST', `/v1/subscribers/${sid}/events`, { body: eventOf(500) });
    const id = published.body.deliveries[0].id;
    await waitUntil(async () => (await h.store.deliveries.get(id))?.state === 'failed', 'the delivery to fail');
    // The limit set to what the subscriber has written already: at it, nothing more may be stored.
    const used = (await h.call('GET', `/v1/subscribers/${sid}`)).body.usage.storedBytes;
    expect(used).toBeGreaterThan(0);
    expect((await h.call('PATCH', `/v1/subscribers/${sid}`, { body: { limits: { maxStoredBytes: used } } })).status).toBe(200);

    const refused = await h.call('POST', `/v1/subscribers/${sid}/deliveries/${id}/retry`);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'storage_quota_exceeded', details: [{ path: 'limits.maxStoredBytes' }] });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await h.store.deliveries.get(id)).toMatchObject({ state: 'failed', attempts: 1 });
    expect((await h.call('POST', `/v1/subscribers/${sid}/events`, { body: eventOf(10) })).status).toBe(429);

    expect((await h.call('PATCH', `/v1/subscribers/${sid}`, { body: { limits: { maxStoredBytes: null } } })).status).toBe(200);
    expect((await h.call('POST', `/v1/subscribers/${sid}/deliveries/${id}/retry`)).status).toBe(202);
    await waitUntil(async () => (await h.store.deliveries.get(id))?.state === 'delivered', 'the retry to be delivered');
    expect(receiver.requests).toHaveLength(2);
  });
});
