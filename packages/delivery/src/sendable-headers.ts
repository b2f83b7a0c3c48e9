import { isHeaderName, isHeaderValue } from '@hookrelay/contracts';
import { Agent, errors, type Dispatcher } from 'undici';

/**
 * undici's own rules for a request's headers (lib/core/request.js `processHeader`), checked before
 * the Agent sees the request. undici checks them only inside the origin's Pool, once the Pool
 * exists and has handed the request to one of its clients: the refusal then left the Pool in the
 * Agent for good (it goes only on a connection event, and none comes), and left that client
 * waiting for a drain that never comes. An OAuth token server answering `"access_token": "a\nb"`
 * (any subscriber runs its own) thus leaked ~28 KB per receiver origin per request, and 64 such
 * sends took every client of an origin's Pool: every later request to that origin, another
 * subscriber's included, queued forever.
 */
const REFUSED = new Set(['transfer-encoding', 'keep-alive', 'upgrade', 'expect', 'connection']);

/** Why undici would refuse these headers, or null when it would take them. */
export function unsendableHeader(headers: Dispatcher.DispatchOptions['headers']): string | null {
  if (!headers) return null;
  const pairs: Array<[string, unknown]> = [];
  if (Array.isArray(headers)) for (let i = 0; i + 1 < headers.length; i += 2) pairs.push([String(headers[i]), headers[i + 1]]);
  else pairs.push(...Object.entries(headers as Record<string, unknown>));
  for (const [name, value] of pairs) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (!isHeaderName(lower)) return 'a header name that is not an HTTP token';
    if (REFUSED.has(lower)) return `the ${lower} header, which the HTTP client sets itself`;
    if (lower === 'content-length' && !/^\d+$/.test(String(value))) return 'an invalid content-length header';
    for (const v of Array.isArray(value) ? value : [value]) {
      if ((v !== null && typeof v === 'object') || !isHeaderValue(String(v ?? '')))
        return `a ${lower} header holding characters a header cannot carry (only tab, visible ASCII and Latin-1)`;
    }
  }
  return null;
}

/**
 * An Agent that refuses a request whose headers undici would refuse before it picks the origin's
 * Pool (see unsendableHeader): the caller gets undici's InvalidArgumentError, thrown from
 * dispatch, and no Pool is made or left waiting.
 */
export class SendableHeadersAgent extends Agent {
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const refusal = unsendableHeader(options.headers);
    if (refusal) throw new errors.InvalidArgumentError(`not sent: ${refusal}`);
    return super.dispatch(options, handler);
  }
}
