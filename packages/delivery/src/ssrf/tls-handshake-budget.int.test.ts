import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { EndpointAuth } from '@hookrelay/contracts';
import {
  buildEndpoint,
  buildEvent,
  newSelfSignedCertificate,
  selfSignedCertificate,
  TestReceiver,
  useFixture,
  waitUntil,
} from '@hookrelay/testing';
import { TokenServer } from '../auth/test-servers/token-server';
import { useEngineHarness } from '../engine-harness';

// A receiver's certificate chain that does not verify costs the worker's event loop every
// signature check of the chain (up to ~227 ms a handshake: scripts/probe-tls-chain-verify.ts), and
// each attempt fails fast, so neither the slow lane nor the caps bounded it. Each subscriber may now
// fail BURST handshakes (refilled at a rate this test makes negligible); past them its deliveries to
// hosts that have not verified in the worker are parked, unsent, and no handshake is begun. Here
// the hostile chain is a certificate the worker does not trust: it costs the same checks, only
// fewer of them.

const trusted = selfSignedCertificate();
const untrusted = newSelfSignedCertificate();
const BURST = 3;
const ONCE = { maxRetries: 0, intervalMs: 1, backoff: 'fixed' as const };

describe('a subscriber whose receiver presents a certificate that does not verify', () => {
  const h = useEngineHarness({ ca: trusted.cert, unverifiedTls: { burst: BURST, perMinute: 0.0001 } }, 'each');
  const hostile = useFixture(
    () => TestReceiver.start({ status: 200 }, { tls: untrusted }),
    (r) => r.close(),
    'each',
  );
  const good = useFixture(
    () => TestReceiver.start({ status: 200 }, { tls: trusted }),
    (r) => r.close(),
    'each',
  );
  const neverReached = useFixture(
    () => TestReceiver.start({ status: 200 }, { tls: trusted }),
    (r) => r.close(),
    'each',
  );
  const parked = () => h.metricValue('hookrelay_deliveries_parked_total', { reason: 'tls' });

  it('gets BURST handshakes, then its deliveries to unverified hosts wait unsent; verified hosts and other subscribers go on', async () => {
    const toGood = await h.saveEndpoint(buildEndpoint({ subscriberId: 'sub_a', url: `${good.url}/a`, retry: ONCE }));
    const toHostile = await h.saveEndpoint(buildEndpoint({ subscriberId: 'sub_a', url: `${hostile.url}/a`, retry: ONCE }));
    const toNew = await h.saveEndpoint(buildEndpoint({ subscriberId: 'sub_a', url: `${neverReached.url}/a`, retry: ONCE }));
    const otherToHostile = await h.saveEndpoint(buildEndpoint({ subscriberId: 'sub_b', url: `${hostile.url}/b`, retry: ONCE }));
    const otherToGood = await h.saveEndpoint(buildEndpoint({ subscriberId: 'sub_b', url: `${good.url}/b`, retry: ONCE }));
    const eventOf = (subscriberId: string) => buildEvent({ subscriberId });

    // sub_a's receiver at `good` verifies first.
    const first = await h.enqueue(eventOf('sub_a'), toGood);
    expect(await h.waitForState(first, ['delivered', 'failed'])).toMatchObject({ state: 'delivered' });

    // Ten deliveries side by side to the hostile receiver: BURST handshakes, one at a time.
    const hostileIds = await Promise.all(Array.from({ length: 10 }, () => h.enqueue(eventOf('sub_a'), toHostile)));
    await waitUntil(async () => (await parked()) >= 1, 'a delivery parked for tls');
    const failedIds: string[] = [];
    await waitUntil(async () => {
      failedIds.length = 0;
      for (const id of hostileIds) if ((await h.store.deliveries.get(id))?.state === 'failed') failedIds.push(id);
      return failedIds.length === BURST;
    }, 'BURST deliveries failed');
    expect(hostile.connections).toBe(BURST);
    for (const id of failedIds) {
      expect((await h.store.deliveries.attempts(id)).map((a) => a.errorKind)).toEqual(['tls']);
    }
    // The others were not attempted: no attempt, no failure.
    for (const id of hostileIds.filter((x) => !failedIds.includes(x))) {
      expect(await h.store.deliveries.attempts(id)).toEqual([]);
    }

    // Over its budget, sub_a still reaches the host that verified; a host never reached waits too.
    const again = await h.enqueue(eventOf('sub_a'), toGood);
    expect(await h.waitForState(again, ['delivered', 'failed'])).toMatchObject({ state: 'delivered' });
    const parkedBefore = await parked();
    const toNewId = await h.enqueue(eventOf('sub_a'), toNew);
    await waitUntil(async () => (await parked()) > parkedBefore, 'the delivery to a new host parked');
    expect(neverReached.connections).toBe(0);
    expect(await h.store.deliveries.attempts(toNewId)).toEqual([]);

    // Another subscriber is charged nothing of sub_a's: it gets its own handshake with the hostile
    // receiver (and fails it) and its delivery to the good one.
    const otherHostile = await h.enqueue(eventOf('sub_b'), otherToHostile);
    const otherGood = await h.enqueue(eventOf('sub_b'), otherToGood);
    expect(await h.waitForState(otherHostile, ['delivered', 'failed'])).toMatchObject({ state: 'failed' });
    expect(await h.waitForState(otherGood, ['delivered', 'failed'])).toMatchObject({ state: 'delivered' });
    expect(hostile.connections).toBe(BURST + 1);
    expect(hostile.requests).toHaveLength(0);
  }, 30_000);
});

