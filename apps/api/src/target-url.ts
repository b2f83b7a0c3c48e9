import { checkTargetUrl } from '@hookrelay/delivery';
import { ValidationError } from './errors';
import type { ApiDeps } from './deps';

/**
 * Vets an endpoint URL before it is stored: http(s) only, https unless the operator allows http,
 * no credentials in the URL, and no private, loopback or link-local target unless allowed
 * (checked after DNS; the worker checks again at delivery time, since DNS can change).
 */
export async function assertTargetUrl(url: string, deps: Pick<ApiDeps, 'policy'>, field = 'url'): Promise<string> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError(`${field}: not a valid absolute URL`, [{ path: field, message: 'not a valid absolute URL' }]);
  }
  if (parsed.username || parsed.password) {
    throw new ValidationError(`${field}: credentials in the URL are not accepted`, [{ path: field, message: 'credentials in the URL are not accepted' }]);
  }
  const verdict = await checkTargetUrl(parsed.toString(), { allowHttp: deps.policy.allowHttp, allowPrivate: deps.policy.allowPrivateTargets });
  if (!verdict.ok) throw new ValidationError(`${field}: ${verdict.reason}`, [{ path: field, message: verdict.reason }]);
  return parsed.toString();
}
