import { MAX_RETRY_DELAY_MS } from '@hookrelay/contracts';

/**
 * Statuses that are never retried (Webex Connect's list, less its 2xx entries: every 2xx is a
 * success here). Redirects are final too: a dispatcher that followed them could be walked into
 * the operator's network.
 */
export const PERMANENT_FAILURE_STATUSES: ReadonlySet<number> = new Set([
  300, 301, 302, 303, 304, 305, 306, 307, 308, 400, 402, 404, 405, 406, 407, 408, 409, 410, 411, 414, 415, 416, 418, 505,
]);

export type Classification = { kind: 'delivered' } | { kind: 'retry'; retryAfterMs?: number } | { kind: 'permanent'; reason: string };

/** What an HTTP response means for the delivery. */
export function classifyResponse(statusCode: number, retryAfter: string | undefined, nowMs: number): Classification {
  if (statusCode >= 200 && statusCode < 300) return { kind: 'delivered' };
  if (PERMANENT_FAILURE_STATUSES.has(statusCode)) return { kind: 'permanent', reason: `HTTP ${statusCode}` };
  if ((statusCode === 429 || statusCode === 503) && retryAfter !== undefined) {
    const retryAfterMs = parseRetryAfter(retryAfter, nowMs);
    if (retryAfterMs !== undefined) return { kind: 'retry', retryAfterMs };
  }
  return { kind: 'retry' };
}

/** RFC 9110 Retry-After: delay-seconds or an HTTP-date; capped at an hour, nonsense ignored. */
export function parseRetryAfter(value: string, nowMs: number): number | undefined {
  const trimmed = value.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return undefined;
    ms = at - nowMs;
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_DELAY_MS);
}
