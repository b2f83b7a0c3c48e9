import { createHash } from 'node:crypto';
import { Publisher } from '@hookrelay/publishing';
import { createStore, type Store } from '@hookrelay/store';
import { CuttingProxy, useTestReceiver } from '@hookrelay/testing';
import Redis from 'ioredis';
import { useApiHarness } from './api-harness';
import { createPublisher } from './publish';
import { newSubscriber } from './sources/source-test-kit';

// Issue 20, items 1 to 4: idempotency keys are taken with their event (create-event.lua), carry the
// digest of their request, and must be well-formed Unicode.
describe('idempotency keys', () => {
  const receiver = useTestReceiver({ status: 200 }, 'each');
  const h = useApiHarness({}, 'each');
  let sid: string;
  let events: string;

  beforeEach(async () => {
    ({ sid } = await newSubscriber(h));
    events = `/v1/subscribers/${sid}/events`;
    expect(
      (await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: receiver.url, eventTypes: ['custom.*'] } })).status,
    ).toBe(201);
  });

  const storedEvents = async () => (await h.redis.keys(`${h.prefix}:ev:*`)).length;
  // Each key's value, without the endpoints kept beside it (`<key>:eps`).
  const idempotencyKeys = async () => (await h.redis.keys(`${h.prefix}:idem:*`)).filter((k) => !k.endsWith(':eps')).length;
  /** Waits until the receiver has `n` requests and the worker has nothing left in flight for them. */
  async function delivered(n: number): Promise<string[]> {
    await receiver.waitForRequests(n);
    const bodies = () => receiver.requests.map((r) => String(r.headers['x-hookrelay-event-id']));
    // Every accepted event reached the receiver: the deliveries listed for the subscriber all ended.
    for (const until = Date.now() + 10_000; Date.now() < until;) {
      const list = await h.call('GET', `/v1/subscribers/${sid}/deliveries?limit=100`);
      if (list.body.data.every((d: { state: string }) => d.state === 'delivered')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return bodies();
  }

  describe('a key repeated inside a batch (item 1)', () => {
    it('answers 202 for the whole batch, the repeats naming the event that already holds the key, and delivers each event once', async () => {
      const first = await h.call('POST', events, { body: { type: 'custom.e', payload: { n: 1 }, idempotencyKey: 'k' } });
      expect(first.status).toBe(202);
      const e = { type: 'custom.e', payload: { n: 1 }, idempotencyKey: 'k' };
      const batch = await h.call('POST', `${events}/batch`, { body: { events: [{ type: 'custom.x', payload: {} }, e, e] } });
      expect(batch.status).toBe(202);
      expect(batch.body.events[1]).toEqual(first.body);
      expect(batch.body.events[2]).toEqual(first.body);
      expect(batch.body.events[0].id).not.toBe(first.body.id);
      const ids = await delivered(2);
      expect(ids.sort()).toEqual([first.body.id, batch.body.events[0].id].sort());
      expect(await storedEvents()).toBe(2);
    });

    it('names the first copy when the key is new, and writes the key once', async () => {
      const e = { type: 'custom.e', payload: { n: 2 }, idempotencyKey: 'fresh' };
      const batch = await h.call('POST', `${events}/batch`, { body: { events: [e, { type: 'custom.y', payload: {} }, e] } });
      expect(batch.status).toBe(202);
      expect(batch.body.events[2]).toEqual(batch.body.events[0]);
      expect(await delivered(2)).toHaveLength(2);
      expect(await idempotencyKeys()).toBe(1);
    });

    it('refuses the whole batch, writing nothing, when a key repeats with another payload', async () => {
      const batch = await h.call('POST', `${events}/batch`, {
        body: {
          events: [
            { type: 'custom.x', payload: {} },
            { type: 'custom.e', payload: { n: 1 }, idempotencyKey: 'k2' },
            { type: 'custom.e', payload: { n: 2 }, idempotencyKey: 'k2' },
          ],
        },
      });
      expect(batch.status).toBe(422);
      expect(batch.body.error.code).toBe('idempotency_key_reused');
      expect(batch.body.error.details).toEqual([{ path: 'events.2.idempotencyKey', message: expect.stringMatching(/different request/) }]);
      expect([await storedEvents(), await idempotencyKeys()]).toEqual([0, 0]);
    });
  });

  describe('a key reused with another request (item 2)', () => {
    it('is a 422 idempotency_key_reused, and a true repeat answers the first event with Idempotent-Replayed: true', async () => {
      const first = await h.call('POST', events, {
        body: { type: 'custom.order', payload: { id: 1, total: 5 } },
        headers: { 'Idempotency-Key': 'order-1' },
      });
      expect(first.status).toBe(202);
      expect(first.headers.get('idempotent-replayed')).toBeNull();

      const otherPayload = await h.call('POST', events, {
        body: { type: 'custom.order', payload: { id: 1, total: 6 } },
        headers: { 'Idempotency-Key': 'order-1' },
      });
      const otherType = await h.call('POST', events, {
        body: { type: 'custom.refund', payload: { id: 1, total: 5 }, idempotencyKey: 'order-1' },
      });
      for (const res of [otherPayload, otherType]) {
        expect(res.status).toBe(422);
        expect(res.body.error).toEqual({
          code: 'idempotency_key_reused',
          message: expect.stringMatching(/^idempotencyKey: this idempotency key was used with a different request/),
          details: [{ path: 'idempotencyKey', message: expect.any(String) }],
        });
      }

      // The same request, its keys in another order: a repeat.
      const repeat = await h.call('POST', events, {
        body: { type: 'custom.order', payload: { total: 5, id: 1 } },
        headers: { 'Idempotency-Key': 'order-1' },
      });
      expect(repeat.status).toBe(202);
      expect(repeat.headers.get('idempotent-replayed')).toBe('true');
      expect(repeat.body).toEqual(first.body);
      expect(await delivered(1)).toEqual([first.body.id]);
      expect(await storedEvents()).toBe(1);
    });
  });

  // Each repeat in a batch looked its event's deliveries up in the history, among every endpoint that
  // may hold one (current, deleted since, replayed to): 1,000 repeats of one key, a 54 KB body, were
  // ~308,000 Redis commands and 4-6 s of the API's event loop, and other subscribers' publishes 503.
  describe('a repeat of an earlier request', () => {
    it('is answered from its key: what the first publish created, without looking the event up', async () => {
      const endpoints = `/v1/subscribers/${sid}/endpoints`;
      for (let i = 0; i < 20; i++)
        expect((await h.call('POST', endpoints, { body: { url: receiver.url, eventTypes: ['never.*'] } })).status).toBe(201);
      const e = { type: 'custom.e', payload: { n: 1 }, idempotencyKey: 'k' };
      const first = await h.call('POST', events, { body: e });
      expect(first.status).toBe(202);
      expect(first.body.deliveries).toHaveLength(1);
      // A replay since, to an endpoint created after the event: not part of the first answer.
      const later = await h.call('POST', endpoints, { body: { url: receiver.url, eventTypes: ['custom.*'] } });
      expect((await h.call('POST', `${events}/${first.body.id}/replay`, { body: { endpointIds: [later.body.id] } })).status).toBe(202);

      const socket = (h.redis as unknown as { stream: { bytesWritten: number } }).stream;
      const before = socket.bytesWritten;
      const batch = await h.call('POST', `${events}/batch`, { body: { events: Array.from({ length: 300 }, () => e) } });
      const written = socket.bytesWritten - before;
      expect(batch.status).toBe(202);
      expect(batch.body.events).toEqual(Array.from({ length: 300 }, () => first.body));
      // The batch's own write (each event with its key and endpoints) is ~390 KB; looking each
      // repeat up among the subscriber's 22 endpoints sent ~2.5 MB more.
      expect(written).toBeLessThan(1_000_000);
      const single = await h.call('POST', events, { body: e });
      expect([single.status, single.headers.get('idempotent-replayed'), single.body]).toEqual([202, 'true', first.body]);
    });
  });

  describe('a key that is not well-formed Unicode (item 3)', () => {
    it.each(['\ud800', '\udfff', 'order-\udbff', '\udc00x'])('is a 400 naming idempotencyKey (%j)', async (key) => {
      const res = await h.call('POST', events, { body: { type: 'custom.x', payload: {}, idempotencyKey: key } });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([
        { path: 'idempotencyKey', message: 'must be well-formed Unicode (a lone surrogate such as \\ud800 is not)' },
      ]);
    });

    it('leaves distinct well-formed keys distinct, U+FFFD and surrogate pairs included', async () => {
      const keys = ['\ufffd', '\ud83d\ude00', '\ud83d\ude01', 'é', 'e\u0301'];
      const ids = [];
      for (const key of keys)
        ids.push((await h.call('POST', events, { body: { type: 'custom.x', payload: { key }, idempotencyKey: key } })).body.id);
      expect(new Set(ids).size).toBe(keys.length);
    });
  });

  describe('when the connection fails in the middle of a publish (item 4)', () => {
    it('holds a key exactly when its event exists, so a retry with the key is answered at once, at every point of failure', async () => {
      const url = new URL(process.env.REDIS_URL as string);
      const proxy = await CuttingProxy.start({ host: url.hostname, port: Number(url.port) });
      const direct = createPublisher(h.deps);
      try {
        let completed = false;
        for (let cut = 0; !completed && cut < 40; cut++) {
          const key = `crash-${cut}`;
          const name = `idem-crash-${cut}`;
          const redis = new Redis(proxy.url, {
            // Named, so the test can tell when Redis is done with the connection after the cut.
            connectionName: name,
            maxRetriesPerRequest: 0,
            retryStrategy: () => null,
            enableOfflineQueue: false,
            lazyConnect: true,
          });
          redis.on('error', () => undefined);
          await redis.connect();
          const store: Store = createStore({ redis, prefix: h.prefix });
          proxy.cutAfter(cut);
          const publisher = new Publisher({ store, now: h.deps.now });
          const outcome = await createPublisher({ ...h.deps, store, publisher })(sid, [
            { type: 'custom.crash', payload: { cut }, idempotencyKey: key },
          ]).then(
            (answers) => answers[0]?.id,
            () => undefined,
          );
          proxy.heal();
          redis.disconnect();
          completed = outcome !== undefined;
          // A command the proxy forwarded just before the cut may still be on its way: once Redis
          // has dropped the connection, it has run everything it received on it.
          await untilRedisDropped(h.redis, name);

          // Where the key lives (IdempotencyStore.keyOf): a subscriber's key by its SHA-256.
          const held = await h.redis.get(`${h.prefix}:idem:${sid}:${createHash('sha256').update(key).digest('hex')}`);
          const heldEvent = held?.split('|')[0];
          if (held) expect(await h.redis.exists(`${h.prefix}:ev:${heldEvent}`)).toBe(1);
          if (completed) expect(heldEvent).toBe(outcome);
          // The client retries at once: a 202, never a 409, naming the event when it was written.
          const [retry] = await direct(sid, [{ type: 'custom.crash', payload: { cut }, idempotencyKey: key }]);
          expect(retry?.id).toBe(heldEvent ?? retry?.id);
          expect({ cut, replayed: retry?.replayed === true }).toEqual({ cut, replayed: held !== null });
        }
        expect(completed).toBe(true);
      } finally {
        await proxy.close();
      }
    }, 60_000);
  });
});

/** Waits (up to 5 s) until Redis lists no client named `name`. */
async function untilRedisDropped(redis: Redis, name: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (((await redis.client('LIST')) as string).split('\n').some((line) => line.includes(` name=${name} `))) {
    if (Date.now() > deadline) throw new Error(`Redis still holds the connection ${name}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
