import type { EndpointAuth } from '@hookrelay/contracts';
import { buildEndpoint, buildEvent, TestReceiver, type ReceivedRequest, waitUntil } from '@hookrelay/testing';
import { startEngineHarness, type EngineHarness } from '../engine-harness';

/** The token request's deadline here (10 s in production): long enough to outlast the victim's wait. */
const TOKEN_TIMEOUT_MS = 3000;
/** How long the victim's 10 deliveries may take to arrive: a fraction of the token timeout. */
const VICTIM_WITHIN_MS = 1500;
const NO_RETRY = { maxRetries: 0, intervalMs: 10, backoff: 'fixed' as const };

/**
 * An OAuth endpoint's token is fetched from a URL its subscriber chose, which can take the token
 * request's whole deadline. The audit found each attempt waiting for it while holding a slot on
 * the receiver's address, which other subscribers' endpoints share: 100 endpoints of one
 * subscriber with a token URL that never answers kept another subscriber's deliveries to the same
 * receiver waiting 48-99 s. Here the worker runs 20 slots: one address may hold 5, one
 * subscriber 8 (its 8 endpoints here, one event each).
 */
describe('an OAuth endpoint whose token URL hangs, on a receiver another subscriber uses', () => {
  let h: EngineHarness;
  let receiver: TestReceiver;
  let tokenHost: TestReceiver;
  /** Each client gets this many tokens before the token host stops answering it. */
  let tokensBeforeHanging: number;

  const oauth = (clientId: string): EndpointAuth => ({
    type: 'oauth2-client-credentials',
    tokenUrl: `${tokenHost.url}/token`,
    clientId,
    clientSecret: 'attacker-secret',
    clientAuth: 'body',
  });
  const attackerPaths = (requests: ReceivedRequest[]) => requests.filter((r) => r.url.startsWith('/attacker'));

  beforeEach(async () => {
    tokensBeforeHanging = 0;
    const answered = new Map<string, number>();
    // Accepts every token request; answers each client's first `tokensBeforeHanging`, then never again.
    tokenHost = await TestReceiver.start((req, res) => {
      const clientId = new URLSearchParams(req.body.toString('utf8')).get('client_id') ?? '';
      const count = answered.get(clientId) ?? 0;
      if (count >= tokensBeforeHanging) return;
      answered.set(clientId, count + 1);
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: `${clientId}-${count}`, token_type: 'Bearer' }));
    });
    // The shared receiver refuses the attacker's tokens and takes everyone else's deliveries.
    receiver = await TestReceiver.start((req, res) => void res.writeHead(req.url.startsWith('/attacker') ? 401 : 200).end());
    h = await startEngineHarness({ concurrency: 20, oauthTokenTimeoutMs: TOKEN_TIMEOUT_MS });
  });
  afterEach(async () => {
    // Servers first: their connections closing ends the token requests the worker's shutdown would wait for.
    await tokenHost.close();
    await receiver.close();
    await h.close();
  });

  async function publishAttack(): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const endpoint = await h.saveEndpoint(
        buildEndpoint({
          subscriberId: 'sub_attacker',
          url: `${receiver.url}/attacker/${i}`,
          auth: oauth(`attacker-${i}`),
          retry: NO_RETRY,
        }),
      );
      ids.push(await h.enqueue(buildEvent({ subscriberId: 'sub_attacker' }), endpoint));
    }
    return ids;
  }

  /** Publishes the victim's 10 events and resolves with how long they took to reach the receiver. */
  async function victimLatencyMs(): Promise<number> {
    const victim = await h.saveEndpoint(buildEndpoint({ subscriberId: 'sub_victim', url: `${receiver.url}/victim` }));
    const before = receiver.requests.length;
    const started = Date.now();
    for (let i = 0; i < 10; i++) await h.enqueue(buildEvent({ subscriberId: 'sub_victim' }), victim);
    await receiver.waitForRequests(before + 10, TOKEN_TIMEOUT_MS + 2000);
    return Date.now() - started;
  }

  it("delivers the other subscriber's events at once while the token requests hang, and records each hung fetch as a slow auth failure", async () => {
    const attack = await publishAttack();
    // At least the receiver address's share of token requests hanging (all 8, once fetches hold no address slot).
    await waitUntil(() => tokenHost.requests.length >= 5, 'the token requests to hang');

    expect(await victimLatencyMs()).toBeLessThan(VICTIM_WITHIN_MS);
    // ...while the attacker's fetches still hang: none of its attempts has ended, none reached the receiver.
    for (const id of attack) expect(await h.store.deliveries.get(id)).toMatchObject({ state: 'pending', attempts: 0 });
    expect(attackerPaths(receiver.requests)).toHaveLength(0);
    expect(await metric(h, 'hookrelay_deliveries_parked_total', { reason: 'address' })).toBe(0);

    // The fetch is the attempt: an auth failure lasting the token request's deadline (less the
    // millisecond or so a timer can fire before Date.now() shows its delay; that it counts as slow
    // does not hang on it: token-timeout-pace.int.test.ts).
    for (const id of attack) await h.waitForState(id, ['failed'], TOKEN_TIMEOUT_MS + 5000);
    const attempts = await Promise.all(attack.map(async (id) => (await h.store.deliveries.attempts(id))[0]));
    for (const attempt of attempts) {
      expect(attempt).toMatchObject({ outcome: 'failed', errorKind: 'auth', errorMessage: 'oauth2: token endpoint unreachable (timeout)' });
      expect(attempt!.durationMs).toBeGreaterThanOrEqual(TOKEN_TIMEOUT_MS - 20);
    }
    expect(attackerPaths(receiver.requests)).toHaveLength(0);
  }, 20_000);

  it("delivers the other subscriber's events at once while refreshes of tokens the receiver refused hang", async () => {
    // Each attacker endpoint gets one token at once; the receiver refuses it (401) and its refresh hangs.
    tokensBeforeHanging = 1;
    const attack = await publishAttack();
    await waitUntil(() => attackerPaths(receiver.requests).length >= 5 && tokenHost.requests.length >= 10, 'the refreshes to hang');

    expect(await victimLatencyMs()).toBeLessThan(VICTIM_WITHIN_MS);
    for (const id of attack) expect(await h.store.deliveries.get(id)).toMatchObject({ state: 'pending', attempts: 0 });

    // The refresh that never came fails the attempt as an auth failure, counted from its first send.
    for (const id of attack) await h.waitForState(id, ['failed'], 2 * TOKEN_TIMEOUT_MS + 5000);
    const attempts = await Promise.all(attack.map(async (id) => (await h.store.deliveries.attempts(id))[0]));
    for (const attempt of attempts) {
      expect(attempt).toMatchObject({ outcome: 'failed', errorKind: 'auth', errorMessage: 'oauth2: token endpoint unreachable (timeout)' });
      expect(attempt!.durationMs).toBeGreaterThanOrEqual(TOKEN_TIMEOUT_MS - 20);
    }
  }, 30_000);
});

/** A metric's value in the harness's registry (0 when absent). */
async function metric(h: EngineHarness, name: string, labels: Record<string, string>): Promise<number> {
  const found = (await h.metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = found?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
  return Number(value?.value ?? 0);
}
