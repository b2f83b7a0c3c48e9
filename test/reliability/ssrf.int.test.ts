import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkTargetUrl, createGuardedAgent, HostResolver, type LookupFn, type ResolvedAddress } from '@hookrelay/delivery';
import type { DeliveryRecord } from '@hookrelay/contracts';
import { buildEndpoint, startRedisServer, type RedisServerHandle } from '@hookrelay/testing';
import type { Agent } from 'undici';
import { startReliabilityApi, type ReliabilityApi } from './support/reliability-api';
import { waitFor } from './support/wait';

/** An HTTP server on every local address (dual-stack ::) that counts TCP connections: any is a leak. */
async function startCountingServer(): Promise<{ port: number; connections: number; requests: string[]; close(): Promise<void> }> {
  const state = { connections: 0, requests: [] as string[] };
  const server: Server = createServer((req, res) => {
    state.requests.push(`${req.method} ${req.url}`);
    res.end('ok');
  });
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '::', resolve));
  return Object.assign(state, {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** The registration-time list of issue 8, every one of which must be refused when private targets are off. */
const PRIVATE_FORMS: Array<[string, RegExp]> = [
  ['https://127.0.0.1/hook', /127\.0\.0\.1 is loopback/],
  ['https://127.255.0.9/hook', /127\.255\.0\.9 is loopback/],
  ['https://[::1]/hook', /::1 is loopback/],
  ['https://10.0.0.1/hook', /10\.0\.0\.1 is private/],
  ['https://10.255.255.255/hook', /private/],
  ['https://172.16.0.1/hook', /172\.16\.0\.1 is private/],
  ['https://172.31.255.254/hook', /private/],
  ['https://192.168.1.1/hook', /192\.168\.1\.1 is private/],
  ['https://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is link-local/],
  ['https://[fc00::1]/hook', /unique local/],
  ['https://[fd00:ec2::254]/hook', /unique local/],
  ['https://[fe80::1]/hook', /link-local/],
  ['https://0.0.0.0/hook', /unspecified/],
  ['https://[::ffff:127.0.0.1]/hook', /IPv4-mapped for 127\.0\.0\.1, which is loopback/],
  ['https://[::ffff:169.254.169.254]/hook', /IPv4-mapped for 169\.254\.169\.254/],
  ['https://2130706433/hook', /127\.0\.0\.1 is loopback/],
  ['https://0177.0.0.1/hook', /127\.0\.0\.1 is loopback/],
  ['https://0x7f.1/hook', /127\.0\.0\.1 is loopback/],
  ['https://user:secret@127.0.0.1/hook', /127\.0\.0\.1 is loopback/],
  // The system resolver answers localhost from /etc/hosts: no query leaves the machine.
  ['https://localhost/hook', /localhost resolves to a blocked address: .* is loopback/],
];

describe('SSRF: private targets off', () => {
  let redis: RedisServerHandle;
  let api: ReliabilityApi;
  let sid: string;

  beforeAll(async () => {
    redis = await startRedisServer();
    api = await startReliabilityApi({ redisUrl: redis.url, policy: { allowPrivateTargets: false, allowHttp: false } });
    sid = (await api.call('POST', '/v1/subscribers', { body: { name: 'ssrf' } })).body.id;
  });

  afterAll(async () => {
    await api.close();
    await redis.stop();
  });

  describe('at registration, through the API', () => {
    it.each(PRIVATE_FORMS)('refuses %s with a 400 naming the reason, and stores nothing', async (url, why) => {
      const res = await api.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url } });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'validation_failed', details: [{ path: 'url', message: expect.stringMatching(why) }] });
      expect(JSON.stringify(res.body)).not.toContain('secret@'); // userinfo is not echoed back
      expect((await api.call('GET', `/v1/subscribers/${sid}/endpoints`)).body.data).toEqual([]);
    });

    it('refuses the same forms when an existing endpoint is PATCHed to them, and as an OAuth token URL', async () => {
      const created = await api.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: 'https://93.184.216.34/hook' } });
      expect(created.status).toBe(201);
      for (const [url] of PRIVATE_FORMS) {
        const patched = await api.call('PATCH', `/v1/subscribers/${sid}/endpoints/${created.body.id}`, { body: { url } });
        expect([url, patched.status]).toEqual([url, 400]);
        const oauth = await api.call('POST', `/v1/subscribers/${sid}/endpoints`, {
          body: {
            url: 'https://93.184.216.34/hook',
            auth: { type: 'oauth2-client-credentials', tokenUrl: url, clientId: 'c', clientSecret: 's' },
          },
        });
        expect([url, oauth.status, oauth.body.error?.details?.[0]?.path]).toEqual([url, 400, 'auth.tokenUrl']);
      }
      const stored = await api.store.endpoints.get(created.body.id);
      expect(stored?.url).toBe('https://93.184.216.34/hook');
      await api.call('DELETE', `/v1/subscribers/${sid}/endpoints/${created.body.id}`);
    });
  });

  describe('at delivery time', () => {
    let target: Awaited<ReturnType<typeof startCountingServer>>;
    let agent: Agent;
    let resolver: HostResolver;
    const calls: string[] = [];
    /** DNS that can change: a name answers a public address to the registration check, then loopback. */
    const zone: Record<string, ResolvedAddress[] | ((call: number) => ResolvedAddress[])> = {
      'rebind.test': (call) => (call === 1 ? [{ address: '93.184.216.34', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]),
      'loop6.test': [{ address: '::1', family: 6 }],
      'mapped.test': [{ address: '::ffff:127.0.0.1', family: 6 }],
      'zero.test': [{ address: '0.0.0.0', family: 4 }],
      'mixed.test': [
        { address: '93.184.216.34', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
    };
    const perName = new Map<string, number>();
    const resolve: LookupFn = async (hostname) => {
      calls.push(hostname);
      const n = (perName.get(hostname) ?? 0) + 1;
      perName.set(hostname, n);
      const entry = zone[hostname];
      if (!entry) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      return typeof entry === 'function' ? entry(n) : entry;
    };

    beforeAll(async () => {
      target = await startCountingServer();
      // One resolver for the worker's caps and its connections, as in production.
      resolver = new HostResolver({ resolve });
      agent = createGuardedAgent({ allowPrivate: false }, { resolver });
      await api.close();
      api = await startReliabilityApi({
        redisUrl: redis.url,
        policy: { allowPrivateTargets: false, allowHttp: true },
        worker: { allowPrivateTargets: false, dispatcher: agent, resolver, concurrency: 10 },
      });
      sid = (await api.call('POST', '/v1/subscribers', { body: { name: 'ssrf-delivery' } })).body.id;
    });

    afterAll(async () => {
      await target.close();
      await agent.close();
    });

    /** Stores an endpoint as the API would have after vetting it, publishes one event, waits for the outcome. */
    async function deliverTo(url: string): Promise<{ delivery: DeliveryRecord; errorKind?: string; errorMessage?: string }> {
      const type = `custom.ssrf${Math.random().toString(36).slice(2, 8)}`;
      const endpoint = buildEndpoint({
        url,
        subscriberId: sid,
        eventTypes: [type],
        retry: { maxRetries: 3, intervalMs: 100, backoff: 'fixed' },
      });
      await api.store.endpoints.save(endpoint);
      const published = await api.call('POST', `/v1/subscribers/${sid}/events`, { body: { type, payload: {} } });
      expect(published.status).toBe(202);
      const id = published.body.deliveries[0].id as string;
      const delivery = await waitFor(
        `delivery to ${url} to end`,
        async () => {
          const d = await api.store.deliveries.get(id);
          return d && (d.state === 'failed' || d.state === 'delivered') ? d : undefined;
        },
        10_000,
      );
      const [attempt] = await api.store.deliveries.attempts(id);
      return { delivery, errorKind: attempt?.errorKind, errorMessage: attempt?.errorMessage };
    }

    it('refuses a name that resolved publicly at registration and resolves to 127.0.0.1 at delivery', async () => {
      const url = `http://rebind.test:${target.port}/hook`;
      // What the API checks when the endpoint is registered: the name resolves publicly, so it is accepted.
      await expect(checkTargetUrl(url, { allowPrivate: false, allowHttp: true, lookup: resolve })).resolves.toEqual({ ok: true });
      const { delivery, errorKind, errorMessage } = await deliverTo(url);
      expect(delivery).toMatchObject({ state: 'failed', attempts: 1, lastErrorKind: 'ssrf_blocked' });
      expect(errorKind).toBe('ssrf_blocked');
      expect(errorMessage).toMatch(/rebind\.test resolves to a blocked address: 127\.0\.0\.1 is loopback/);
      expect(target.connections).toBe(0);
    });

    it.each([
      ['a name resolving to ::1', 'loop6.test'],
      ['a name resolving to ::ffff:127.0.0.1', 'mapped.test'],
      ['a name resolving to 0.0.0.0', 'zero.test'],
      ['a name with one loopback address among public ones', 'mixed.test'],
      ['the literal 127.0.0.1', '127.0.0.1'],
      ['the literal [::1]', '[::1]'],
      ['the literal [::ffff:127.0.0.1]', '[::ffff:127.0.0.1]'],
      ['the literal 0.0.0.0', '0.0.0.0'],
      ['the decimal form 2130706433', '2130706433'],
      ['the octal form 0177.0.0.1', '0177.0.0.1'],
    ])('refuses %s at delivery with ssrf_blocked, as a permanent failure, without connecting', async (_label, host) => {
      const { delivery, errorKind } = await deliverTo(`http://${host}:${target.port}/hook`);
      expect(delivery).toMatchObject({ state: 'failed', attempts: 1, lastErrorKind: 'ssrf_blocked' });
      expect(errorKind).toBe('ssrf_blocked');
      expect(target.connections).toBe(0);
      expect(target.requests).toEqual([]);
    });
  });
});

describe('SSRF: redirects', () => {
  it('are never followed, even to an allowed target: a 3xx ends the delivery', async () => {
    const redis = await startRedisServer();
    const inside = await startCountingServer();
    const redirector = createServer((_req, res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${inside.port}/internal` }).end();
    });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    const api = await startReliabilityApi({ redisUrl: redis.url, worker: { concurrency: 5 } });
    try {
      const sid = (await api.call('POST', '/v1/subscribers', { body: { name: 'redirect' } })).body.id;
      const url = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/hook`;
      expect((await api.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url } })).status).toBe(201);
      const published = await api.call('POST', `/v1/subscribers/${sid}/events`, { body: { type: 'custom.redirect', payload: {} } });
      const id = published.body.deliveries[0].id as string;
      const delivery = await waitFor(
        'the redirected delivery to end',
        async () => {
          const d = await api.store.deliveries.get(id);
          return d?.state === 'failed' ? d : undefined;
        },
        10_000,
      );
      expect(delivery).toMatchObject({ attempts: 1, lastStatusCode: 302 });
      expect(inside.connections).toBe(0);
    } finally {
      await api.close();
      redirector.closeAllConnections();
      await new Promise<void>((r) => redirector.close(() => r()));
      await inside.close();
      await redis.stop();
    }
  });
});
