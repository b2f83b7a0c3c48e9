import { request, type Dispatcher } from 'undici';
import type { EndpointAuth } from '@hookrelay/contracts';
import { errorKindOf } from '../send';
import { handshakeFailureOf } from '../ssrf/tls-handshake-budget';
import { AuthFailure } from './auth-failure';

export type ClientCredentialsAuth = Extract<EndpointAuth, { type: 'oauth2-client-credentials' }>;

export interface AccessToken {
  accessToken: string;
  /** expires_in from the token response, when it gave one. */
  expiresInS?: number;
}

export interface TokenRequestOptions {
  dispatcher: Dispatcher;
  userAgent: string;
  timeoutMs: number;
}

/**
 * A token response is small: the longest token taken (MAX_ACCESS_TOKEN_CHARS) and a few fields
 * beside it. A token endpoint answering with megabytes is cut off here; it was 64 KB, and a
 * subscriber's token host answering 64 KB of small objects with fresh keys, each expiring at once,
 * cost the shared worker ~9 ms of JSON.parse a fetch, one or two fetches an attempt (an audit's
 * measurement).
 */
export const MAX_TOKEN_RESPONSE_BYTES = 16 * 1024;
/**
 * What a token response may hold before it is parsed: an RFC 6749 answer is one object of a few
 * string fields. Strings counted by their quotes (a key is one), objects and arrays by their
 * openings; escaped quotes inside strings count too, which only errs towards refusing.
 */
const MAX_TOKEN_RESPONSE_QUOTES = 128;
const MAX_TOKEN_RESPONSE_NESTINGS = 16;
/** An error answer is parsed only for its `error` code: a few dozen bytes (RFC 6749 section 5.2). */
const MAX_PARSED_ERROR_BYTES = 1024;
/**
 * The longest access token taken (the contract's bound on a static bearer token): a token is kept
 * per endpoint (OAuthTokenCache, up to 10,000) and sent on every delivery, and a token endpoint
 * answering 64 KB tokens cost the worker 64 KB per endpoint.
 */
export const MAX_ACCESS_TOKEN_CHARS = 8192;

/** application/x-www-form-urlencoded encoding of one value (RFC 6749 appendix B). */
function formEncode(value: string): string {
  return new URLSearchParams([['v', value]]).toString().slice(2);
}

/**
 * RFC 6749 section 4.4: POST grant_type=client_credentials to the token endpoint, through the
 * worker's guarded dispatcher (the token URL is SSRF-checked like any receiver). The client
 * authenticates in the body (client_secret_post) or with Basic (client_secret_basic, whose
 * id and secret are form-encoded before base64, section 2.3.1).
 */
