import { useTestReceiver } from '@hookrelay/testing';
import { manualClock, useApiHarness } from './api-harness';
import { MAX_FILTERED_LISTINGS_IN_FLIGHT, MAX_RECEIVER_WAITS_IN_FLIGHT } from './subscriber-limits';
import { createSource, eventsOf, historyOf, ingest, newSubscriber, useSubscriber } from './sources/source-test-kit';
import { sendgridHeaders, sendgridKeyPair } from './sources/vendor-signers';

const TOKEN_HEADER = { type: 'header', headers: { 'X-Source-Token': 'limits-test-secret-1' } };
const WITH_TOKEN = { 'x-source-token': 'limits-test-secret-1' };
const EVENT = { type: 'custom.order.paid', payload: { orderId: 1 } };

describe('per-subscriber limits', () => {
  describe('the subscriber record', () => {
    const h = useApiHarness({ worker: false });

    it('shows the effective limits and usage to the admin and to the subscriber itself', async () => {
      const { sid, key } = await newSubscriber(h);
      await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: 'http://127.0.0.1:9/a' } });
      const expected = {
        id: sid,
        name: 'Acme',
        createdAt: expect.any(Number),
        limits: {
          maxEndpoints: 100,
          maxSources: 50,
          eventsPerSecond: 0,
          maxDeletedEndpoints: 1000,
          sourceRequestsPerSecond: 200,
          sourceRequestsPerMinute: 6000,
          workUnitsPerSecond: 5000,
          workUnitsBurst: 250000,
          maxStoredBytes: 1073741824,
        },
        usage: { endpoints: 1, sources: 0, deletedEndpoints: 0, storedBytes: 0, deliveriesHeld: false },
      };
      expect((await h.call('GET', `/v1/subscribers/${sid}`)).body).toEqual(expected);
      expect((await h.call('GET', `/v1/subscribers/${sid}`, { key })).body).toEqual(expected);
      const other = await newSubscriber(h, 'Other');
      expect((await h.call('GET', `/v1/subscribers/${sid}`, { key: other.key })).status).toBe(404);
    });

    it('lets only the admin change them; null goes back to the default', async () => {
      const { sid, key } = await newSubscriber(h);
      const patched = await h.call('PATCH', `/v1/subscribers/${sid}`, { body: { limits: { maxEndpoints: 5, eventsPerSecond: 20 } } });
      expect(patched.status).toBe(200);
      expect(patched.body.limits).toEqual({
        maxEndpoints: 5,
        maxSources: 50,
        eventsPerSecond: 20,
        maxDeletedEndpoints: 1000,
        sourceRequestsPerSecond: 200,
        sourceRequestsPerMinute: 6000,
        workUnitsPerSecond: 5000,
        workUnitsBurst: 250000,
        maxStoredBytes: 1073741824,
      });
      expect((await h.call('PATCH', `/v1/subscribers/${sid}`, { key, body: { limits: { maxEndpoints: 1000 } } })).status).toBe(403);
      const reset = await h.call('PATCH', `/v1/subscribers/${sid}`, { body: { name: 'Acme Corp', limits: { maxEndpoints: null } } });
      expect(reset.body).toMatchObject({ name: 'Acme Corp', limits: { maxEndpoints: 100, maxSources: 50, eventsPerSecond: 20 } });
      expect((await h.call('GET', `/v1/subscribers/${sid}`)).body.limits).toEqual({
        maxEndpoints: 100,
        maxSources: 50,
        eventsPerSecond: 20,
        maxDeletedEndpoints: 1000,
        sourceRequestsPerSecond: 200,
        sourceRequestsPerMinute: 6000,
        workUnitsPerSecond: 5000,
        workUnitsBurst: 250000,
        maxStoredBytes: 1073741824,
      });
    });

    it.each<[string, unknown, string]>([
      ['a negative rate', { limits: { eventsPerSecond: -1 } }, 'limits.eventsPerSecond'],
      ['a fractional rate', { limits: { eventsPerSecond: 1.5 } }, 'limits.eventsPerSecond'],
      ['a rate as a string', { limits: { eventsPerSecond: '10' } }, 'limits.eventsPerSecond'],
      ['a rate above the ceiling', { limits: { eventsPerSecond: 10_000_001 } }, 'limits.eventsPerSecond'],
      ['an endpoint quota above the ceiling', { limits: { maxEndpoints: 1e9 } }, 'limits.maxEndpoints'],
      ['a source quota that is not a number', { limits: { maxSources: {} } }, 'limits.maxSources'],
      ['a deleted-endpoint limit below 0', { limits: { maxDeletedEndpoints: -1 } }, 'limits.maxDeletedEndpoints'],
      ['an unknown limit', { limits: { maxEvents: 1 } }, 'limits'],
      ['an empty name', { name: ' ' }, 'name'],
    ])('refuses %s with 400 naming the field, and changes nothing', async (_label, body, path) => {
      const { sid } = await newSubscriber(h);
      const res = await h.call('PATCH', `/v1/subscribers/${sid}`, { body });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([expect.objectContaining({ path })]);
      expect((await h.call('GET', `/v1/subscribers/${sid}`)).body).toMatchObject({
        name: 'Acme',
        limits: { maxEndpoints: 100, maxSources: 50, eventsPerSecond: 0 },
      });
    });

    it('answers 404 for a subscriber that does not exist', async () => {
      expect((await h.call('GET', '/v1/subscribers/sub_0000000000000000000000000')).status).toBe(404);
      expect((await h.call('PATCH', '/v1/subscribers/sub_0000000000000000000000000', { body: { name: 'x' } })).status).toBe(404);
    });
  });

  describe('quotas', () => {
    const h = useApiHarness({ worker: false, limits: { maxEndpoints: 3, maxSources: 2 } });

    const createEndpoint = (sid: string, i: number) =>
      h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: `http://127.0.0.1:9/${i}` } });

    it('refuses the endpoint over the quota with 409 quota_exceeded naming it, and stores nothing', async () => {
      const { sid } = await newSubscriber(h);
      for (let i = 0; i < 3; i++) expect((await createEndpoint(sid, i)).status).toBe(201);
      const over = await createEndpoint(sid, 3);
      expect(over.status).toBe(409);
      expect(over.body.error).toEqual({
        code: 'quota_exceeded',
        message: expect.stringContaining('3 endpoints'),
        details: [{ path: 'limits.maxEndpoints', message: expect.stringContaining('3') }],
      });
      expect((await h.call('GET', `/v1/subscribers/${sid}/endpoints`)).body.data).toHaveLength(3);
    });

    it('holds under concurrent creates (checked and written in one Redis script)', async () => {
      const { sid } = await newSubscriber(h);
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => createEndpoint(sid, i)));
      expect(answers.map((a) => a.status).sort()).toEqual([...Array(3).fill(201), ...Array(9).fill(409)]);
      expect((await h.call('GET', `/v1/subscribers/${sid}/endpoints`)).body.data).toHaveLength(3);
    });

    it('frees a place when an endpoint is deleted, and follows an admin override', async () => {
      const { sid } = await newSubscriber(h);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await createEndpoint(sid, i)).body.id);
      expect((await h.call('DELETE', `/v1/subscribers/${sid}/endpoints/${ids[0]}`)).status).toBe(204);
      expect((await createEndpoint(sid, 4)).status).toBe(201);
      expect((await createEndpoint(sid, 5)).status).toBe(409);
      await h.call('PATCH', `/v1/subscribers/${sid}`, { body: { limits: { maxEndpoints: 4 } } });
      expect((await createEndpoint(sid, 6)).status).toBe(201);
      expect((await createEndpoint(sid, 7)).status).toBe(409);
    });

    it("counts each subscriber's endpoints apart", async () => {
      const a = await newSubscriber(h, 'A');
      const b = await newSubscriber(h, 'B');
      for (let i = 0; i < 3; i++) expect((await createEndpoint(a.sid, i)).status).toBe(201);
      expect((await createEndpoint(b.sid, 0)).status).toBe(201);
    });

    it('refuses the source over the quota with 409 quota_exceeded naming it', async () => {
      const { sid } = await newSubscriber(h);
      await createSource(h, sid, { eventType: 'source.a', verification: TOKEN_HEADER });
      await createSource(h, sid, { eventType: 'source.b', verification: TOKEN_HEADER });
      const over = await h.call('POST', `/v1/subscribers/${sid}/sources`, {
        body: { name: 'third', eventType: 'source.c', verification: TOKEN_HEADER },
      });
      expect(over.status).toBe(409);
      expect(over.body.error).toEqual({
        code: 'quota_exceeded',
        message: expect.stringContaining('2 sources'),
        details: [{ path: 'limits.maxSources', message: expect.stringContaining('2') }],
      });
      expect((await h.call('GET', `/v1/subscribers/${sid}/sources`)).body.data).toHaveLength(2);
    });
  });

  describe('endpoints deleted within the retention period (maxDeletedEndpoints)', () => {
    const clock = manualClock();
    const h = useApiHarness(() => ({ worker: false, now: clock.now, retentionMs: 60_000 }));

    it('refuses a create once the subscriber has deleted that many, until they age out of the history', async () => {
      const { sid } = await newSubscriber(h);
      await h.call('PATCH', `/v1/subscribers/${sid}`, { body: { limits: { maxDeletedEndpoints: 3 } } });
      const create = (i: number) => h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: `http://127.0.0.1:9/${i}` } });
      for (let i = 0; i < 3; i++) {
        const created = await create(i);
        expect(created.status).toBe(201);
        expect((await h.call('DELETE', `/v1/subscribers/${sid}/endpoints/${created.body.id}`)).status).toBe(204);
        clock.advance(10_000);
      }
      const over = await create(3);
      expect(over.status).toBe(409);
      expect(over.body.error).toEqual({
        code: 'quota_exceeded',
        message: expect.stringContaining('deleted 3 endpoints within the retention period'),
        details: [{ path: 'limits.maxDeletedEndpoints', message: expect.stringContaining('3') }],
      });
      expect((await h.call('GET', `/v1/subscribers/${sid}`)).body.usage).toEqual({
        endpoints: 0,
        sources: 0,
        deletedEndpoints: 3,
        storedBytes: 0,
        deliveriesHeld: false,
      });
      // The first deletion ages out of the 60 s retention period: room for one more.
      clock.advance(31_000);
      expect((await h.call('GET', `/v1/subscribers/${sid}`)).body.usage.deletedEndpoints).toBe(2);
      expect((await create(4)).status).toBe(201);
      expect((await create(5)).status).toBe(201);
      // Still 2 deleted: the limit counts deletions, not endpoints alive.
      expect((await h.call('GET', `/v1/subscribers/${sid}`)).body.usage).toEqual({
        endpoints: 2,
        sources: 0,
        deletedEndpoints: 2,
        storedBytes: 0,
        deliveriesHeld: false,
      });
    });

    it('is 1,000 by default, ten times the endpoint quota', async () => {
      const { sid } = await newSubscriber(h);
      expect((await h.call('GET', `/v1/subscribers/${sid}`)).body.limits.maxDeletedEndpoints).toBe(1000);
    });
  });

  describe('deliveries one batch may create', () => {
    // 1,000 instead of the production 5,000 (config.test.ts asserts the default), to keep the test small.
    const h = useApiHarness({ worker: false, maxBatchDeliveries: 1000 });
    const batch = (n: number) => ({ events: Array.from({ length: n }, (_, i) => ({ type: 'custom.order.paid', payload: { i } })) });

    it('refuses a batch whose events times their endpoints exceed it with 413 naming events, and writes nothing', async () => {
      const { sid } = await newSubscriber(h);
      for (const name of ['a', 'b', 'c'])
        await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: `http://127.0.0.1:9/${name}` } });
      const over = await h.call('POST', `/v1/subscribers/${sid}/events/batch`, { body: batch(334) });
      expect(over.status).toBe(413);
      expect(over.body.error).toMatchObject({
        code: 'batch_too_large',
        message: expect.stringContaining('1002 deliveries'),
        details: [{ path: 'events', message: expect.stringContaining('at most 1000') }],
      });
      expect(await eventsOf(h, sid)).toEqual([]);
      // At the limit it is taken, every event to every endpoint.
      const at = await h.call('POST', `/v1/subscribers/${sid}/events/batch`, { body: batch(333) });
      expect(at.status).toBe(202);
      expect(at.body.events.flatMap((e: { deliveries: unknown[] }) => e.deliveries)).toHaveLength(999);
      expect(await eventsOf(h, sid)).toHaveLength(333);
    });

    it('counts only the endpoints an event goes to', async () => {
      const { sid } = await newSubscriber(h);
      await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: 'http://127.0.0.1:9/all' } });
      await h.call('POST', `/v1/subscribers/${sid}/endpoints`, {
        body: { url: 'http://127.0.0.1:9/other', eventTypes: ['custom.other.*'] },
      });
      // 1,000 events to the one endpoint that takes them: 1,000 deliveries, within the limit.
      expect((await h.call('POST', `/v1/subscribers/${sid}/events/batch`, { body: batch(1000) })).status).toBe(202);
      expect(await eventsOf(h, sid)).toHaveLength(1000);
    });
  });

  // An audit measured 100 endpoints of 100 patterns (of 100 segments) cost 17-37 ms an event to
  // match, each endpoint's each pattern against each event: a batch of 200 events of a type no
  // pattern matched held the API 16 s, and the delivery limit above saw nothing (no deliveries).
  describe("matching a batch's event types against the endpoints' eventTypes", () => {
    const h = useApiHarness({ worker: false });

    it('refuses patterns of more than 16 segments, naming the pattern', async () => {
      const { sid } = await newSubscriber(h);
      const res = await h.call('POST', `/v1/subscribers/${sid}/endpoints`, {
        body: { url: 'http://127.0.0.1:9/deep', eventTypes: ['ok.*', `${'a.'.repeat(16)}b`] },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ path: 'eventTypes.1', message: 'must have at most 16 segments' }]);
      expect(
        (
          await h.call('POST', `/v1/subscribers/${sid}/endpoints`, {
            body: { url: 'http://127.0.0.1:9/deep', eventTypes: [`${'a.'.repeat(15)}b`] },
          })
        ).status,
      ).toBe(201);
    });

    it('refuses a batch whose types would take more than the routing budget to match, with 413 naming events, and writes nothing', async () => {
      const { sid } = await newSubscriber(h);
      // 10,000 distinct trailing patterns that every 16-segment type must be checked against.
      for (let e = 0; e < 100; e++) {
        const eventTypes = Array.from({ length: 100 }, (_, p) => `${'*.'.repeat(14)}p${e}x${p}.*`);
        expect(
          (await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: `http://127.0.0.1:9/${e}`, eventTypes } })).status,
        ).toBe(201);
      }
      const events = Array.from({ length: 20 }, (_, i) => ({ type: `custom.${'y.'.repeat(13)}q${i}.r`, payload: {} }));
      const over = await h.call('POST', `/v1/subscribers/${sid}/events/batch`, { body: { events } });
      expect(over.status).toBe(413);
      expect(over.body.error).toMatchObject({
        code: 'batch_too_large',
        message: expect.stringContaining('send fewer distinct event types per batch'),
        details: [{ path: 'events', message: expect.any(String) }],
      });
      expect(await eventsOf(h, sid)).toEqual([]);
      // One event of such a type is never refused, and a batch of one type is matched once.
      expect((await h.call('POST', `/v1/subscribers/${sid}/events`, { body: events[0] })).status).toBe(202);
      // (A type none of the refused batch had: a type already matched costs nothing more.)
      const sameType = Array.from({ length: 200 }, () => ({ type: `custom.${'y.'.repeat(13)}fresh.r`, payload: {} }));
      expect((await h.call('POST', `/v1/subscribers/${sid}/events/batch`, { body: { events: sameType } })).status).toBe(202);
      expect(await eventsOf(h, sid)).toHaveLength(201);
    });
  });

  describe('deliveries one batch may create, against a single publish', () => {
    const h = useApiHarness({ worker: false, maxBatchDeliveries: 2 });

    it('leaves a single publish, and a batch of one, to its full fan-out (the endpoint quota bounds it); a batch of two is held to the limit', async () => {
      const { sid } = await newSubscriber(h);
      for (const name of ['a', 'b', 'c'])
        await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: `http://127.0.0.1:9/${name}` } });
      const single = await h.call('POST', `/v1/subscribers/${sid}/events`, { body: EVENT });
      expect(single.status).toBe(202);
      expect(single.body.deliveries).toHaveLength(3);
      // One event costs Redis what a single publish costs: "send fewer events" could not be followed.
      const batchOfOne = await h.call('POST', `/v1/subscribers/${sid}/events/batch`, { body: { events: [EVENT] } });
      expect(batchOfOne.status).toBe(202);
      expect(batchOfOne.body.events[0].deliveries).toHaveLength(3);
      const batchOfTwo = await h.call('POST', `/v1/subscribers/${sid}/events/batch`, { body: { events: [EVENT, EVENT] } });
      expect(batchOfTwo.status).toBe(413);
      expect(batchOfTwo.body.error).toMatchObject({ code: 'batch_too_large', message: expect.stringContaining('6 deliveries') });
      expect((await eventsOf(h, sid)).sort()).toEqual([single.body.id, batchOfOne.body.events[0].id].sort());
    });

    it("holds a SendGrid body split into events to it too: 413, recorded in the source's history, nothing published", async () => {
      const { sid } = await newSubscriber(h);
      await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: 'http://127.0.0.1:9/sg' } });
      const keys = sendgridKeyPair();
      const source = await createSource(h, sid, { verification: { type: 'sendgrid', publicKey: keys.publicKey } });
      const body = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ event: 'open', email: `a${i}@example.com` })));
      const three = body(3);
      const over = await ingest(h, source.ingestUrl, { body: three, headers: sendgridHeaders(keys, three) });
      expect(over.status).toBe(413);
      expect(over.json.error).toMatchObject({ code: 'batch_too_large', message: expect.stringContaining('3 deliveries') });
      expect((await historyOf(h, sid, source.id))[0]).toMatchObject({ outcome: 'rejected', reason: expect.stringContaining('at most 2') });
      expect(await eventsOf(h, sid)).toEqual([]);
      // Refused, so not taken for a copy: the same events in a body within the limit go through.
      const two = body(2);
      expect((await ingest(h, source.ingestUrl, { body: two, headers: sendgridHeaders(keys, two) })).status).toBe(202);
      expect(await eventsOf(h, sid)).toHaveLength(2);
    });
  });

  describe('a batch refused as too large, against the publish rate', () => {
    const clock = manualClock();
    const h = useApiHarness(() => ({ worker: false, maxBatchDeliveries: 2, now: clock.now }));

    it('takes none of the rate: the events it refused can still be published within the same second', async () => {
      const { sid } = await newSubscriber(h);
      expect((await h.call('PATCH', `/v1/subscribers/${sid}`, { body: { limits: { eventsPerSecond: 3 } } })).status).toBe(200);
      await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: 'http://127.0.0.1:9/one' } });
      const over = await h.call('POST', `/v1/subscribers/${sid}/events/batch`, { body: { events: [EVENT, EVENT, EVENT] } });
      expect(over.status).toBe(413);
      // Before, the refused three took the second's three events: these were 429.
      expect((await h.call('POST', `/v1/subscribers/${sid}/events/batch`, { body: { events: [EVENT, EVENT] } })).status).toBe(202);
      expect((await h.call('POST', `/v1/subscribers/${sid}/events`, { body: EVENT })).status).toBe(202);
      // The rate holds: a fourth event in the same instant is refused.
      expect((await h.call('POST', `/v1/subscribers/${sid}/events`, { body: EVENT })).status).toBe(429);
      expect(await eventsOf(h, sid)).toHaveLength(3);
    });
  });

  describe('custom headers', () => {
    const h = useApiHarness({ worker: false });
    const subscriber = useSubscriber(h, 'all');

    /** `count` headers whose lines (`name: value\r\n`) add up to `total` bytes. */
    function headersOf(count: number, total: number): Record<string, string> {
      const headers: Record<string, string> = {};
      let left = total;
      for (let i = 0; i < count; i++) {
        const name = `x-h${String(i).padStart(2, '0')}`;
        const size = i === count - 1 ? left : Math.floor(total / count);
        headers[name] = 'v'.repeat(size - name.length - 4);
        left -= size;
      }
      return headers;
    }

    it('accepts headers totalling exactly 8 KB', async () => {
      const res = await h.call('POST', `/v1/subscribers/${subscriber.sid}/endpoints`, {
        body: { url: 'http://127.0.0.1:9/ok', headers: headersOf(4, 8192) },
      });
      expect(res.status).toBe(201);
    });

    it.each([
      ['two headers of 4 KB and a bit', headersOf(2, 8193)],
      ['50 headers of 8 KB', Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`x-big-${i}`, 'v'.repeat(8000)]))],
    ])('refuses %s on create with 400 naming the 8 KB cap, and stores nothing', async (_label, headers) => {
      const before = (await h.call('GET', `/v1/subscribers/${subscriber.sid}/endpoints`)).body.data.length;
      const res = await h.call('POST', `/v1/subscribers/${subscriber.sid}/endpoints`, { body: { url: 'http://127.0.0.1:9/big', headers } });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ path: 'headers', message: expect.stringMatching(/8192 bytes \(8 KB\)/) }]);
      expect((await h.call('GET', `/v1/subscribers/${subscriber.sid}/endpoints`)).body.data).toHaveLength(before);
    });

    it('refuses the same on PATCH and keeps the endpoint as it was', async () => {
      const created = await h.call('POST', `/v1/subscribers/${subscriber.sid}/endpoints`, {
        body: { url: 'http://127.0.0.1:9/p', headers: { 'x-small': 'a' } },
      });
      const res = await h.call('PATCH', `/v1/subscribers/${subscriber.sid}/endpoints/${created.body.id}`, {
        body: { headers: headersOf(3, 9000) },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ path: 'headers', message: expect.stringMatching(/8192 bytes/) }]);
      expect((await h.call('GET', `/v1/subscribers/${subscriber.sid}/endpoints/${created.body.id}`)).body.headers).toEqual({
        'x-small': 'a',
      });
    });
  });

  describe('publish rate (eventsPerSecond)', () => {
    const clock = manualClock();
    const h = useApiHarness(() => ({ worker: false, now: clock.now }));
    const receiver = useTestReceiver();
    // A second API process on the same Redis data: the limit is shared through Redis.
    const second = useApiHarness(() => ({ worker: false, now: clock.now, prefix: h.prefix }));

    async function limited(eventsPerSecond: number): Promise<string> {
      const { sid } = await newSubscriber(h);
      expect((await h.call('PATCH', `/v1/subscribers/${sid}`, { body: { limits: { eventsPerSecond } } })).status).toBe(200);
      return sid;
    }

    it('is off by default: 100 publishes in one instant are all accepted', async () => {
      const { sid } = await newSubscriber(h);
      const answers = await Promise.all(
        Array.from({ length: 100 }, () => h.call('POST', `/v1/subscribers/${sid}/events`, { body: EVENT })),
      );
      expect(answers.filter((a) => a.status === 202)).toHaveLength(100);
    });

    it('takes none of the rate for a publish refused for its payload size', async () => {
      const sid = await limited(1);
      const big = `{"type":"custom.numbers","payload":{"n":[${Array(240_000).fill('1e5').join(',')}]}}`;
      expect((await h.call('POST', `/v1/subscribers/${sid}/events`, { body: big })).status).toBe(413);
      expect((await h.call('POST', `/v1/subscribers/${sid}/events`, { body: EVENT })).status).toBe(202);
    });

    it('answers 429 with Retry-After past the rate, across two API processes, and stores nothing refused', async () => {
      const sid = await limited(5);
      const answers = [];
      for (let i = 0; i < 12; i++) answers.push(await (i % 2 ? second : h).call('POST', `/v1/subscribers/${sid}/events`, { body: EVENT }));
      expect(answers.map((a) => a.status)).toEqual([...Array(5).fill(202), ...Array(7).fill(429)]);
      const refused = answers[5]!;
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.body.error).toEqual({
        code: 'rate_limited',
        message: expect.stringContaining('5 events per second'),
        details: [{ path: 'limits.eventsPerSecond', message: expect.any(String) }],
      });
      expect(await eventsOf(h, sid)).toHaveLength(5);
      // One event's worth of time later (200 ms at 5/s), one more is accepted, by either process.
      clock.advance(200);
      expect((await second.call('POST', `/v1/subscribers/${sid}/events`, { body: EVENT })).status).toBe(202);
      expect((await h.call('POST', `/v1/subscribers/${sid}/events`, { body: EVENT })).status).toBe(429);
    });

    it('counts every event of a batch, and lets a batch larger than a second through only when the budget is full (then waits it out)', async () => {
      const sid = await limited(10);
      const batch = (n: number) =>
        h.call('POST', `/v1/subscribers/${sid}/events/batch`, { body: { events: Array.from({ length: n }, () => EVENT) } });
      expect((await batch(6)).status).toBe(202);
      const over = await batch(6);
      expect(over.status).toBe(429);
      expect(await eventsOf(h, sid)).toHaveLength(6);
      clock.advance(1000);
      expect((await batch(30)).status).toBe(202);
      // 30 events at 10/s: the next event waits ~2 s more than a second's budget allows.
      const after = await h.call('POST', `/v1/subscribers/${sid}/events`, { body: EVENT });
      expect(after.status).toBe(429);
      expect(Number(after.headers.get('retry-after'))).toBe(3);
      clock.advance(2100);
      expect((await h.call('POST', `/v1/subscribers/${sid}/events`, { body: EVENT })).status).toBe(202);
    });

    it('applies to events published through a source, recorded in its history', async () => {
      const sid = await limited(2);
      const source = await createSource(h, sid, { eventType: 'source.rate', verification: TOKEN_HEADER });
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await ingest(h, source.ingestUrl, { body: '{"n":1}', headers: WITH_TOKEN })).status);
      expect(statuses).toEqual([202, 202, 429]);
      expect((await historyOf(h, sid, source.id))[0]).toMatchObject({
        outcome: 'rejected',
        status: 429,
        reason: expect.stringContaining('2 events per second'),
      });
      expect(await eventsOf(h, sid)).toHaveLength(2);
    });

    it("takes none of it for a copy a source answers as a duplicate, and lets a refused request's copy through later", async () => {
      const sid = await limited(2);
      const source = await createSource(h, sid, {
        eventType: 'source.dedupe',
        verification: TOKEN_HEADER,
        dedupe: { header: 'X-Delivery' },
      });
      const send = (id: string) => ingest(h, source.ingestUrl, { body: '{"n":1}', headers: { ...WITH_TOKEN, 'x-delivery': id } });
      expect((await send('d-1')).status).toBe(202);
      // Copies of d-1 (a sender retrying): answered with the first event, taking no events of the rate.
      for (let i = 0; i < 3; i++) expect((await send('d-1')).status).toBe(200);
      expect((await send('d-2')).status).toBe(202);
      // The rate holds: a third new request in the same instant is refused, and its key released...
      expect((await send('d-3')).status).toBe(429);
      clock.advance(500);
      // ...so the sender's retry of d-3 is published, not taken for a copy.
      expect((await send('d-3')).status).toBe(202);
      expect(await eventsOf(h, sid)).toHaveLength(3);
    });

    it('counts a test event sent to an endpoint: it is stored and sent like any other', async () => {
      const sid = await limited(1);
      const endpoint = (await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: 'http://127.0.0.1:9/test' } })).body.id;
      expect((await h.call('POST', `/v1/subscribers/${sid}/endpoints/${endpoint}/test`, { body: {} })).status).toBe(200);
      const over = await h.call('POST', `/v1/subscribers/${sid}/endpoints/${endpoint}/test`, { body: {} });
      expect([over.status, over.body.error.code]).toEqual([429, 'rate_limited']);
      expect((await h.call('POST', `/v1/subscribers/${sid}/events`, { body: EVENT })).status).toBe(429);
    });

    it('counts a replay, a retry and a recover a person asks for as one event each: each makes attempts', async () => {
      const sid = await limited(1);
      const endpoint = (await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: 'http://127.0.0.1:9/again' } })).body.id;
      const published = await h.call('POST', `/v1/subscribers/${sid}/events`, { body: EVENT });
      expect(published.status).toBe(202);
      const eventId = published.body.id as string;
      const deliveryId = (published.body.deliveries as Array<{ id: string }>)[0]!.id;
      const base = `/v1/subscribers/${sid}`;
      const replay = () => h.call('POST', `${base}/events/${eventId}/replay`, { body: {} });
      const retry = () => h.call('POST', `${base}/deliveries/${deliveryId}/retry`);
      const recover = () => h.call('POST', `${base}/endpoints/${endpoint}/recover`, { body: { since: 0 } });
      // The publish took this second's event.
      for (const again of [replay, recover]) {
        const over = await again();
        expect([over.status, over.body.error?.code]).toEqual([429, 'rate_limited']);
      }
      for (const again of [replay, recover]) {
        clock.advance(1000);
        expect((await again()).status).toBe(202);
        expect((await again()).status).toBe(429);
      }
      // A retry of a delivery still in progress is refused before the rate is taken...
      clock.advance(1000);
      const early = await retry();
      expect([early.status, early.body.error?.code]).toEqual([409, 'delivery_in_progress']);
      // ...so this second's event is still there for a replay.
      expect((await replay()).status).toBe(202);
      // An ended delivery's retry takes one: with this second's taken, it is 429.
      const ended = (await h.store.deliveries.get(deliveryId))!;
      await h.store.deliveries.patch(ended, { state: 'failed', failureReason: 'HTTP 500' });
      const over = await retry();
      expect([over.status, over.body.error?.code]).toEqual([429, 'rate_limited']);
      clock.advance(1000);
      expect((await retry()).status).toBe(202);
    });

    it('counts a manual disable and a re-enable as one event each: a refused one changes nothing, so a disable/enable loop announces no faster than the rate', async () => {
      const sid = await limited(1);
      const endpoint = (await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: 'http://127.0.0.1:9/loop' } })).body.id;
      const path = `/v1/subscribers/${sid}/endpoints/${endpoint}`;
      const setStatus = (status: string) => h.call('PATCH', path, { body: { status } });
      const announced = async () =>
        (await Promise.all((await eventsOf(h, sid)).map((id) => h.store.events.get(id)))).filter((e) => e?.type === 'endpoint.disabled');
      expect((await setStatus('disabled')).status).toBe(200);
      clock.advance(1000);
      expect((await setStatus('active')).status).toBe(200);
      const over = await setStatus('disabled');
      expect([over.status, over.body.error?.code, over.headers.get('retry-after')]).toEqual([429, 'rate_limited', '1']);
      expect((await h.call('GET', path)).body.status).toBe('active');
      // Refused before a new URL's verification too: the receiver is not called.
      const moving = await h.call('PATCH', path, { body: { status: 'disabled', url: receiver.url, verify: 'post' } });
      expect([moving.status, moving.body.error?.code]).toEqual([429, 'rate_limited']);
      expect(receiver.requests).toHaveLength(0);
      expect((await h.call('GET', path)).body).toMatchObject({ status: 'active', url: 'http://127.0.0.1:9/loop' });
      expect(await announced()).toHaveLength(1);
      clock.advance(1000);
      expect((await setStatus('disabled')).status).toBe(200);
      expect(await announced()).toHaveLength(2);
      // Re-enabling takes one too (a receiver answering 410 has the worker disable it again, announced
      // with no request to charge); a PATCH that leaves the status alone takes none.
      clock.advance(1000);
      expect((await setStatus('active')).status).toBe(200);
      const again = await setStatus('disabled');
      expect([again.status, again.body.error?.code]).toEqual([429, 'rate_limited']);
      expect((await h.call('PATCH', path, { body: { description: 'still here' } })).status).toBe(200);
      clock.advance(1000);
      expect((await setStatus('disabled')).status).toBe(200);
      const reEnable = await setStatus('active');
      expect([reEnable.status, reEnable.body.error?.code]).toEqual([429, 'rate_limited']);
      expect((await h.call('GET', path)).body.status).toBe('disabled');
    });

    it('turns off again with 0', async () => {
      const sid = await limited(1);
      expect((await h.call('POST', `/v1/subscribers/${sid}/events`, { body: EVENT })).status).toBe(202);
      expect((await h.call('POST', `/v1/subscribers/${sid}/events`, { body: EVENT })).status).toBe(429);
      await h.call('PATCH', `/v1/subscribers/${sid}`, { body: { limits: { eventsPerSecond: 0 } } });
      expect((await h.call('POST', `/v1/subscribers/${sid}/events`, { body: EVENT })).status).toBe(202);
    });
  });
});

