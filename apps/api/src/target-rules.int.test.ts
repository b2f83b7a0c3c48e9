import { createHmac } from 'node:crypto';
import { TestReceiver } from '@hookrelay/testing';
import { useApiHarnessPerTest, type ApiHarness, type ApiHarnessOptions } from './api-harness';

// A public IPv4 literal: passes the SSRF check without DNS, and is never called (verify: none).
const PUBLIC_URL = 'https://93.184.216.34/hooks';

describe('operator policy for endpoints', () => {
  const startApiHarness = useApiHarnessPerTest();
  let base: string;

  async function start(options: ApiHarnessOptions): Promise<ApiHarness> {
    const harness = await startApiHarness(options);
    const sid = (await harness.call('POST', '/v1/subscribers', { body: { name: 'Acme' } })).body.id;
    base = `/v1/subscribers/${sid}/endpoints`;
    return harness;
  }

  describe('when http is not allowed (HOOKRELAY_ALLOW_HTTP=false)', () => {
    it('refuses an http:// URL with 400 naming url, and stores nothing', async () => {
      const api = await start({ worker: false, policy: { allowHttp: false } });
      const res = await api.call('POST', base, { body: { url: 'http://127.0.0.1:8080/hooks' } });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([
        { path: 'url', message: expect.stringMatching(/scheme http: is not allowed \(use https:\)/) },
      ]);
      expect((await api.call('GET', base)).body.data).toEqual([]);
    });

    it('accepts an https:// URL', async () => {
      const api = await start({ worker: false, policy: { allowHttp: false } });
      expect((await api.call('POST', base, { body: { url: 'https://127.0.0.1:8443/hooks' } })).status).toBe(201);
    });

    it('refuses a PATCH to an http:// URL and keeps the old one', async () => {
      const api = await start({ worker: false, policy: { allowHttp: false } });
      const created = (await api.call('POST', base, { body: { url: 'https://127.0.0.1:8443/hooks' } })).body;
      const res = await api.call('PATCH', `${base}/${created.id}`, { body: { url: 'http://127.0.0.1:8080/hooks' } });
      expect(res.status).toBe(400);
      expect((await api.call('GET', `${base}/${created.id}`)).body.url).toBe('https://127.0.0.1:8443/hooks');
    });
  });

  describe('when private targets are not allowed (HOOKRELAY_ALLOW_PRIVATE_TARGETS=false)', () => {
    it.each([
      ['https://127.0.0.1/', /loopback/],
      ['https://localhost/', /localhost resolves to a blocked address/],
      ['https://[::1]/', /loopback/],
      ['https://169.254.169.254/latest/meta-data/', /link-local/],
      ['https://10.0.0.8/', /private/],
      ['https://2130706433/', /loopback/],
      ['https://[::ffff:127.0.0.1]/', /loopback/],
    ])('refuses %s with 400 naming url, and stores nothing', async (url, why) => {
      const api = await start({ worker: false, policy: { allowPrivateTargets: false } });
      const res = await api.call('POST', base, { body: { url } });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ path: 'url', message: expect.stringMatching(why) }]);
      expect((await api.call('GET', base)).body.data).toEqual([]);
      expect(await api.redis.keys(`${api.prefix}:ep:*`)).toEqual([]);
    });

    it('accepts a public address', async () => {
      const api = await start({ worker: false, policy: { allowPrivateTargets: false } });
      const res = await api.call('POST', base, { body: { url: PUBLIC_URL } });
      expect(res.status).toBe(201);
      expect(res.body.url).toBe(PUBLIC_URL);
    });

    it('refuses a PATCH to a private address and keeps the old URL', async () => {
      const api = await start({ worker: false, policy: { allowPrivateTargets: false } });
      const created = (await api.call('POST', base, { body: { url: PUBLIC_URL } })).body;
      const res = await api.call('PATCH', `${base}/${created.id}`, { body: { url: 'https://169.254.169.254/' } });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'url' })]);
      expect((await api.call('GET', `${base}/${created.id}`)).body.url).toBe(PUBLIC_URL);
    });
  });

  describe('sha1 signatures', () => {
    const SHA1 = { scheme: 'x-hub-signature', algorithm: 'sha1', prefix: true };

    it('are refused with 400 naming signature.algorithm by default, on create and on patch', async () => {
      const api = await start({ worker: false });
      const res = await api.call('POST', base, { body: { url: PUBLIC_URL, signature: SHA1 } });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ path: 'signature.algorithm', message: expect.stringMatching(/sha1/) }]);
      // The subscriber is told this server's policy, not which server variable to set.
      expect(res.body.error.message).toBe('signature.algorithm: sha1 is not allowed on this server; use sha256 or sha512');
      const created = (await api.call('POST', base, { body: { url: PUBLIC_URL } })).body;
      const patch = await api.call('PATCH', `${base}/${created.id}`, { body: { signature: SHA1 } });
      expect(patch.status).toBe(400);
      expect((await api.call('GET', `${base}/${created.id}`)).body.signature.algorithm).toBe('sha256');
    });

    it('are accepted when the operator allows them, and deliveries carry sha1=<hex>', async () => {
      const receiver = await TestReceiver.start();
      try {
        const api = await start({ policy: { allowSha1: true } });
        const created = await api.call('POST', base, { body: { url: receiver.url, signature: SHA1 } });
        expect(created.status).toBe(201);
        expect(created.body.signature).toEqual(SHA1);
        const sid = base.split('/')[3];
        await api.call('POST', `/v1/subscribers/${sid}/events`, { body: { type: 'custom.legacy.ping', payload: { n: 1 } } });
        const [req] = await receiver.waitForRequests(1);
        expect(req?.headers['x-hub-signature']).toBe(`sha1=${createHmac('sha1', created.body.secret).update('{"n":1}').digest('hex')}`);
      } finally {
        await receiver.close();
      }
    });
  });
});
