/** One problem with a request, by the dotted path of the field (`retry.intervalMs`). */
export interface ErrorDetail {
  path: string;
  message: string;
}

/**
 * An error answered by Hookrelay, in its own words: `code` is stable (`validation_failed`,
 * `not_found`, `rate_limited`, ...), `message` is for people, `details` names each field for a 400.
 * A request that got no answer has `status` 0 and `code` `network_error` or `timeout`.
 */
export class HookrelayError extends Error {
  override readonly name = 'HookrelayError';
  constructor(
    /** The HTTP status, or 0 when no response arrived. */
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    /** The `X-Request-Id` of the request, for the operator's logs. */
    readonly requestId?: string,
    /** When the server said (`Retry-After`) how long to wait before trying again, in ms. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The error a non-2xx response stands for: the API's `{error: {code, message, details}}` when it sent one. */
  static fromResponse(response: Response, body: unknown): HookrelayError {
    const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
    const requestId = response.headers.get('x-request-id') ?? undefined;
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now());
    if (error && typeof error.code === 'string' && typeof error.message === 'string') {
      const details = Array.isArray(error.details) ? (error.details as ErrorDetail[]) : [];
      return new HookrelayError(response.status, error.code, error.message, details, requestId, retryAfterMs);
    }
    const text = typeof body === 'string' && body ? `: ${body.slice(0, 200)}` : '';
    return new HookrelayError(
      response.status,
      `http_${response.status}`,
      `Hookrelay answered HTTP ${response.status}${text}`,
      [],
      requestId,
      retryAfterMs,
    );
  }
}

/**
 * `Retry-After` in ms: delay-seconds or an HTTP-date (RFC 9110 10.2.3); undefined when absent or
 * unreadable. A date in the past is 0.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