describe("bulk work on an endpoint's deliveries in flight: recovers and disables", () => {
  const h = useApiHarness({ worker: false });

  it('lets a subscriber run one at a time per process: a disable meanwhile is 429 naming status and changes nothing', async () => {
    const { sid } = await newSubscriber(h);
    const other = await newSubscriber(h, 'Other');
    const endpointOf = async (subscriber: string) =>
      (await h.call('POST', `/v1/subscribers/${subscriber}/endpoints`, { body: { url: 'http://127.0.0.1:9/bulk' } })).body.id as string;
    const [first, second, elsewhere] = [await endpointOf(sid), await endpointOf(sid), await endpointOf(other.sid)];
    const disable = (subscriber: string, endpoint: string) =>
      h.call('PATCH', `/v1/subscribers/${subscriber}/endpoints/${endpoint}`, { body: { status: 'disabled' } });

    // The first disable is held while it ends the endpoint's deliveries.
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let finish!: () => void;
    const held = new Promise<void>((resolve) => (finish = resolve));
    const realDisable = h.deps.guard.disable.bind(h.deps.guard);
    const spy = jest.spyOn(h.deps.guard, 'disable').mockImplementationOnce(async (...args) => {
      started();
      await held;
      return realDisable(...args);
    });
    try {
      const firstDisable = disable(sid, first);
      await running;
      const refused = await disable(sid, second);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.body.error).toMatchObject({ code: 'disable_in_flight', details: [{ path: 'status' }] });
      expect((await h.call('GET', `/v1/subscribers/${sid}/endpoints/${second}`)).body.status).toBe('active');
      const recover = await h.call('POST', `/v1/subscribers/${sid}/endpoints/${second}/recover`, { body: { since: 0 } });
      expect([recover.status, recover.body.error?.code]).toEqual([429, 'recover_in_flight']);
      // Another subscriber's are not held.
      expect((await disable(other.sid, elsewhere)).status).toBe(200);
      finish();
      expect((await firstDisable).status).toBe(200);
    } finally {
      finish();
      spy.mockRestore();
    }
    expect((await disable(sid, second)).status).toBe(200);
  });
});

