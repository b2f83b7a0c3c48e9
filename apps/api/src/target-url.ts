import { checkTargetUrl } from '@hookrelay/delivery';
import { ValidationError } from './errors';
import type { ApiDeps } from './deps';

/** Credentials taken out of a URL's userinfo (`https://user:pass@host/`), percent-decoded. */
export interface UrlCredentials {
  username: string;
  password: string;
}

export interface VettedTargetUrl {
  /** The URL to store: normalized, never with userinfo. */
  url: string;
  /** Present when the URL carried userinfo; the caller turns it into basic auth. */
  credentials?: UrlCredentials;
}

export interface AssertTargetUrlOptions {
  /** Field name used in error messages. @defaultValue 'url' */
  field?: string;
  /** Accept userinfo and hand it back (endpoint URLs, Web1on1) instead of refusing it. @defaultValue true */
  acceptCredentials?: boolean;
  /** Whose turn the DNS lookup takes (HostResolver): the subscriber the URL is for. */
  caller: string;
}

/**
 * Vets an endpoint URL before it is stored: http(s) only, https unless the operator allows http,
 * and no private, loopback or link-local target unless allowed (checked after DNS; the worker
 * checks again at delivery time, since DNS can change). Userinfo (Web1on1 puts credentials in the
 * URL) is taken out and returned, so the stored URL, and everything that shows or logs it, never
 * holds a password.
 */
export async function assertTargetUrl(
  url: string,
  deps: Pick<ApiDeps, 'policy' | 'resolver'>,
  opts: AssertTargetUrlOptions,
): Promise<VettedTargetUrl> {
  const field = opts.field ?? 'url';
  const refuse = (message: string): never => {
    throw ValidationError.at(field, message);
  };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refuse('not a valid absolute URL');
  }
  let credentials: UrlCredentials | undefined;
  if (parsed.username || parsed.password) {
    if (opts.acceptCredentials === false) refuse('credentials in the URL are not accepted here');
    credentials = decodeCredentials(parsed.username, parsed.password) ?? refuse('credentials in the URL are not valid percent-encoding');
    if (credentials.username === '') refuse('credentials in the URL need a user name (https://user:password@host/)');
    if (credentials.username.includes(':')) refuse('the user name in the URL must not contain a colon (RFC 7617)');
    parsed.username = '';
    parsed.password = '';
  }
  const verdict = await checkTargetUrl(parsed.toString(), {
    allowHttp: deps.policy.allowHttp,
    allowPrivate: deps.policy.allowPrivateTargets,
    lookup: (host) => deps.resolver.lookup(host, opts.caller),
  });
  if (!verdict.ok) refuse(verdict.reason);
  return credentials ? { url: parsed.toString(), credentials } : { url: parsed.toString() };
}

function decodeCredentials(username: string, password: string): UrlCredentials | undefined {
  try {
    return { username: decodeURIComponent(username), password: decodeURIComponent(password) };
  } catch {
    return undefined;
  }
}