describe('a subscriber whose OAuth token host presents a certificate that does not verify', () => {
  const h = useEngineHarness({ ca: trusted.cert, unverifiedTls: { burst: 2, perMinute: 0.0001 } }, 'each');
  const tokens = new TokenServer({ clientId: 'hookrelay', clientSecret: 'cs-0123456789', delayMs: 0 });
  const tokenHost = useFixture(
    () => TestReceiver.start(tokens.reply, { tls: untrusted }),
    (r) => r.close(),
    'each',
  );
  const receiver = useFixture(
    () => TestReceiver.start({ status: 200 }),
    (r) => r.close(),
    'each',
  );

  it('is charged each failed token handshake, and then waits before the next', async () => {
    const auth: EndpointAuth = {
      type: 'oauth2-client-credentials',
      tokenUrl: `${tokenHost.url}/oauth/token`,
      clientId: 'hookrelay',
      clientSecret: 'cs-0123456789',
      clientAuth: 'body',
    };
    const endpoint = await h.saveEndpoint(buildEndpoint({ subscriberId: 'sub_a', url: receiver.url, retry: ONCE, auth }));
    // One at a time, so that no two attempts share a token request.
    for (let i = 0; i < 2; i++) {
      const id = await h.enqueue(buildEvent({ subscriberId: 'sub_a' }), endpoint);
      expect(await h.waitForState(id, ['delivered', 'failed'])).toMatchObject({ state: 'failed' });
      expect((await h.store.deliveries.attempts(id)).map((a) => a.errorMessage)).toEqual(['oauth2: token endpoint unreachable (tls)']);
    }
    expect(tokenHost.connections).toBe(2);
    const third = await h.enqueue(buildEvent({ subscriberId: 'sub_a' }), endpoint);
    await waitUntil(async () => (await h.metricValue('hookrelay_deliveries_parked_total', { reason: 'tls' })) >= 1, 'the third parked');
    expect(await h.store.deliveries.attempts(third)).toEqual([]);
    expect(tokenHost.connections).toBe(2);
    expect(receiver.requests).toHaveLength(0);
  }, 20_000);
});