describe('test sends in flight', () => {
  const receiver = useTestReceiver(undefined, 'each');
  const h = useApiHarness({}, 'each');

  it(`lets a subscriber have ${MAX_RECEIVER_WAITS_IN_FLIGHT} test sends waiting on receivers at once: one more is 429 at once, other subscribers' are not held`, async () => {
    expect(MAX_RECEIVER_WAITS_IN_FLIGHT).toBe(5);
    const { sid: hostile } = await newSubscriber(h);
    const { sid: other } = await newSubscriber(h);
    const hanging = await h.call('POST', `/v1/subscribers/${hostile}/endpoints`, {
      body: { url: `${receiver.url}/never`, timeoutMs: 2000 },
    });
    const healthy = await h.call('POST', `/v1/subscribers/${other}/endpoints`, { body: { url: `${receiver.url}/ok` } });
    receiver.answerWith((req, res) => {
      if (req.url === '/ok') res.writeHead(200).end();
      // '/never' is not answered: the attempt waits out its 2 s timeout.
    });
    const testOf = (sid: string, eid: string) => h.call('POST', `/v1/subscribers/${sid}/endpoints/${eid}/test`, { body: {} });
    const waiting = Array.from({ length: 5 }, () => testOf(hostile, hanging.body.id as string));
    await receiver.waitForRequests(5);
    const over = await testOf(hostile, hanging.body.id as string);
    expect([over.status, over.body.error.code, over.headers.get('retry-after')]).toEqual([429, 'test_sends_in_flight', '1']);
    const others = await testOf(other, healthy.body.id as string);
    expect(others.status).toBe(200);
    expect(others.body.attempt).toMatchObject({ statusCode: 200 });
    // Once they end (timed out), the subscriber may test again.
    for (const answer of await Promise.all(waiting)) expect(answer.body.attempt).toMatchObject({ errorKind: 'timeout' });
    receiver.answerWith({ status: 204 });
    expect((await testOf(hostile, hanging.body.id as string)).body.attempt).toMatchObject({ statusCode: 204 });
  });
});

