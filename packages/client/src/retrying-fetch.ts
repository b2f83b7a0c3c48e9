import { HookrelayError, parseRetryAfter } from './errors';

export interface RetryOptions {
  /** Retries after the first attempt, for 429 and 503 answers only. @defaultValue 3 */
  maxRetries?: number;
  /** Wait before the first retry when the server names none; doubles each time, with ±20% jitter. @defaultValue 500 */
  baseDelayMs?: number;
  /**
   * The longest wait between two attempts. A `Retry-After` longer than this is not waited out: the
   * error is thrown at once, with `retryAfterMs`, for the caller to schedule.
   * @defaultValue 30000
   */
  maxDelayMs?: number;
}

/** What the retrying fetch needs from outside: the real fetch, a clock and a way to wait (tests pass their own). */
export interface FetchEnvironment {
  fetch: (input: Request, init?: RequestInit) => Promise<Response>;
  timeoutMs: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
}

/** 429 (slow down) and 503 (unavailable, shutting down) say the request was not taken: sending it again is safe. */
const RETRIED = new Set([429, 503]);

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A fetch that sends a request again when Hookrelay answers 429 or 503, after the `Retry-After`
 * it names (else an exponential backoff), up to `maxRetries` times, and gives each attempt
 * `timeoutMs`. Every other answer, and the last one, is returned as it is.
 */
export function retryingFetch(retry: RetryOptions | false, env: FetchEnvironment): (request: Request) => Promise<Response> {
  const maxRetries = retry === false ? 0 : (retry.maxRetries ?? 3);
  const baseDelayMs = retry === false ? 0 : (retry.baseDelayMs ?? 500);
  const maxDelayMs = retry === false ? 0 : (retry.maxDelayMs ?? 30_000);
  const sleep = env.sleep ?? wait;
  const now = env.now ?? Date.now;
  const random = env.random ?? Math.random;

  async function attempt(request: Request): Promise<Response> {
    try {
      return await env.fetch(request, { signal: AbortSignal.timeout(env.timeoutMs) });
    } catch (err) {
      const name = (err as Error)?.name;
      if (name === 'TimeoutError' || name === 'AbortError')
        throw new HookrelayError(0, 'timeout', `no answer from Hookrelay within ${env.timeoutMs} ms`, [], undefined, undefined, {
          cause: err,
        });
      throw new HookrelayError(
        0,
        'network_error',
        `could not reach Hookrelay: ${(err as Error)?.message ?? String(err)}`,
        [],
        undefined,
        undefined,
        { cause: err },
      );
    }
  }

  return async (request) => {
    for (let retries = 0; ; retries++) {
      // A body can be read once: every attempt but the last sends a copy.
      const response = await attempt(retries < maxRetries ? request.clone() : request);
      if (!RETRIED.has(response.status) || retries >= maxRetries) return response;
      const named = parseRetryAfter(response.headers.get('retry-after'), now());
      if (named !== undefined && named > maxDelayMs) return response;
      const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** retries * (0.8 + 0.4 * random()));
      await response.body?.cancel();
      await sleep(named ?? backoff);
    }
  };
}
