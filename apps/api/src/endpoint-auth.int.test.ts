import type { AuthenticatedSender } from '@hookrelay/delivery';
import { TestReceiver } from '@hookrelay/testing';
import { TokenServer } from '../../../packages/delivery/src/auth/test-servers/token-server';
import { useApiHarnessPerTest, type ApiHarness, type ApiHarnessOptions } from './api-harness';

// A public IPv4 literal: passes the SSRF check without DNS, and is never called (verify: none).
const PUBLIC_URL = 'https://93.184.216.34/hooks';

/** Each scheme as written, the secrets it holds, and what the API may show of it. */
const SCHEMES = [
  {
    auth: { type: 'basic', username: 'zenduty', password: 'pw-basic-1a2b' },
    secrets: ['pw-basic-1a2b'],
    shown: { type: 'basic', username: 'zenduty', configured: true },
  },
  {
    auth: { type: 'api-key', header: 'X-Api-Key', value: 'key-api-3c4d' },
    secrets: ['key-api-3c4d'],
    shown: { type: 'api-key', header: 'X-Api-Key', configured: true },
  },
  { auth: { type: 'bearer', token: 'tok-bearer-5e6f' }, secrets: ['tok-bearer-5e6f'], shown: { type: 'bearer', configured: true } },
  {
    auth: {
      type: 'oauth2-client-credentials',
      tokenUrl: 'https://93.184.216.34/oauth/token',
      clientId: 'hookrelay',
      clientSecret: 'cs-oauth-7a8b',
      scope: 'hooks',
    },
    secrets: ['cs-oauth-7a8b'],
    shown: {
      type: 'oauth2-client-credentials',
      tokenUrl: 'https://93.184.216.34/oauth/token',
      clientId: 'hookrelay',
      scope: 'hooks',
      clientAuth: 'body',
      configured: true,
    },
  },
  {
    auth: { type: 'digest', username: 'Mufasa', password: 'pw-digest-9c0d' },
    secrets: ['pw-digest-9c0d'],
    shown: { type: 'digest', username: 'Mufasa', configured: true },
  },
  {
    auth: {
      type: 'aws-sigv4',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'sak-aws-1e2f',
      sessionToken: 'st-aws-3a4b',
      region: 'eu-west-1',
      service: 'execute-api',
    },
    secrets: ['sak-aws-1e2f', 'st-aws-3a4b'],
    shown: {
      type: 'aws-sigv4',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      region: 'eu-west-1',
      service: 'execute-api',
      hasSessionToken: true,
      configured: true,
    },
  },
];

