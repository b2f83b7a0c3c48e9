import { promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { blockedAddressReason } from './blocked-address';
import { SsrfBlockedError } from './ssrf-blocked-error';
import type { LookupFn, ResolvedAddress, SsrfPolicy } from './types';

/**
 * The `lookup` option of `net.connect` / `tls.connect` (and so of undici's `connect: { lookup }`).
 * Node calls it with `{ all: true }` when autoSelectFamily is on (the default since Node 20) and
 * without it otherwise; both are supported.
 */
export type GuardedLookup = LookupFunction;

/** The system resolver (getaddrinfo, so /etc/hosts counts), in the order the OS returned. */
export const systemResolve: LookupFn = async (hostname) => {
  const found = await dns.lookup(hostname, { all: true, verbatim: true });
  return found.map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));
};

/**
 * A dns.lookup-compatible function that resolves once, vets every candidate and hands Node only
 * vetted addresses. Node then connects to one of exactly those: there is no second lookup between
 * the check and the connect, which is what defeats DNS rebinding (a TTL-0 record answering a
 * public address to the check and 127.0.0.1 to the connect).
 *
 * Refuses when ANY candidate is blocked, not just the first: with autoSelectFamily Node races
 * every address it is given, so one private record among public ones is still a way in.
 */
export function createGuardedLookup(policy: SsrfPolicy, resolve: LookupFn = systemResolve): GuardedLookup {
  return (hostname, options, callback) => {
    // dns.lookup also accepts (hostname, callback); net never calls it that way, but stay compatible.
    const opts: LookupOptions = typeof options === 'object' && options !== null ? options : {};
    const done = typeof options === 'function' ? (options as typeof callback) : callback;
    resolve(hostname).then(
      (candidates) => {
        let result: ResolvedAddress[];
        try {
          result = vet(hostname, candidates, policy, opts);
        } catch (err) {
          // nextTick: an exception thrown by the callback must not be caught by this promise chain.
          process.nextTick(done, err, []);
          return;
        }
        if (opts.all) {
          const all: LookupAddress[] = result.map((r) => ({ address: r.address, family: r.family }));
          process.nextTick(done, null, all);
        } else {
          const first = result[0] as ResolvedAddress; // vet() never returns an empty list
          process.nextTick(done, null, first.address, first.family);
        }
      },
      (err: unknown) => process.nextTick(done, toErrno(err, hostname), []),
    );
  };
}

function vet(hostname: string, candidates: ResolvedAddress[], policy: SsrfPolicy, opts: LookupOptions): ResolvedAddress[] {
  if (!policy.allowPrivate) {
    for (const candidate of candidates) {
      const reason = blockedAddressReason(candidate.address);
      if (reason !== null) throw new SsrfBlockedError(hostname, candidate.address, reason);
    }
  }
  const family = wantedFamily(opts.family);
  const usable = family === 0 ? candidates : candidates.filter((c) => c.family === family);
  if (usable.length === 0) throw notFound(hostname);
  return usable;
}

function wantedFamily(family: LookupOptions['family']): 0 | 4 | 6 {
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return 0;
}

function notFound(hostname: string): NodeJS.ErrnoException {
  // Same shape as dns.lookup's own failure, so the worker classifies it as a DNS error.
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
}

function toErrno(err: unknown, hostname: string): NodeJS.ErrnoException {
  return err instanceof Error ? err : Object.assign(notFound(hostname), { cause: err });
}