describe('a subscriber whose receiver resets each connection once the handshake has begun', () => {
  // The chain is checked as soon as it arrives; a server can send it and reset before TLS ends,
  // which Node reports as ECONNRESET, not as a TLS error. It is a failed handshake all the same,
  // and so is one that fails after the attempt's own deadline has passed.
  const h = useEngineHarness({ ca: trusted.cert, unverifiedTls: { burst: BURST, perMinute: 0.0001 } }, 'each');
  let connections = 0;
  let resetAfterMs = 0;
  const resetting = useFixture(
    async () => {
      connections = 0;
      const server = createServer((socket) => {
        connections++;
        socket.once('data', () => setTimeout(() => socket.resetAndDestroy(), resetAfterMs));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    },
    (server: Server) => new Promise<void>((resolve) => server.close(() => resolve())),
    'each',
  );

  async function sendEight(timeoutMs: number): Promise<string[]> {
    const { port } = resetting.address() as AddressInfo;
    const url = `https://127.0.0.1:${port}/a`;
    const endpoint = await h.saveEndpoint(buildEndpoint({ subscriberId: 'sub_a', url, retry: ONCE, timeoutMs }));
    const ids = await Promise.all(Array.from({ length: 8 }, () => h.enqueue(buildEvent({ subscriberId: 'sub_a' }), endpoint)));
    await waitUntil(async () => (await h.metricValue('hookrelay_deliveries_parked_total', { reason: 'tls' })) >= 1, 'a delivery parked');
    await waitUntil(
      async () => (await Promise.all(ids.map((id) => h.store.deliveries.get(id)))).filter((d) => d?.state === 'failed').length === BURST,
      'BURST deliveries failed',
    );
    expect(connections).toBe(BURST);
    const attempted = (await Promise.all(ids.map((id) => h.store.deliveries.attempts(id)))).filter((a) => a.length > 0);
    return attempted.map((a) => a.map((x) => x.errorKind).join());
  }

  it('is charged for each, and its deliveries past BURST wait unsent', async () => {
    resetAfterMs = 0;
    expect(await sendEight(10_000)).toEqual(Array.from({ length: BURST }, () => 'connection_reset'));
  }, 20_000);

  it('is charged for a handshake that fails after the attempt timed out', async () => {
    resetAfterMs = 300;
    expect(await sendEight(50)).toEqual(Array.from({ length: BURST }, () => 'timeout'));
  }, 20_000);
});

describe("a subscriber's endpoints parked behind its failed handshakes", () => {
  // One failed handshake comes back every 500 ms here. Were all its parked endpoints woken at each
  // refill, every one but the first would be admitted, queued, loaded and parked again each time
  // (12-14 parks a handshake, measured, against 3-4 with the wake-ups spread).
  const h = useEngineHarness({ ca: trusted.cert, unverifiedTls: { burst: 5, perMinute: 120 } }, 'each');
  const hostile = useFixture(
    () => TestReceiver.start({ status: 200 }, { tls: untrusted }),
    (r) => r.close(),
    'each',
  );

  it('sleep until one after another, a refill apart', async () => {
    const endpoints = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => h.saveEndpoint(buildEndpoint({ subscriberId: 'sub_a', url: `${hostile.url}/${i}`, retry: ONCE }))),
    );
    for (const endpoint of endpoints) {
      for (let i = 0; i < 5; i++) await h.enqueue(buildEvent({ subscriberId: 'sub_a' }), endpoint);
    }
    const sleeping = async () => {
      const all = await h.redis.zrange(`${h.prefix}:sched:sleep`, 0, -1, 'WITHSCORES');
      const times: number[] = [];
      for (let i = 0; i < all.length; i += 2) if (all[i]?.startsWith('e|sub_a|')) times.push(Number(all[i + 1]));
      return times.sort((x, y) => x - y);
    };
    // The burst of 5 is spent (one handshake at a time: one host), then every endpoint is parked.
    // The burst of 5 is spent (one handshake at a time: one host), then the endpoints are parked;
    // one of them at a time is awake, trying the handshake that came back.
    await waitUntil(async () => (await sleeping()).length >= 4, 'four endpoints asleep');
    expect(hostile.connections).toBeGreaterThanOrEqual(5);
    const times = await sleeping();
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    // Woken together, they would all be parked until the same refill (gaps of a few ms).
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(450);
  }, 20_000);
});
