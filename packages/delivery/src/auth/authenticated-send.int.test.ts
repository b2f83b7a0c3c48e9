import { Agent } from 'undici';
import { USER_AGENT } from '@hookrelay/contracts';
import { buildEndpoint, scriptedDns, startStallingServer, useTestReceiver } from '@hookrelay/testing';
import { testObservability } from '../engine-harness';
import { createGuardedAgent } from '../ssrf/guarded-agent';
import { HostResolver } from '../ssrf/host-resolver';
import { AuthenticatedSender } from './authenticated-send';
import { DigestSessions } from './digest-sessions';
import { OAuthTokenCache } from './oauth-token-cache';
import { TokenServer } from './test-servers/token-server';

const settle = () => new Promise((r) => setImmediate(r));

describe("AuthenticatedSender with the process's DNS", () => {
  const receiver = useTestReceiver({ status: 200 });

  function sender(dns: ReturnType<typeof scriptedDns>) {
    const resolver = new HostResolver({ resolve: dns.resolve, maxLookups: 3, timeoutMs: 60_000 });
    const dispatcher = createGuardedAgent({ allowPrivate: true }, { resolver });
    const { logger } = testObservability();
    const oauth = new OAuthTokenCache({ dispatcher, userAgent: USER_AGENT, resolver });
    return {
      resolver,
      dispatcher,
      send: new AuthenticatedSender({ dispatcher, oauth, digest: new DigestSessions(), logger, now: Date.now, resolver }),
    };
  }

  it("looks a request's name up for the endpoint's subscriber, within its share, before it connects", async () => {
    const dns = scriptedDns('127.0.0.1');
    const { resolver, dispatcher, send } = sender(dns);
    try {
      const port = new URL(receiver.url).port;
      const endpoint = buildEndpoint({ subscriberId: 'sub_a', url: `http://hook.test:${port}/hook` });
      // sub_a holds its share (2 of 3) with names that have not answered.
      const held = [resolver.lookup('s1.test', 'sub_a'), resolver.lookup('s2.test', 'sub_a')];
      const sending = send.send(endpoint, {
        url: endpoint.url,
        headers: { 'content-type': 'application/json' },
        body: '{}',
        timeoutMs: 10_000,
      });
      await settle();
      // Charged to sub_a, it waits; the last lookup is still free for another subscriber.
      expect(dns.calls).toEqual(['s1.test', 's2.test']);
      const other = resolver.lookup('other.test', 'sub_b');
      await settle();
      expect(dns.calls).toEqual(['s1.test', 's2.test', 'other.test']);
      dns.answer('other.test');
      await other;
      dns.answer('s1.test');
      await settle();
      expect(dns.calls).toEqual(['s1.test', 's2.test', 'other.test', 'hook.test']);
      dns.answer('hook.test');
      const { result } = await sending;
      expect(result).toMatchObject({ kind: 'response', statusCode: 200 });
      expect(receiver.requests).toHaveLength(1);
      // The connection found the answer in the cache: one lookup of hook.test in all.
      expect(dns.calls.filter((h) => h === 'hook.test')).toHaveLength(1);
      dns.answer('s2.test');
      await Promise.all(held);
    } finally {
      await dispatcher.close();
    }
  });

  it('answers a name that does not resolve with a dns error, without connecting', async () => {
    const dns = scriptedDns('127.0.0.1');
    const { dispatcher, send } = sender(dns);
    try {
      const endpoint = buildEndpoint({ subscriberId: 'sub_a', url: 'http://typo.test:1/hook' });
      const sending = send.send(endpoint, { url: endpoint.url, headers: {}, body: '{}', timeoutMs: 10_000 });
      await settle();
      dns.fail('typo.test');
      const { result } = await sending;
      expect(result).toMatchObject({ kind: 'error', errorKind: 'dns', message: 'getaddrinfo ENOTFOUND typo.test' });
      expect(dns.calls).toEqual(['typo.test']);
    } finally {
      await dispatcher.close();
    }
  });
});

describe("AuthenticatedSender's attempt duration", () => {
  it('is the time to the deadline for a send that timed out, not the time undici took to let go of it', async () => {
    // Never answers the TLS handshake: the request waits for its connect timeout.
    const stalling = await startStallingServer();
    const { port } = stalling;
    const dispatcher = new Agent({ connect: { timeout: 1500 } });
    const { logger } = testObservability();
    const oauth = new OAuthTokenCache({ dispatcher, userAgent: USER_AGENT });
    const send = new AuthenticatedSender({ dispatcher, oauth, digest: new DigestSessions(), logger, now: Date.now });
    try {
      const started = Date.now();
      const endpoint = buildEndpoint({ url: `https://127.0.0.1:${port}/hook` });
      const { result } = await send.send(endpoint, { url: endpoint.url, headers: {}, body: '{}', timeoutMs: 100 });
      // Resolved once undici gave the request up (its connect timeout)...
      expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
      // ...recorded as the 100 ms the attempt had.
      expect(result).toMatchObject({ kind: 'error', errorKind: 'timeout' });
      expect(result.durationMs).toBeLessThan(1000);
      expect(result).not.toHaveProperty('decidedAt');
    } finally {
      await dispatcher.destroy();
      await stalling.close();
    }
  });
});

