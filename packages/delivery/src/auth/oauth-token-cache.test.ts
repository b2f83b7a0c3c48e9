import type { Dispatcher } from 'undici';
import { createLogger } from '@hookrelay/observability';
import { captureLogLines } from '@hookrelay/testing';
import { AuthFailure } from './auth-failure';
import { scriptedDns } from '@hookrelay/testing';
import { HostResolver } from '../ssrf/host-resolver';
import { OAuthTokenCache } from './oauth-token-cache';
import type { AccessToken, ClientCredentialsAuth } from './oauth-token-request';

const AUTH: ClientCredentialsAuth = {
  type: 'oauth2-client-credentials',
  tokenUrl: 'https://idp.test/token',
  clientId: 'c',
  clientSecret: 's',
  clientAuth: 'body',
};

/** A cache whose token requests are counted and answered by hand. */
function setup(opts: { expiresInS?: number; refreshMarginMs?: number } = {}) {
  let nowMs = 1_000_000;
  const calls: Array<{ auth: ClientCredentialsAuth; resolve: (t: AccessToken) => void; reject: (e: Error) => void }> = [];
  const cache = new OAuthTokenCache({
    dispatcher: {} as Dispatcher, // never used: fetchToken replaces the HTTP request
    userAgent: 'test',
    now: () => nowMs,
    refreshMarginMs: opts.refreshMarginMs,
    fetchToken: (auth) => new Promise((resolve, reject) => calls.push({ auth, resolve, reject })),
  });
  const answer = async (i: number, token: string, expiresInS = opts.expiresInS) => {
    await new Promise((r) => setImmediate(r));
    calls[i]?.resolve({ accessToken: token, ...(expiresInS !== undefined ? { expiresInS } : {}) });
  };
  return { cache, calls, answer, advance: (ms: number) => (nowMs += ms) };
}

