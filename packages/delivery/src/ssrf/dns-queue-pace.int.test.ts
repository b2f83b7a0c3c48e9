import { buildEndpoint, buildEvent, useTestReceiver, waitUntil } from '@hookrelay/testing';
import { useEngineHarness } from '../engine-harness';
import type { ResolvedAddress } from './types';

// The worker's resolver runs 3 lookups at once, 2 for one subscriber, and a lookup holds its place
// until getaddrinfo returns (10-30 s for a silent nameserver), whoever gave up waiting. Two
// subscribers with silent names can hold all 3, and a third subscriber's lookup then waits for a
// place until its attempt gives up: a `dns` failure that took the resolver's whole timeout. That
// wait counted towards the endpoint's pace, so two such attempts moved a receiver that answers at
// once to the slow lane. Only the time a lookup of the endpoint's own name ran counts now.

const DNS_TIMEOUT_MS = 300;
const SLOW_MS = 200;

/** Silent names never answer (their lookups hold their places for the whole test); any other name is 127.0.0.1. */
async function resolve(host: string): Promise<ResolvedAddress[]> {
  if (host.endsWith('.silent.test')) return new Promise<never>(() => undefined);
  return [{ address: '127.0.0.1', family: 4 }];
}

describe("when other subscribers' silent names hold every DNS lookup place", () => {
  const receiver = useTestReceiver(undefined, 'each');
  const asked: string[] = [];
  const h = useEngineHarness(
    {
      resolve: (host) => (asked.push(host), resolve(host)),
      dnsTimeoutMs: DNS_TIMEOUT_MS,
      scheduling: { slowAttemptMs: SLOW_MS, slowAfter: 2 },
    },
    'each',
  );
  const laneMoves = (endpointId: string) => h.logLines.filter((l) => l.msg === 'endpoint.lane_changed' && l.endpointId === endpointId);

  const twice = { maxRetries: 1, intervalMs: 10, backoff: 'fixed' as const };

  /** Two subscribers' silent names take the resolver's 3 places (sub_a1 its 2, sub_a2 the third). */
  async function holdEveryPlace() {
    const port = new URL(receiver.url).port;
    const attack = async (subscriberId: string, name: string) => {
      const endpoint = await h.saveEndpoint(buildEndpoint({ subscriberId, url: `http://${name}.silent.test:${port}/`, retry: twice }));
      return { endpoint, delivery: await h.enqueue(buildEvent(), endpoint) };
    };
    const attacks = [await attack('sub_a1', 'a1'), await attack('sub_a1', 'a2'), await attack('sub_a2', 'a3')];
    await waitUntil(() => asked.filter((n) => n.endsWith('.silent.test')).length >= 3, `the silent lookups to start (${asked.join(', ')})`);
    return attacks;
  }

  it("does not count the victim's wait for a place towards its pace, and still counts a silent name's own lookup", async () => {
    const port = new URL(receiver.url).port;
    const attacks = await holdEveryPlace();

    const victim = await h.saveEndpoint(
      buildEndpoint({ subscriberId: 'sub_victim', url: `http://victim.test:${port}/`, retry: { ...twice, maxRetries: 2 } }),
    );
    const id = await h.enqueue(buildEvent(), victim);
    expect(await h.waitForState(id, ['failed', 'delivered'], 15_000)).toMatchObject({ state: 'failed', attempts: 3 });
    const attempts = await h.store.deliveries.attempts(id);
    // Each waited the resolver's whole timeout for a place, and says so in its duration...
    expect(attempts.map((a) => a.errorKind)).toEqual(['dns', 'dns', 'dns']);
    for (const a of attempts) expect(a.durationMs).toBeGreaterThanOrEqual(DNS_TIMEOUT_MS - 20);
    expect(asked).not.toContain('victim.test');
    // ...but the victim's endpoint stays in the fast lane (before: to the slow lane after two).
    expect(laneMoves(victim.id)).toEqual([]);

    // A silent name's own lookup ran for the whole wait: its endpoint is slow, as before.
    for (const { delivery } of attacks) await h.waitForState(delivery, ['failed'], 15_000);
    for (const { endpoint } of attacks) expect(laneMoves(endpoint.id)).toMatchObject([{ lane: 'slow' }]);
    expect(receiver.requests).toHaveLength(0);
  }, 30_000);

  it("does not count the wait of the victim's OAuth token host's lookup for a place towards its pace", async () => {
    const port = new URL(receiver.url).port;
    await holdEveryPlace();

    const victim = await h.saveEndpoint(
      buildEndpoint({
        subscriberId: 'sub_victim',
        url: `http://victim.test:${port}/`,
        auth: {
          type: 'oauth2-client-credentials',
          tokenUrl: `http://victim-token.test:${port}/token`,
          clientId: 'victim',
          clientSecret: 'victim-secret',
          clientAuth: 'body',
        },
        retry: { ...twice, maxRetries: 2 },
      }),
    );
    const id = await h.enqueue(buildEvent(), victim);
    expect(await h.waitForState(id, ['failed', 'delivered'], 15_000)).toMatchObject({ state: 'failed', attempts: 3 });
    const attempts = await h.store.deliveries.attempts(id);
    // Each an auth failure that waited the resolver's whole timeout for a place for the token host...
    for (const a of attempts) {
      expect(a).toMatchObject({ errorKind: 'auth', errorMessage: expect.stringMatching(/^oauth2: token endpoint unreachable/) });
      expect(a.durationMs).toBeGreaterThanOrEqual(DNS_TIMEOUT_MS - 20);
    }
    expect(asked).not.toContain('victim-token.test');
    // ...and the victim's endpoint stays in the fast lane (before: to the slow lane after two).
    expect(laneMoves(victim.id)).toEqual([]);
    expect(receiver.requests).toHaveLength(0);
  }, 30_000);
});