describe("AuthenticatedSender's log of a receiver's auth failures", () => {
  // A subscriber's receiver decides these, once per attempt: info, so operators' warn alerts do
  // not fire over a tenant's configuration.
  const receiver = useTestReceiver({
    status: 401,
    headers: { 'www-authenticate': `Digest realm="${'r'.repeat(1025)}", nonce="n1", qop="auth"` },
  });

  it('logs a Digest challenge it cannot answer at info, once per attempt', async () => {
    const dispatcher = new Agent();
    const { logger, logLines } = testObservability();
    const oauth = new OAuthTokenCache({ dispatcher, userAgent: USER_AGENT });
    const send = new AuthenticatedSender({ dispatcher, oauth, digest: new DigestSessions(), logger, now: Date.now });
    try {
      const endpoint = buildEndpoint({ url: receiver.url, auth: { type: 'digest', username: 'u', password: 'p' } });
      for (let i = 0; i < 2; i++) {
        const { result } = await send.send(endpoint, { url: endpoint.url, headers: {}, body: '{}', timeoutMs: 10_000 });
        expect(result).toMatchObject({ kind: 'response', statusCode: 401 });
      }
      const lines = logLines.filter((l) => l.msg === 'auth.digest_challenge_unanswerable');
      expect(lines.map((l) => l.level)).toEqual(['info', 'info']);
      expect(lines[0]).toMatchObject({ endpointId: endpoint.id });
    } finally {
      await dispatcher.close();
    }
  });
});

describe("AuthenticatedSender's OAuth token and the receiver's address slot", () => {
  const events: string[] = [];
  const tokens = new TokenServer({ clientId: 'hookrelay', clientSecret: 'cs-1', delayMs: 20 });
  const tokenHost = useTestReceiver(async (req, res) => {
    events.push('token request');
    await tokens.reply(req, res);
  });
  // Refuses every token: the attempt asks for a fresh one, once.
  const receiver = useTestReceiver({ status: 401 });

  function sender() {
    const dispatcher = new Agent();
    const { logger } = testObservability();
    const oauth = new OAuthTokenCache({ dispatcher, userAgent: USER_AGENT });
    return { dispatcher, send: new AuthenticatedSender({ dispatcher, oauth, digest: new DigestSessions(), logger, now: Date.now }) };
  }
  const endpointOf = () =>
    buildEndpoint({
      url: `${receiver.url}/hook`,
      auth: {
        type: 'oauth2-client-credentials',
        tokenUrl: `${tokenHost.url}/token`,
        clientId: 'hookrelay',
        clientSecret: 'cs-1',
        clientAuth: 'body',
      },
    });

  it("hands a kept token over at once, not as a promise (every attempt's path), and one it had to fetch with the wait", async () => {
    const { dispatcher, send } = sender();
    try {
      const endpoint = endpointOf();
      const fetching = send.credentials(endpoint);
      expect(fetching).toBeInstanceOf(Promise);
      const fetched = await fetching;
      expect(fetched).toMatchObject({ kind: 'token', token: 'tok-1' });
      expect((fetched as { waitedMs: number }).waitedMs).toBeGreaterThanOrEqual(20);
      expect(send.credentials(endpoint)).toEqual({ kind: 'token', token: 'tok-1' });
      expect(send.credentials(buildEndpoint({ url: receiver.url }))).toEqual({ kind: 'none' });
    } finally {
      await dispatcher.close();
    }
  });

  it('gives up the address slot while it fetches a fresh token for a refused one; the 401 stands when the address filled meanwhile', async () => {
    const { dispatcher, send } = sender();
    try {
      const endpoint = endpointOf();
      const credentials = await send.credentials(endpoint);
      events.splice(0);
      const receiverSlot = {
        release: () => void events.push('release'),
        retake: () => {
          events.push('retake');
          return false;
        },
      };
      const before = receiver.requests.length;
      const { result, request } = await send.send(
        endpoint,
        { url: endpoint.url, headers: {}, body: '{}', timeoutMs: 10_000 },
        { credentials, receiverSlot },
      );
      expect(events).toEqual(['release', 'token request', 'retake']);
      expect(result).toMatchObject({ kind: 'response', statusCode: 401 });
      const [refused, fresh] = tokens.issued.slice(-2);
      expect(request.headers.authorization).toBe(`Bearer ${refused}`);
      expect(receiver.requests.length - before).toBe(1);
      // The fresh token is kept for the next attempt.
      expect(send.credentials(endpoint)).toEqual({ kind: 'token', token: fresh });
    } finally {
      await dispatcher.close();
    }
  });
});
