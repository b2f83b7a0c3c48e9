import { checkTargetUrl, type CheckTargetUrlOptions } from './check-target-url';
import type { LookupFn } from './types';

// A fake DNS: only the names below exist. Records are what a hostile zone would publish.
const ZONE: Record<string, Array<{ address: string; family: 4 | 6 }>> = {
  'evil.test': [{ address: '127.0.0.1', family: 4 }],
  'metadata.test': [{ address: '169.254.169.254', family: 4 }],
  'mixed.test': [
    { address: '93.184.216.34', family: 4 },
    { address: '10.0.0.7', family: 4 },
  ],
  'public.test': [
    { address: '93.184.216.34', family: 4 },
    { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
  ],
  'empty.test': [],
};

const fakeLookup: LookupFn = async (hostname) => {
  const records = ZONE[hostname];
  if (!records) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return records;
};

const strict: CheckTargetUrlOptions = { allowPrivate: false, allowHttp: false, lookup: fakeLookup };
const strictWithHttp: CheckTargetUrlOptions = { ...strict, allowHttp: true };
const permissive: CheckTargetUrlOptions = { allowPrivate: true, allowHttp: true, lookup: fakeLookup };

describe('checkTargetUrl', () => {
  describe('when the host is an IP literal', () => {
    it.each([
      ['http://127.0.0.1/', /127\.0\.0\.1 is loopback/],
      ['https://[::1]/', /::1 is loopback/],
      ['https://169.254.169.254/latest/meta-data/', /link-local/],
      ['https://10.0.0.1:8443/hook', /private/],
      ['https://[fd00::1]/', /unique local/],
      ['https://[::ffff:127.0.0.1]/', /IPv4-mapped for 127\.0\.0\.1, which is loopback/],
      ['https://[::127.0.0.1]/', /outside global unicast/],
      ['https://0.0.0.0/', /unspecified/],
    ])('refuses %s', async (url, why) => {
      const result = await checkTargetUrl(url, strictWithHttp);
      expect(result).toEqual({ ok: false, reason: expect.stringMatching(why) });
    });

    it('allows a public address', async () => {
      await expect(checkTargetUrl('https://93.184.216.34/hook', strict)).resolves.toEqual({ ok: true });
      await expect(checkTargetUrl('https://[2606:4700::1111]/hook', strict)).resolves.toEqual({ ok: true });
    });
  });

  describe('when loopback is spelled as an integer, in octal or in hex', () => {
    // WHATWG URL rewrites these to 127.0.0.1; this pins that behaviour down so a parser change
    // (or someone switching to url.parse) shows up here instead of in production.
    it.each([
      'https://2130706433/',
      'https://0177.0.0.1/',
      'https://0x7f.1/',
      'https://0x7f000001/',
      'https://127.1/',
      'https://127.0.0.1./',
    ])('normalises %s to 127.0.0.1 and refuses it', async (url) => {
      expect(new URL(url).hostname).toBe('127.0.0.1');
      const result = await checkTargetUrl(url, strict);
      expect(result).toEqual({ ok: false, reason: expect.stringMatching(/127\.0\.0\.1 is loopback/) });
    });
  });

  describe('when the host is a name', () => {
    it('refuses localhost using the real system resolver', async () => {
      const result = await checkTargetUrl('https://localhost/', { allowPrivate: false, allowHttp: false });
      expect(result).toEqual({ ok: false, reason: expect.stringMatching(/^localhost resolves to a blocked address: .* is loopback$/) });
    });

    it('refuses a name that resolves to loopback', async () => {
      const result = await checkTargetUrl('https://evil.test/hook', strict);
      expect(result).toEqual({ ok: false, reason: 'evil.test resolves to a blocked address: 127.0.0.1 is loopback' });
    });

    it('refuses a name that resolves to the cloud metadata address', async () => {
      const result = await checkTargetUrl('https://metadata.test/', strict);
      expect(result).toEqual({ ok: false, reason: expect.stringMatching(/169\.254\.169\.254 is link-local/) });
    });

    it('refuses a name when any one of its addresses is private', async () => {
      const result = await checkTargetUrl('https://mixed.test/', strict);
      expect(result).toEqual({ ok: false, reason: expect.stringMatching(/10\.0\.0\.7 is private/) });
    });

    it('refuses a name that does not resolve, since it cannot be vetted', async () => {
      await expect(checkTargetUrl('https://nowhere.test/', strict)).resolves.toEqual({
        ok: false,
        reason: 'cannot resolve nowhere.test (ENOTFOUND)',
      });
      await expect(checkTargetUrl('https://empty.test/', strict)).resolves.toEqual({
        ok: false,
        reason: 'cannot resolve empty.test (no addresses)',
      });
    });

    it('allows a name whose every address is public', async () => {
      await expect(checkTargetUrl('https://public.test/hooks/in', strict)).resolves.toEqual({ ok: true });
    });
  });

  describe('scheme rules', () => {
    it.each([
      'file:///etc/passwd',
      'gopher://127.0.0.1:6379/_INFO',
      'javascript:alert(1)',
      'ftp://public.test/',
      'data:text/plain,hi',
      'ws://public.test/',
    ])('refuses %s even when private targets and http are allowed', async (url) => {
      const result = await checkTargetUrl(url, permissive);
      expect(result).toEqual({ ok: false, reason: expect.stringMatching(/^scheme [a-z]+: is not allowed/) });
    });

    it('refuses http unless allowHttp is set', async () => {
      await expect(checkTargetUrl('http://public.test/', strict)).resolves.toEqual({
        ok: false,
        reason: 'scheme http: is not allowed (use https:)',
      });
      await expect(checkTargetUrl('http://public.test/', strictWithHttp)).resolves.toEqual({ ok: true });
    });

    it('refuses a string that is not an absolute URL', async () => {
      await expect(checkTargetUrl('/relative/path', permissive)).resolves.toEqual({ ok: false, reason: 'not a valid absolute URL' });
    });
  });

  describe('when the operator allows private targets', () => {
    it.each([
      'http://127.0.0.1/',
      'https://[::1]/',
      'https://2130706433/',
      'https://0177.0.0.1/',
      'https://0x7f.1/',
      'https://[::ffff:127.0.0.1]/',
      'https://localhost/',
      'https://evil.test/',
      'https://metadata.test/',
    ])('allows %s', async (url) => {
      await expect(checkTargetUrl(url, permissive)).resolves.toEqual({ ok: true });
    });
  });
});
