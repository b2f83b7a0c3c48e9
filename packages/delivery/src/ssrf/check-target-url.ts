import { isIP } from 'node:net';
import { blockedAddressReason } from './blocked-address';
import { systemResolve } from './guarded-lookup';
import type { LookupFn, SsrfPolicy } from './types';

export type CheckTargetUrlOptions = SsrfPolicy & {
  /** Accept plain http:// targets as well as https://. @defaultValue none: callers decide */
  allowHttp: boolean;
  /** Resolver for hostnames. @defaultValue the system resolver (dns.promises.lookup, all: true) */
  lookup?: LookupFn;
};

export type CheckTargetUrlResult = { ok: true } | { ok: false; reason: string };

/**
 * Vets an endpoint URL when it is registered, so an obviously internal target is refused with a
 * 400 instead of failing every delivery later. It is a courtesy, not the defence: DNS can change
 * after registration, so the worker's guarded agent vets again at connect time.
 *
 * IPv4 spellings such as http://2130706433/, http://0177.0.0.1/ and http://0x7f.1/ need no special
 * handling: the WHATWG URL parser rewrites every one of them to 127.0.0.1 before we look at it.
 * Userinfo is not handled here; the caller strips it before storing the URL.
 */
export async function checkTargetUrl(url: string, opts: CheckTargetUrlOptions): Promise<CheckTargetUrlResult> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refuse('not a valid absolute URL');
  }

  // Allow-list, not deny-list: file:, gopher:, ftp:, javascript:, data: ... are all refused here.
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && opts.allowHttp)) {
    return refuse(`scheme ${parsed.protocol} is not allowed (use ${opts.allowHttp ? 'http: or https:' : 'https:'})`);
  }

  const host = unbracket(parsed.hostname);
  if (host === '') return refuse('URL has no host');
  if (opts.allowPrivate) return { ok: true };

  if (isIP(host) !== 0) {
    const reason = blockedAddressReason(host);
    return reason === null ? { ok: true } : refuse(`target ${reason}`);
  }

  let addresses: Awaited<ReturnType<LookupFn>>;
  try {
    addresses = await (opts.lookup ?? systemResolve)(host);
  } catch (err) {
    const code = (err as { code?: unknown })?.code;
    return refuse(`cannot resolve ${host}${typeof code === 'string' ? ` (${code})` : ''}`);
  }
  if (addresses.length === 0) return refuse(`cannot resolve ${host} (no addresses)`);

  // ANY, not the first: the worker may connect to whichever record it is handed.
  for (const { address } of addresses) {
    const reason = blockedAddressReason(address);
    if (reason !== null) return refuse(`${host} resolves to a blocked address: ${reason}`);
  }
  return { ok: true };
}

function refuse(reason: string): CheckTargetUrlResult {
  return { ok: false, reason };
}

/** URL.hostname keeps the brackets of an IPv6 literal ("[::1]"); net.isIP and resolvers want "::1". */
export function unbracket(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}
