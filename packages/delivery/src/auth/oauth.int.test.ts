import type { EndpointAuth } from '@hookrelay/contracts';
import { buildEndpoint, buildEvent, freePort, TestReceiver, type ReceivedRequest } from '@hookrelay/testing';
import { startEngineHarness, type EngineHarness } from '../engine-harness';
import { leakedSecrets } from './test-servers/leak-check';
import { TokenServer } from './test-servers/token-server';

const FAST_RETRY = { maxRetries: 3, intervalMs: 20, backoff: 'fixed' as const };
const CLIENT_SECRET = 'cs-9f8e7d6c5b4a3210';
const HOUR_S = 3600;

describe('oauth2-client-credentials auth', () => {
  let h: EngineHarness;
  let tokens: TokenServer;
  let tokenEndpoint: TestReceiver;
  let receiver: TestReceiver;
  /** Tokens the receiver no longer accepts. */
  let revoked: Set<string>;
  /** Added to the worker's clock, to let tokens expire without waiting. */
  let clockOffsetMs: number;

  const bearerOf = (r: ReceivedRequest) => r.headers.authorization?.replace(/^Bearer /, '');
  const auth = (extra: Partial<Extract<EndpointAuth, { type: 'oauth2-client-credentials' }>> = {}): EndpointAuth => ({
    type: 'oauth2-client-credentials',
    tokenUrl: `${tokenEndpoint.url}/oauth/token`,
    clientId: 'hookrelay',
    clientSecret: CLIENT_SECRET,
    clientAuth: 'body',
    ...extra,
  });
  const deliverAll = async (count: number, endpoint: Parameters<EngineHarness['enqueue']>[1]) => {
    const ids = await Promise.all(Array.from({ length: count }, () => h.enqueue(buildEvent(), endpoint)));
    return Promise.all(ids.map((id) => h.waitForState(id, ['delivered', 'failed'], 15_000)));
  };

  beforeEach(async () => {
    revoked = new Set();
    clockOffsetMs = 0;
    tokens = new TokenServer({ clientId: 'hookrelay', clientSecret: CLIENT_SECRET, expiresInS: HOUR_S });
    tokenEndpoint = await TestReceiver.start(tokens.reply);
    receiver = await TestReceiver.start((req, res) => {
      const token = bearerOf(req);
      const ok = token !== undefined && tokens.issued.includes(token) && !revoked.has(token);
      res.writeHead(ok ? 200 : 401).end();
    });
    h = await startEngineHarness({ concurrency: 50, now: () => Date.now() + clockOffsetMs });
  });
  afterEach(async () => {
    await h.close();
    await receiver.close();
    await tokenEndpoint.close();
  });

  it('fetches one token for 50 concurrent deliveries to one endpoint', async () => {
    const endpoint = await h.saveEndpoint(
      buildEndpoint({ url: receiver.url, auth: auth({ scope: 'webhooks:write', audience: 'https://api.example' }) }),
    );
    const done = await deliverAll(50, endpoint);
    expect(done.every((d) => d.state === 'delivered' && d.attempts === 1)).toBe(true);
    expect(tokens.requests).toHaveLength(1);
    expect(tokens.requests[0]).toEqual({
      grant_type: 'client_credentials',
      scope: 'webhooks:write',
      audience: 'https://api.example',
      client_id: 'hookrelay',
      client_secret: CLIENT_SECRET,
    });
    expect(new Set(receiver.requests.map(bearerOf))).toEqual(new Set(['tok-1']));
  });

  it('authenticates the client with Basic when clientAuth is basic', async () => {
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, auth: auth({ clientAuth: 'basic' }) }));
    const [done] = await deliverAll(1, endpoint);
    expect(done?.state).toBe('delivered');
    expect(tokenEndpoint.requests[0]?.headers.authorization).toMatch(/^Basic /);
    expect(tokens.requests[0]).toEqual({ grant_type: 'client_credentials' });
  });

  it('keeps a token until 30 s before expires_in, then refreshes it exactly once', async () => {
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, auth: auth() }));
    await deliverAll(1, endpoint);
    clockOffsetMs = (HOUR_S - 31) * 1000;
    await deliverAll(5, endpoint);
    expect(tokens.issued).toEqual(['tok-1']);

    clockOffsetMs = (HOUR_S - 29) * 1000;
    const done = await deliverAll(20, endpoint);
    expect(done.every((d) => d.state === 'delivered')).toBe(true);
    expect(tokens.issued).toEqual(['tok-1', 'tok-2']);
    expect(receiver.requests.slice(6).map(bearerOf)).toEqual(Array(20).fill('tok-2'));
  });

  describe('when the receiver has revoked the token', () => {
    it('refreshes once and delivers within the same attempt', async () => {
      const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, auth: auth(), retry: FAST_RETRY }));
      await deliverAll(1, endpoint);
      revoked.add('tok-1');
      const [done] = await deliverAll(1, endpoint);
      expect(done).toMatchObject({ state: 'delivered', attempts: 1 });
      expect(receiver.requests.map((r) => [bearerOf(r)])).toEqual([['tok-1'], ['tok-1'], ['tok-2']]);
      const [attempt] = await h.store.deliveries.attempts(done!.id);
      expect(attempt).toMatchObject({ outcome: 'delivered', statusCode: 200 });
    });

    it('refreshes once for many deliveries refused together', async () => {
      const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, auth: auth(), retry: FAST_RETRY }));
      await deliverAll(1, endpoint);
      revoked.add('tok-1');
      const done = await deliverAll(30, endpoint);
      expect(done.every((d) => d.state === 'delivered' && d.attempts === 1)).toBe(true);
      expect(tokens.issued).toEqual(['tok-1', 'tok-2']);
    });

    it('gives the fresh token one try only: a second 401 is a failed attempt, retried by policy', async () => {
      await receiver.close();
      receiver = await TestReceiver.start({ status: 401 });
      const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, auth: auth(), retry: { ...FAST_RETRY, maxRetries: 1 } }));
      const [done] = await deliverAll(1, endpoint);
      expect(done).toMatchObject({ state: 'failed', attempts: 2, lastStatusCode: 401 });
      expect(receiver.requests).toHaveLength(4);
    });
  });

  describe('when the token endpoint fails', () => {
    it('records the attempt with errorKind auth and retries it', async () => {
      tokens.failures.push(500);
      const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, auth: auth(), retry: FAST_RETRY }));
      const [done] = await deliverAll(1, endpoint);
      expect(done).toMatchObject({ state: 'delivered', attempts: 2 });
      const attempts = await h.store.deliveries.attempts(done!.id);
      expect(attempts[0]).toMatchObject({
        outcome: 'retry',
        errorKind: 'auth',
        errorMessage: 'oauth2: token endpoint answered HTTP 500 (temporarily_unavailable)',
      });
      expect(attempts[0]?.statusCode).toBeUndefined();
      expect(attempts[1]).toMatchObject({ outcome: 'delivered', statusCode: 200 });
      expect(receiver.requests).toHaveLength(1);
    });

    it('records errorKind auth when the client secret is refused', async () => {
      const endpoint = await h.saveEndpoint(
        buildEndpoint({ url: receiver.url, auth: auth({ clientSecret: 'wrong' }), retry: { ...FAST_RETRY, maxRetries: 1 } }),
      );
      const [done] = await deliverAll(1, endpoint);
      expect(done).toMatchObject({ state: 'failed', attempts: 2, lastErrorKind: 'auth' });
      expect(receiver.requests).toHaveLength(0);
    });

    it('records errorKind auth when the token endpoint is unreachable', async () => {
      const closedPort = await freePort();
      const unreachable = auth({ tokenUrl: `http://127.0.0.1:${closedPort}/oauth/token` });
      const endpoint = await h.saveEndpoint(
        buildEndpoint({ url: receiver.url, auth: unreachable, retry: { ...FAST_RETRY, maxRetries: 0 } }),
      );
      const [done] = await deliverAll(1, endpoint);
      const [attempt] = await h.store.deliveries.attempts(done!.id);
      expect(attempt).toMatchObject({ errorKind: 'auth', errorMessage: 'oauth2: token endpoint unreachable (connection_refused)' });
    });
  });

  it("forgets an endpoint's token when the endpoint changes, so a deleted or changed one's is not kept", async () => {
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, auth: auth() }));
    await deliverAll(1, endpoint);
    expect(tokens.issued).toHaveLength(1);
    await h.saveEndpoint({ ...endpoint, description: 'renamed' });
    // The change reaches the worker by pub/sub: a delivery or two may still use the kept token.
    for (let i = 0; i < 20 && tokens.issued.length < 2; i++) await deliverAll(1, endpoint);
    expect(tokens.issued).toHaveLength(2);
  });

  it('refuses an access token longer than 8,192 characters (kept per endpoint, sent on every delivery)', async () => {
    const huge = await TestReceiver.start((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: 'x'.repeat(8193), token_type: 'Bearer' }));
    });
    try {
      const endpoint = await h.saveEndpoint(
        buildEndpoint({ url: receiver.url, auth: auth({ tokenUrl: `${huge.url}/oauth/token` }), retry: { ...FAST_RETRY, maxRetries: 0 } }),
      );
      const [done] = await deliverAll(1, endpoint);
      const [attempt] = await h.store.deliveries.attempts(done!.id);
      expect(attempt).toMatchObject({
        errorKind: 'auth',
        errorMessage: 'oauth2: token response access_token is longer than 8192 characters',
      });
      expect(receiver.requests).toHaveLength(0);
    } finally {
      await huge.close();
    }
  });

  it('sends the token request through the SSRF guard: a loopback token URL is refused', async () => {
    await h.close();
    h = await startEngineHarness({ allowPrivateTargets: false });
    // The receiver URL is a public literal that is never reached: the token request fails first.
    const endpoint = await h.saveEndpoint(
      buildEndpoint({ url: 'https://93.184.216.34/hooks', auth: auth(), retry: { ...FAST_RETRY, maxRetries: 0 } }),
    );
    const [done] = await deliverAll(1, endpoint);
    const [attempt] = await h.store.deliveries.attempts(done!.id);
    expect(attempt).toMatchObject({ errorKind: 'auth', errorMessage: 'oauth2: token endpoint unreachable (ssrf_blocked)' });
    expect(tokenEndpoint.requests).toHaveLength(0);
  });

  it('keeps the client secret and tokens out of logs and stored attempts', async () => {
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, auth: auth(), retry: FAST_RETRY }));
    tokens.failures.push(503);
    const done = await deliverAll(3, endpoint);
    revoked.add('tok-1');
    done.push(...(await deliverAll(2, endpoint)));
    expect(h.logLines.some((l) => l.msg === 'auth.token_fetched')).toBe(true);
    expect(
      await leakedSecrets(
        h,
        done.map((d) => d.id),
        [CLIENT_SECRET, 'tok-1', 'tok-2'],
      ),
    ).toEqual([]);
  });
});
