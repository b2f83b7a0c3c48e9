import { DEFAULT_MIN_RETRY_INTERVAL_MS, MAX_RETRY_DELAY_MS, type RetryPolicy } from '@hookrelay/contracts';

/**
 * How long to wait before attempt `nextAttempt` (2 for the first retry). Fixed waits the interval;
 * exponential doubles it per retry with ±20% jitter so a burst of failures does not come back as
 * one burst, capped at an hour. A longer Retry-After from the receiver wins. Never less than
 * `minMs` (the operator's floor, HOOKRELAY_MIN_RETRY_INTERVAL_MS): a policy stored before the floor
 * existed, or under a lower one, is held to it, and so is exponential's jitter below the interval.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  nextAttempt: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
  minMs = DEFAULT_MIN_RETRY_INTERVAL_MS,
): number {
  let delay = policy.intervalMs;
  if (policy.backoff === 'exponential') {
    const base = Math.min(policy.intervalMs * 2 ** Math.max(nextAttempt - 2, 0), MAX_RETRY_DELAY_MS);
    delay = Math.min(Math.round(base * (0.8 + 0.4 * random())), MAX_RETRY_DELAY_MS);
  }
  if (retryAfterMs !== undefined && retryAfterMs > delay) delay = Math.min(retryAfterMs, MAX_RETRY_DELAY_MS);
  return Math.max(delay, Math.min(minMs, MAX_RETRY_DELAY_MS));
}