export async function requestClientCredentialsToken(auth: ClientCredentialsAuth, opts: TokenRequestOptions): Promise<AccessToken> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (auth.scope !== undefined) form.set('scope', auth.scope);
  if (auth.audience !== undefined) form.set('audience', auth.audience);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
    'user-agent': opts.userAgent,
  };
  if (auth.clientAuth === 'basic') {
    headers.authorization = `Basic ${Buffer.from(`${formEncode(auth.clientId)}:${formEncode(auth.clientSecret)}`).toString('base64')}`;
  } else {
    form.set('client_id', auth.clientId);
    form.set('client_secret', auth.clientSecret);
  }

  const signal = AbortSignal.timeout(opts.timeoutMs);
  let statusCode: number;
  let text: string;
  let deadline: NodeJS.Timeout | undefined;
  let running: Promise<{ statusCode: number; text: string }> | undefined;
  let deadlineWon = false;
  try {
    const exchange = async (): Promise<{ statusCode: number; text: string }> => {
      const res = await request(auth.tokenUrl, {
        method: 'POST',
        headers,
        body: form.toString(),
        dispatcher: opts.dispatcher,
        signal,
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
      });
      return { statusCode: res.statusCode, text: await readCapped(res.body, res.statusCode) };
    };
    // The signal aborts a request only once it has a socket: one still connecting (a token host
    // that stalls its TLS handshake) or queued for a connection would keep every delivery of the
    // endpoint waiting on it, slots held, until undici's connect timeout or longer. The deadline
    // holds whatever undici does; the request ends in its own time.
    running = exchange();
    running.catch(() => undefined);
    ({ statusCode, text } = await Promise.race([
      running,
      new Promise<never>((_, reject) => {
        deadline = setTimeout(() => {
          deadlineWon = true;
          reject(new DOMException('token request timed out', 'TimeoutError'));
        }, opts.timeoutMs);
      }),
    ]));
  } catch (err) {
    if (err instanceof AuthFailure) throw err;
    const kind = errorKindOf(err, signal);
    const handshakeFailed = handshakeFailureOf(err);
    // Decided by the deadline: a handshake that fails after it is still this request's.
    const lateHandshake =
      handshakeFailed === undefined && deadlineWon && running
        ? running.then(
            () => undefined,
            (late: unknown) => handshakeFailureOf(late),
          )
        : undefined;
    throw new AuthFailure(`token endpoint unreachable (${kind})`, {
      cause: err,
      timedOut: kind === 'timeout',
      handshakeFailed,
      lateHandshake,
    });
  } finally {
    clearTimeout(deadline);
  }
  if (statusCode < 200 || statusCode >= 300) {
    const json = text.length <= MAX_PARSED_ERROR_BYTES ? parseJson(text) : null;
    // RFC 6749 section 5.2: `error` is an ASCII code such as invalid_client; safe to repeat.
    const code = typeof json?.error === 'string' && /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(json.error) ? ` (${json.error})` : '';
    throw new AuthFailure(`token endpoint answered HTTP ${statusCode}${code}`);
  }
  const shape = tokenResponseShapeProblem(text);
  if (shape) throw new AuthFailure(`token response ${shape}`);
  const json = parseJson(text);
  if (!json || typeof json.access_token !== 'string' || json.access_token === '')
    throw new AuthFailure('token response has no access_token');
  if (json.access_token.length > MAX_ACCESS_TOKEN_CHARS)
    throw new AuthFailure(`token response access_token is longer than ${MAX_ACCESS_TOKEN_CHARS} characters`);
  if (typeof json.token_type === 'string' && json.token_type.toLowerCase() !== 'bearer') {
    throw new AuthFailure(`token_type ${json.token_type.slice(0, 32)} is not supported (only bearer)`);
  }
  const expiresIn = typeof json.expires_in === 'string' ? Number(json.expires_in) : json.expires_in;
  return {
    accessToken: json.access_token,
    ...(typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0 ? { expiresInS: expiresIn } : {}),
  };
}

/** Why `text` is not shaped like a token response (too many strings or nestings to be one), or null. */
function tokenResponseShapeProblem(text: string): string | null {
  let quotes = 0;
  let nestings = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 && ++quotes > MAX_TOKEN_RESPONSE_QUOTES) return `has more than ${MAX_TOKEN_RESPONSE_QUOTES / 2} strings`;
    if ((c === 0x7b || c === 0x5b) && ++nestings > MAX_TOKEN_RESPONSE_NESTINGS)
      return `has more than ${MAX_TOKEN_RESPONSE_NESTINGS} objects or arrays`;
  }
  return null;
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

async function readCapped(body: Dispatcher.ResponseData['body'], statusCode: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size > MAX_TOKEN_RESPONSE_BYTES) {
      body.destroy();
      // A proxy's error page is often larger: its status is what says what went wrong.
      if (statusCode < 200 || statusCode >= 300) throw new AuthFailure(`token endpoint answered HTTP ${statusCode}`);
      throw new AuthFailure(`token response is larger than ${MAX_TOKEN_RESPONSE_BYTES} bytes`);
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}
