import type { LookupAddress, LookupOptions } from 'node:dns';
import { createGuardedLookup, type GuardedLookup } from './guarded-lookup';
import { SsrfBlockedError } from './ssrf-blocked-error';
import type { LookupFn, ResolvedAddress } from './types';

type LookupOutcome = { err: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number };

/** Calls the callback-style lookup the way net.connect does and captures what it answers. */
function callLookup(lookup: GuardedLookup, hostname: string, options: LookupOptions): Promise<LookupOutcome> {
  return new Promise((resolve) => lookup(hostname, options, (err, address, family) => resolve({ err, address, family })));
}

function fixedResolver(records: ResolvedAddress[]): LookupFn & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (hostname: string) => {
    calls.push(hostname);
    return records;
  };
  return Object.assign(fn, { calls });
}

const dualStack: ResolvedAddress[] = [
  { address: '2606:4700::1111', family: 6 },
  { address: '93.184.216.34', family: 4 },
];

describe('createGuardedLookup', () => {
  describe('when every address is public', () => {
    it('answers all addresses when Node asks with all: true (autoSelectFamily)', async () => {
      const lookup = createGuardedLookup({ allowPrivate: false }, fixedResolver(dualStack));
      const out = await callLookup(lookup, 'public.test', { all: true });
      expect(out.err).toBeNull();
      expect(out.address).toEqual([
        { address: '2606:4700::1111', family: 6 },
        { address: '93.184.216.34', family: 4 },
      ]);
    });

    it('answers the first address and its family when Node asks for one', async () => {
      const lookup = createGuardedLookup({ allowPrivate: false }, fixedResolver(dualStack));
      const out = await callLookup(lookup, 'public.test', {});
      expect(out).toEqual({ err: null, address: '2606:4700::1111', family: 6 });
    });

    it('honours a requested family', async () => {
      const lookup = createGuardedLookup({ allowPrivate: false }, fixedResolver(dualStack));
      await expect(callLookup(lookup, 'public.test', { family: 4 })).resolves.toEqual({ err: null, address: '93.184.216.34', family: 4 });
      await expect(callLookup(lookup, 'public.test', { family: 'IPv6', all: true })).resolves.toEqual({
        err: null,
        address: [{ address: '2606:4700::1111', family: 6 }],
        family: undefined,
      });
    });

    it('fails like dns.lookup when no address of the requested family exists', async () => {
      const lookup = createGuardedLookup({ allowPrivate: false }, fixedResolver([{ address: '93.184.216.34', family: 4 }]));
      const out = await callLookup(lookup, 'v4only.test', { family: 6 });
      expect(out.err).toMatchObject({ code: 'ENOTFOUND' });
    });
  });

  describe('when an address is blocked', () => {
    it('refuses with ESSRFBLOCKED and names the address', async () => {
      const lookup = createGuardedLookup({ allowPrivate: false }, fixedResolver([{ address: '169.254.169.254', family: 4 }]));
      const out = await callLookup(lookup, 'metadata.test', { all: true });
      expect(out.err).toBeInstanceOf(SsrfBlockedError);
      expect(out.err).toMatchObject({ code: 'ESSRFBLOCKED', hostname: 'metadata.test', address: '169.254.169.254' });
      expect(out.err?.message).toMatch(/metadata\.test resolves to a blocked address: 169\.254\.169\.254 is link-local/);
    });

    it('refuses when only one of several addresses is blocked, even if that family was not requested', async () => {
      // Node races every address it is handed, and a later lookup may ask for the other family.
      const lookup = createGuardedLookup(
        { allowPrivate: false },
        fixedResolver([
          { address: '93.184.216.34', family: 4 },
          { address: '::1', family: 6 },
        ]),
      );
      const out = await callLookup(lookup, 'mixed.test', { family: 4 });
      expect(out.err).toMatchObject({ code: 'ESSRFBLOCKED', address: '::1' });
    });

    it('lets it through when the policy allows private targets', async () => {
      const lookup = createGuardedLookup({ allowPrivate: true }, fixedResolver([{ address: '127.0.0.1', family: 4 }]));
      await expect(callLookup(lookup, 'evil.test', {})).resolves.toEqual({ err: null, address: '127.0.0.1', family: 4 });
    });
  });

  it('resolves exactly once per call, so what is checked is what is returned', async () => {
    const resolver = fixedResolver(dualStack);
    const lookup = createGuardedLookup({ allowPrivate: false }, resolver);
    await callLookup(lookup, 'public.test', { all: true });
    expect(resolver.calls).toEqual(['public.test']);
  });

  it('passes resolver failures through unchanged, so they classify as DNS errors', async () => {
    const failure = Object.assign(new Error('getaddrinfo EAI_AGAIN flaky.test'), { code: 'EAI_AGAIN' });
    const lookup = createGuardedLookup({ allowPrivate: false }, async () => {
      throw failure;
    });
    const out = await callLookup(lookup, 'flaky.test', { all: true });
    expect(out.err).toBe(failure);
  });
});