describe('endpoint auth through the API', () => {
  const startApiHarness = useApiHarnessPerTest();
  let base: string;
  let sid: string;

  async function start(options: ApiHarnessOptions = { worker: false }): Promise<ApiHarness> {
    const harness = await startApiHarness(options);
    sid = (await harness.call('POST', '/v1/subscribers', { body: { name: 'Acme' } })).body.id;
    base = `/v1/subscribers/${sid}/endpoints`;
    return harness;
  }

  it("verifies with verify: 'post' through the endpoint's OAuth client credentials", async () => {
    const api = await start();
    const tokens = new TokenServer({ clientId: 'hookrelay', clientSecret: 'cs-verify-0123' });
    const tokenServer = await TestReceiver.start(tokens.reply);
    const receiver = await TestReceiver.start((req, res) => {
      res.writeHead(req.headers.authorization === 'Bearer tok-1' ? 200 : 401).end();
    });
    try {
      const auth = {
        type: 'oauth2-client-credentials',
        tokenUrl: `${tokenServer.url}/token`,
        clientId: 'hookrelay',
        clientSecret: 'cs-verify-0123',
      };
      const res = await api.call('POST', base, { body: { url: receiver.url, verify: 'post', auth } });
      expect(res.status).toBe(201);
      expect(tokens.issued).toEqual(['tok-1']);
      expect(receiver.requests.map((r) => r.headers.authorization)).toEqual(['Bearer tok-1']);
    } finally {
      await tokenServer.close();
      await receiver.close();
    }
  });

  it('keeps no token for an endpoint whose create was refused after its verification fetched one, nor for a deleted one', async () => {
    const api = await start();
    const tokens = new TokenServer({ clientId: 'hookrelay', clientSecret: 'cs-verify-4567' });
    const tokenServer = await TestReceiver.start(tokens.reply);
    const refusing = await TestReceiver.start({ status: 500 });
    const accepting = await TestReceiver.start({ status: 200 });
    const kept = () => (api.deps.auth as AuthenticatedSender).kept.tokens;
    try {
      const auth = {
        type: 'oauth2-client-credentials',
        tokenUrl: `${tokenServer.url}/token`,
        clientId: 'hookrelay',
        clientSecret: 'cs-verify-4567',
      };
      // Refused (422) with a token fetched: the endpoint id is never stored, so nothing may stay under it.
      for (let i = 0; i < 3; i++)
        expect((await api.call('POST', base, { body: { url: refusing.url, verify: 'post', auth } })).status).toBe(422);
      expect(tokens.issued).toHaveLength(3);
      expect(kept()).toBe(0);
      const created = await api.call('POST', base, { body: { url: accepting.url, verify: 'post', auth } });
      expect(created.status).toBe(201);
      expect(kept()).toBe(1);
      // New credentials: the token fetched under the old ones goes, whether or not the PATCH verifies.
      const patched = await api.call('PATCH', `${base}/${created.body.id}`, { body: { auth: { ...auth, scope: 'hooks' } } });
      expect(patched.status).toBe(200);
      expect(kept()).toBe(0);
      // A test send fetches one again; the delete drops it.
      expect((await api.call('POST', `${base}/${created.body.id}/test`)).status).toBe(200);
      expect(kept()).toBe(1);
      expect((await api.call('DELETE', `${base}/${created.body.id}`)).status).toBe(204);
      expect(kept()).toBe(0);
    } finally {
      await tokenServer.close();
      await refusing.close();
      await accepting.close();
    }
  });

  it('defaults to no auth', async () => {
    const api = await start();
    const res = await api.call('POST', base, { body: { url: PUBLIC_URL } });
    expect(res.body.auth).toEqual({ type: 'none' });
  });

  it.each(SCHEMES)('stores $auth.type auth and never shows its secrets', async ({ auth, secrets, shown }) => {
    const api = await start();
    const created = await api.call('POST', base, { body: { url: PUBLIC_URL, auth } });
    expect(created.status).toBe(201);
    expect(created.body.auth).toEqual(shown);
    const seen = [
      created.body,
      (await api.call('GET', `${base}/${created.body.id}`)).body,
      (await api.call('GET', base)).body,
      (await api.call('PATCH', `${base}/${created.body.id}`, { body: { description: 'x' } })).body,
      (await api.call('GET', `${base}/${created.body.id}/secret`)).body,
    ];
    for (const secret of secrets) expect(JSON.stringify([seen, api.logLines])).not.toContain(secret);
    expect((await api.store.endpoints.get(created.body.id))?.auth).toMatchObject(auth);
  });

  describe('a URL with credentials in it (Web1on1)', () => {
    it('becomes basic auth, percent-decoded, and the stored URL keeps no credentials', async () => {
      const api = await start();
      const res = await api.call('POST', base, { body: { url: 'https://web1on1:p%40ss%3Aw%C3%B6rd@93.184.216.34/hooks?x=1' } });
      expect(res.status).toBe(201);
      expect(res.body.url).toBe('https://93.184.216.34/hooks?x=1');
      expect(res.body.auth).toEqual({ type: 'basic', username: 'web1on1', configured: true });
      const stored = await api.store.endpoints.get(res.body.id);
      expect(stored?.url).toBe('https://93.184.216.34/hooks?x=1');
      expect(stored?.auth).toEqual({ type: 'basic', username: 'web1on1', password: 'p@ss:wörd' });
      expect(JSON.stringify(res.body)).not.toMatch(/p%40ss|p@ss/);
    });

    it('delivers with the Basic credentials from the URL', async () => {
      const receiver = await TestReceiver.start();
      try {
        const api = await start({ worker: true });
        const url = receiver.url.replace('http://', 'http://user%20one:s%C3%A9cret@');
        expect((await api.call('POST', base, { body: { url: `${url}/hook` } })).status).toBe(201);
        await api.call('POST', `/v1/subscribers/${sid}/events`, { body: { type: 'custom.order.paid', payload: { id: 1 } } });
        const [req] = await receiver.waitForRequests(1);
        expect(req?.headers.authorization).toBe(`Basic ${Buffer.from('user one:sécret', 'utf8').toString('base64')}`);
        expect(req?.url).toBe('/hook');
      } finally {
        await receiver.close();
      }
    });

    it('turns into basic auth on PATCH too, replacing the old auth', async () => {
      const api = await start();
      const created = (await api.call('POST', base, { body: { url: PUBLIC_URL, auth: { type: 'bearer', token: 't' } } })).body;
      const res = await api.call('PATCH', `${base}/${created.id}`, { body: { url: 'https://u:p@93.184.216.34/hooks' } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ url: PUBLIC_URL, auth: { type: 'basic', username: 'u', configured: true } });
    });

    it.each([
      ['with an auth field as well', { url: 'https://u:p@93.184.216.34/', auth: { type: 'bearer', token: 't' } }, /both given/],
      ['with broken percent-encoding', { url: 'https://u:%E0%A4%A@93.184.216.34/' }, /percent-encoding/],
      ['with no user name', { url: 'https://:p@93.184.216.34/' }, /user name/],
    ])('is refused with 400 %s', async (_name, body, why) => {
      const api = await start();
      const res = await api.call('POST', base, { body });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ path: 'url', message: expect.stringMatching(why) }]);
    });
  });

  it('replaces the whole auth on PATCH and keeps it when auth is not sent', async () => {
    const api = await start();
    const created = (await api.call('POST', base, { body: { url: PUBLIC_URL, auth: { type: 'bearer', token: 'old' } } })).body;
    await api.call('PATCH', `${base}/${created.id}`, { body: { description: 'kept' } });
    expect((await api.store.endpoints.get(created.id))?.auth).toEqual({ type: 'bearer', token: 'old' });
    const res = await api.call('PATCH', `${base}/${created.id}`, { body: { auth: { type: 'api-key', header: 'X-Key', value: 'new' } } });
    expect(res.body.auth).toEqual({ type: 'api-key', header: 'X-Key', configured: true });
    const none = await api.call('PATCH', `${base}/${created.id}`, { body: { auth: { type: 'none' } } });
    expect(none.body.auth).toEqual({ type: 'none' });
  });

  it('refuses the authorization-code grant with 400 saying why', async () => {
    const api = await start();
    for (const auth of [
      { type: 'oauth2-authorization-code', clientId: 'c' },
      { type: 'oauth2', grantType: 'authorization_code' },
    ]) {
      const res = await api.call('POST', base, { body: { url: PUBLIC_URL, auth } });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([
        { path: 'auth.type', message: expect.stringMatching(/no user to send there; use oauth2-client-credentials/) },
      ]);
    }
  });

  it.each([
    ['an unknown type', { type: 'ntlm' }, 'auth.type', /must be one of none, basic, api-key/],
    [
      'an API key in a header Hookrelay sets',
      { type: 'api-key', header: 'X-Hub-Signature', value: 'v' },
      'auth.header',
      /set by Hookrelay/,
    ],
    ['an API key header that is not a token', { type: 'api-key', header: 'X Api Key', value: 'v' }, 'auth.header', /HTTP token/],
    ['a bearer token with a line break', { type: 'bearer', token: 'a\r\nX-Evil: 1' }, 'auth.token', /CR, LF/],
    ['a basic user name with a colon', { type: 'basic', username: 'a:b', password: 'p' }, 'auth.username', /colon/],
    [
      'an AWS region that is not one',
      { type: 'aws-sigv4', accessKeyId: 'AKIA', secretAccessKey: 's', region: 'EU West', service: 's3' },
      'auth.region',
      /region/,
    ],
  ])('refuses %s with 400 naming the field', async (_name, auth, path, why) => {
    const api = await start();
    const res = await api.call('POST', base, { body: { url: PUBLIC_URL, auth } });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path, message: expect.stringMatching(why) }]);
  });

  it('refuses a SigV4 endpoint whose URL aws4 cannot sign (a malformed escape it decodes), on create and on PATCH', async () => {
    const api = await start();
    const s3 = { type: 'aws-sigv4', accessKeyId: 'AKIA', secretAccessKey: 's', region: 'eu-west-1', service: 's3' };
    const apiGateway = { ...s3, service: 'execute-api' };
    const refusedWith = (res: { status: number; body: { error: { details: unknown } } }) => {
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ path: 'url', message: expect.stringMatching(/malformed percent-escape/) }]);
    };
    // S3 signs its path decoded; any service decodes a path or query holding characters it escapes.
    refusedWith(await api.call('POST', base, { body: { url: `${PUBLIC_URL}/a%zz`, auth: s3 } }));
    refusedWith(await api.call('POST', base, { body: { url: `${PUBLIC_URL}/a|b/%zz`, auth: apiGateway } }));
    refusedWith(await api.call('POST', base, { body: { url: `${PUBLIC_URL}/p?q=%zz&r=[1]`, auth: apiGateway } }));
    // What aws4 signs as sent, or decodes cleanly, is taken.
    expect((await api.call('POST', base, { body: { url: `${PUBLIC_URL}/a%zz`, auth: apiGateway } })).status).toBe(201);
    const created = (await api.call('POST', base, { body: { url: `${PUBLIC_URL}/a%20b`, auth: s3 } })).body;
    refusedWith(await api.call('PATCH', `${base}/${created.id}`, { body: { url: `${PUBLIC_URL}/a%zz` } }));
    // A PATCH that changes neither the URL nor the auth is not checked: an endpoint stored before
    // the check (its URL written here as an earlier version would have) can still be disabled.
    await api.store.endpoints.update(created.id, { url: `${PUBLIC_URL}/a%zz` });
    expect((await api.call('PATCH', `${base}/${created.id}`, { body: { status: 'disabled' } })).status).toBe(200);
  });

  describe('the OAuth token URL', () => {
    const oauth = (tokenUrl: string) => ({ type: 'oauth2-client-credentials', tokenUrl, clientId: 'c', clientSecret: 's' });

    it('is refused when it points at a private address, like an endpoint URL', async () => {
      const api = await start({ worker: false, policy: { allowPrivateTargets: false } });
      for (const tokenUrl of ['https://127.0.0.1/token', 'https://169.254.169.254/latest/meta-data', 'https://10.0.0.1/token']) {
        const res = await api.call('POST', base, { body: { url: PUBLIC_URL, auth: oauth(tokenUrl) } });
        expect(res.status).toBe(400);
        expect(res.body.error.details).toEqual([{ path: 'auth.tokenUrl', message: expect.any(String) }]);
      }
      expect((await api.call('GET', base)).body.data).toEqual([]);
    });

    it('is refused with credentials in it, and over http when http is not allowed', async () => {
      const api = await start({ worker: false, policy: { allowHttp: false } });
      const withUser = await api.call('POST', base, { body: { url: PUBLIC_URL, auth: oauth('https://u:p@93.184.216.34/token') } });
      expect(withUser.body.error.details).toEqual([{ path: 'auth.tokenUrl', message: expect.stringMatching(/credentials/) }]);
      const plain = await api.call('POST', base, { body: { url: PUBLIC_URL, auth: oauth('http://93.184.216.34/token') } });
      expect(plain.body.error.details).toEqual([{ path: 'auth.tokenUrl', message: expect.stringMatching(/scheme http:/) }]);
    });

    it('is vetted on PATCH as well', async () => {
      const api = await start({ worker: false, policy: { allowPrivateTargets: false } });
      const created = (await api.call('POST', base, { body: { url: PUBLIC_URL } })).body;
      const res = await api.call('PATCH', `${base}/${created.id}`, { body: { auth: oauth('https://127.0.0.1/token') } });
      expect(res.status).toBe(400);
      expect((await api.call('GET', `${base}/${created.id}`)).body.auth).toEqual({ type: 'none' });
    });
  });
});