describe('filtered delivery listings in flight', () => {
  const h = useApiHarness({ worker: false }, 'each');

  it(`lets a subscriber have ${MAX_FILTERED_LISTINGS_IN_FLIGHT} listings filtered by status or type running at once: more are 429, unfiltered ones are not`, async () => {
    expect(MAX_FILTERED_LISTINGS_IN_FLIGHT).toBe(2);
    const { sid } = await newSubscriber(h);
    const { sid: other } = await newSubscriber(h);
    expect((await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: 'http://127.0.0.1:9/' } })).status).toBe(201);
    // 5,000 pending deliveries: a status filter that matches none reads them all for one page.
    for (let b = 0; b < 5; b++) {
      const events = Array.from({ length: 1000 }, (_, i) => ({ type: 'custom.order.paid', payload: { i } }));
      expect((await h.call('POST', `/v1/subscribers/${sid}/events/batch`, { body: { events } })).status).toBe(202);
    }
    const listing = (who: string, query: string) => h.call('GET', `/v1/subscribers/${who}/deliveries?${query}`);
    const answers = await Promise.all([
      ...Array.from({ length: 6 }, () => listing(sid, 'status=failed&limit=1')),
      listing(sid, 'limit=1'),
      listing(other, 'status=failed&limit=1'),
    ]);
    const filtered = answers.slice(0, 6);
    const refused = filtered.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(filtered.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(1);
    expect(filtered.filter((a) => a.status === 200).length).toBeLessThanOrEqual(MAX_FILTERED_LISTINGS_IN_FLIGHT);
    for (const a of filtered) if (a.status === 200) expect(a.body).toEqual({ data: [], nextCursor: expect.any(String) });
    expect([refused[0]!.body.error.code, refused[0]!.headers.get('retry-after')]).toEqual(['listings_in_flight', '1']);
    expect(refused[0]!.body.error.details).toEqual([{ path: 'status', message: 'at most 2 at once' }]);
    // Unfiltered listings and other subscribers are not counted.
    expect([answers[6]!.status, answers[7]!.status]).toEqual([200, 200]);
    // Once they end, the places are free again.
    expect((await listing(sid, 'eventType=custom.order.refunded&limit=1')).status).toBe(200);
  });

  it('shares those places with event listings that count outcomes and with endpoint listings', async () => {
    const { sid } = await newSubscriber(h);
    expect((await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: 'http://127.0.0.1:9/' } })).status).toBe(201);
    for (let b = 0; b < 5; b++) {
      const events = Array.from({ length: 1000 }, (_, i) => ({ type: 'custom.order.paid', payload: { i } }));
      expect((await h.call('POST', `/v1/subscribers/${sid}/events/batch`, { body: { events } })).status).toBe(202);
    }
    // Two of each kind at once: with a budget per kind none would be refused. The filtered delivery
    // listings read 5,000 deliveries each, so the six overlap whatever order they arrive in.
    const answers = await Promise.all([
      h.call('GET', `/v1/subscribers/${sid}/deliveries?status=failed&limit=1`),
      h.call('GET', `/v1/subscribers/${sid}/deliveries?status=failed&limit=1`),
      h.call('GET', `/v1/subscribers/${sid}/events?include=outcomes&limit=50`),
      h.call('GET', `/v1/subscribers/${sid}/events?include=outcomes&limit=50`),
      h.call('GET', `/v1/subscribers/${sid}/endpoints?limit=100`),
      h.call('GET', `/v1/subscribers/${sid}/endpoints?limit=100`),
    ]);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const a of answers) expect([200, 429]).toContain(a.status);
    for (const a of refused) expect(a.body.error.code).toBe('listings_in_flight');
    // Each names what made it heavy.
    const heavyBecauseOf = ['status', 'status', 'include', 'include', 'limit', 'limit'];
    answers.forEach((a, i) => {
      if (a.status === 429) expect(a.body.error.details[0].path).toBe(heavyBecauseOf[i]);
    });
    // An event listing without outcomes reads only the page: never counted.
    const plain = await Promise.all(Array.from({ length: 4 }, () => h.call('GET', `/v1/subscribers/${sid}/events?limit=50`)));
    expect(plain.map((a) => a.status)).toEqual([200, 200, 200, 200]);
  });

  it('counts reads of one large event, which the work budget lets through any number at once', async () => {
    const { sid } = await newSubscriber(h);
    const big = await h.call('POST', `/v1/subscribers/${sid}/events`, {
      body: { type: 'custom.order.paid', payload: { blob: 'x'.repeat(900_000) } },
    });
    expect(big.status).toBe(202);
    const small = await h.call('POST', `/v1/subscribers/${sid}/events`, { body: { type: 'custom.order.paid', payload: {} } });
    // Twelve at once: each reads ~900 KB, so more than two overlap (how many depends on timing).
    const answers = await Promise.all([
      ...Array.from({ length: 12 }, () => h.call('GET', `/v1/subscribers/${sid}/events/${big.body.id}`)),
      h.call('GET', `/v1/subscribers/${sid}/events/${small.body.id}`),
    ]);
    const large = answers.slice(0, 12);
    const refused = large.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const a of large) expect([200, 429]).toContain(a.status);
    for (const a of refused) {
      expect([a.body.error.code, a.body.error.details]).toEqual(['listings_in_flight', [{ path: 'eid', message: 'at most 2 at once' }]]);
    }
    // A free read takes no place.
    expect(answers[12]!.status).toBe(200);
  });

  it('counts event listings filtered by type, which read up to 5,000 entries they may not keep', async () => {
    const { sid } = await newSubscriber(h);
    for (let b = 0; b < 5; b++) {
      const events = Array.from({ length: 1000 }, (_, i) => ({ type: 'custom.order.paid', payload: { i } }));
      expect((await h.call('POST', `/v1/subscribers/${sid}/events/batch`, { body: { events } })).status).toBe(202);
    }
    const answers = await Promise.all([
      ...Array.from({ length: 6 }, () => h.call('GET', `/v1/subscribers/${sid}/events?type=custom.order.refunded&limit=1`)),
      h.call('GET', `/v1/subscribers/${sid}/events?limit=1`),
    ]);
    const filtered = answers.slice(0, 6);
    const refused = filtered.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(filtered.filter((a) => a.status === 200).length).toBeLessThanOrEqual(MAX_FILTERED_LISTINGS_IN_FLIGHT);
    for (const a of filtered) if (a.status === 200) expect(a.body).toEqual({ data: [], nextCursor: expect.any(String) });
    expect([refused[0]!.body.error.code, refused[0]!.body.error.details]).toEqual([
      'listings_in_flight',
      [{ path: 'type', message: 'at most 2 at once' }],
    ]);
    expect(answers[6]!.status).toBe(200);
  });
});