describe('OAuthTokenCache', () => {
  it('makes one token request for many concurrent callers', async () => {
    const { cache, calls, answer } = setup({ expiresInS: 3600 });
    const waiting = Array.from({ length: 50 }, () => cache.token('ep_1', AUTH));
    void answer(0, 'tok-1');
    expect(await Promise.all(waiting)).toEqual(Array(50).fill('tok-1'));
    expect(calls).toHaveLength(1);
  });

  it('refreshes 30 s before expiry for long-lived tokens', async () => {
    const { cache, answer, advance } = setup({ expiresInS: 3600 });
    const first = cache.token('ep_1', AUTH);
    await answer(0, 'tok-1');
    await first;
    advance(3600_000 - 30_001);
    expect(await cache.token('ep_1', AUTH)).toBe('tok-1');
    advance(2);
    const second = cache.token('ep_1', AUTH);
    await answer(1, 'tok-2');
    expect(await second).toBe('tok-2');
  });

  it('refreshes at 90% of the lifetime for short-lived tokens', async () => {
    const { cache, calls, answer, advance } = setup({ expiresInS: 60 });
    const first = cache.token('ep_1', AUTH);
    await answer(0, 'tok-1');
    await first;
    advance(53_999);
    await cache.token('ep_1', AUTH);
    expect(calls).toHaveLength(1);
    advance(2);
    void cache.token('ep_1', AUTH);
    expect(calls).toHaveLength(2);
  });

  it('assumes five minutes when the token response has no expires_in', async () => {
    const { cache, calls, answer, advance } = setup();
    const first = cache.token('ep_1', AUTH);
    await answer(0, 'tok-1');
    await first;
    advance(269_000);
    await cache.token('ep_1', AUTH);
    expect(calls).toHaveLength(1);
    advance(2_000);
    void cache.token('ep_1', AUTH);
    expect(calls).toHaveLength(2);
  });

  it('does not remember a failure: the next caller asks again', async () => {
    const { cache, calls, answer } = setup({ expiresInS: 3600 });
    const failed = cache.token('ep_1', AUTH);
    await new Promise((r) => setImmediate(r));
    calls[0]?.reject(new AuthFailure('token endpoint answered HTTP 500'));
    await expect(failed).rejects.toThrow('HTTP 500');
    const retried = cache.token('ep_1', AUTH);
    await answer(1, 'tok-2');
    expect(await retried).toBe('tok-2');
  });

  it('drops a refused token once, however many deliveries report it', async () => {
    const { cache, calls, answer } = setup({ expiresInS: 3600 });
    const first = cache.token('ep_1', AUTH);
    await answer(0, 'tok-1');
    await first;
    cache.invalidate('ep_1', 'tok-1');
    const refreshed = cache.token('ep_1', AUTH);
    await answer(1, 'tok-2');
    expect(await refreshed).toBe('tok-2');
    cache.invalidate('ep_1', 'tok-1');
    expect(await cache.token('ep_1', AUTH)).toBe('tok-2');
    expect(calls).toHaveLength(2);
  });

  it('fetches a new token when the endpoint credentials change', async () => {
    const { cache, calls, answer } = setup({ expiresInS: 3600 });
    const first = cache.token('ep_1', AUTH);
    await answer(0, 'tok-1');
    await first;
    const changed = cache.token('ep_1', { ...AUTH, clientSecret: 'rotated' });
    await answer(1, 'tok-2');
    expect(await changed).toBe('tok-2');
    expect(calls[1]?.auth.clientSecret).toBe('rotated');
  });

  it('does not keep a token whose request was running when its endpoint was forgotten (changed or deleted), nor any after clear', async () => {
    const { cache, calls, answer } = setup({ expiresInS: 3600 });
    const running = cache.token('ep_1', AUTH);
    cache.forget('ep_1');
    void answer(0, 'tok-1');
    // The caller that asked still gets it, once.
    expect(await running).toBe('tok-1');
    const next = cache.token('ep_1', AUTH);
    void answer(1, 'tok-2');
    expect(await next).toBe('tok-2');
    expect(calls).toHaveLength(2);
    // Kept now; gone after clear (a reconnect, when change messages may have been missed).
    expect(await cache.token('ep_1', AUTH)).toBe('tok-2');
    cache.clear();
    const after = cache.token('ep_1', AUTH);
    void answer(2, 'tok-3');
    expect(await after).toBe('tok-3');
    expect(calls).toHaveLength(3);
  });

  it('keeps the next token of an endpoint forgotten while a request for it failed', async () => {
    const { cache, calls, answer } = setup({ expiresInS: 3600 });
    const failing = cache.token('ep_1', AUTH);
    cache.forget('ep_1');
    await new Promise((r) => setImmediate(r));
    calls[0]?.reject(new Error('token endpoint answered 500'));
    await expect(failing).rejects.toThrow(/500/);
    const next = cache.token('ep_1', AUTH);
    void answer(1, 'tok-2');
    expect(await next).toBe('tok-2');
    // Kept: the forget was for the request that failed, not for this one.
    expect(await cache.token('ep_1', AUTH)).toBe('tok-2');
    expect(calls).toHaveLength(2);
    expect(cache.size).toBe(1);
  });

  it('keeps tokens of different endpoints apart', async () => {
    const { cache, calls, answer } = setup({ expiresInS: 3600 });
    const a = cache.token('ep_a', AUTH);
    const b = cache.token('ep_b', AUTH);
    await answer(0, 'tok-a');
    await answer(1, 'tok-b');
    expect([await a, await b]).toEqual(['tok-a', 'tok-b']);
    expect(calls).toHaveLength(2);
  });

  describe('with the DNS behind its dispatcher (HostResolver)', () => {
    it("looks the token URL's name up for the endpoint's subscriber, within that subscriber's share, before it asks for a token", async () => {
      const dns = scriptedDns();
      const resolver = new HostResolver({ resolve: dns.resolve, maxLookups: 3, timeoutMs: 60_000 });
      const fetched: string[] = [];
      const cache = new OAuthTokenCache({
        dispatcher: {} as Dispatcher,
        userAgent: 'test',
        resolver,
        fetchToken: async (auth) => (fetched.push(auth.tokenUrl), { accessToken: 'tok', expiresInS: 3600 }),
      });
      // The subscriber holds its share (2 of 3) with names that have not answered yet.
      const held = [resolver.lookup('s1.test', 'sub_a'), resolver.lookup('s2.test', 'sub_a')];
      const token = cache.token('ep_1', { ...AUTH, tokenUrl: 'https://idp.test/token' }, 'sub_a');
      await new Promise((r) => setImmediate(r));
      // Charged to sub_a: it waits for sub_a's turn rather than take the last lookup.
      expect(dns.calls).toEqual(['s1.test', 's2.test']);
      expect(fetched).toEqual([]);
      dns.answer('s1.test');
      await new Promise((r) => setImmediate(r));
      expect(dns.calls).toEqual(['s1.test', 's2.test', 'idp.test']);
      dns.answer('idp.test');
      expect(await token).toBe('tok');
      expect(fetched).toEqual(['https://idp.test/token']);
      dns.answer('s2.test');
      await Promise.all(held);
    });

    it("fails the token request with the name's DNS error, without asking for a token", async () => {
      const resolver = new HostResolver({
        resolve: async (host) => {
          throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
        },
      });
      let fetches = 0;
      const cache = new OAuthTokenCache({
        dispatcher: {} as Dispatcher,
        userAgent: 'test',
        resolver,
        fetchToken: async () => (fetches++, { accessToken: 'tok' }),
      });
      await expect(cache.token('ep_1', AUTH, 'sub_a')).rejects.toMatchObject({
        name: 'AuthFailure',
        message: 'token endpoint unreachable (dns)',
        cause: expect.objectContaining({ code: 'ENOTFOUND' }),
      });
      expect(fetches).toBe(0);
    });
  });

  it("logs a failed token request at info (a subscriber's token endpoint, not the service's trouble)", async () => {
    const { lines, destination } = captureLogLines();
    const cache = new OAuthTokenCache({
      dispatcher: {} as Dispatcher,
      userAgent: 'test',
      logger: createLogger({ level: 'debug', destination }),
      fetchToken: () => Promise.reject(new AuthFailure('token endpoint answered 401')),
    });
    await expect(cache.token('ep_1', AUTH)).rejects.toThrow('token endpoint answered 401');
    await expect(cache.token('ep_1', AUTH)).rejects.toThrow();
    const failed = lines.filter((l) => l.msg === 'auth.token_failed');
    expect(failed.map((l) => l.level)).toEqual(['info', 'info']);
    expect(failed[0]).toMatchObject({ endpointId: 'ep_1', reason: 'token endpoint answered 401' });
  });
});
