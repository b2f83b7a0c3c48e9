import { MAX_RETRY_DELAY_MS, type RetryPolicy } from '@hookrelay/contracts';

/**
 * How long to wait before attempt `nextAttempt` (2 for the first retry). Fixed waits the interval;
 * exponential doubles it per retry with ±20% jitter so a burst of failures does not come back as
 * one burst, capped at an hour. A longer Retry-After from the receiver wins.
 */
export function retryDelayMs(policy: RetryPolicy, nextAttempt: number, retryAfterMs?: number, random: () => number = Math.random): number {
  let delay = policy.intervalMs;
  if (policy.backoff === 'exponential') {
    const base = Math.min(policy.intervalMs * 2 ** Math.max(nextAttempt - 2, 0), MAX_RETRY_DELAY_MS);
    delay = Math.min(Math.round(base * (0.8 + 0.4 * random())), MAX_RETRY_DELAY_MS);
  }
  if (retryAfterMs !== undefined && retryAfterMs > delay) delay = Math.min(retryAfterMs, MAX_RETRY_DELAY_MS);
  return delay;
}
