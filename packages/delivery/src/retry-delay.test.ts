import { DEFAULT_MIN_RETRY_INTERVAL_MS } from '@hookrelay/contracts';
import { retryDelayMs } from './retry-delay';

describe('retryDelayMs', () => {
  it('waits the fixed interval for every retry', () => {
    const policy = { maxRetries: 3, intervalMs: 60_000, backoff: 'fixed' as const };
    expect([2, 3, 4].map((n) => retryDelayMs(policy, n))).toEqual([60_000, 60_000, 60_000]);
  });

  it('doubles the interval per retry with jitter within ±20%', () => {
    const policy = { maxRetries: 5, intervalMs: 1000, backoff: 'exponential' as const };
    expect(retryDelayMs(policy, 2, undefined, () => 0.5)).toBe(1000);
    expect(retryDelayMs(policy, 3, undefined, () => 0.5)).toBe(2000);
    expect(retryDelayMs(policy, 4, undefined, () => 0.5)).toBe(4000);
    expect(retryDelayMs(policy, 4, undefined, () => 0)).toBe(3200);
    expect(retryDelayMs(policy, 4, undefined, () => 0.999999)).toBeCloseTo(4800, -1);
  });

  it('caps exponential backoff at an hour', () => {
    const policy = { maxRetries: 50, intervalMs: 60_000, backoff: 'exponential' as const };
    expect(retryDelayMs(policy, 40, undefined, () => 1)).toBe(3_600_000);
  });

  it('prefers a longer Retry-After, capped at an hour', () => {
    const policy = { maxRetries: 3, intervalMs: 1000, backoff: 'fixed' as const };
    expect(retryDelayMs(policy, 2, 5000)).toBe(5000);
    expect(retryDelayMs(policy, 2, 500)).toBe(1000);
    expect(retryDelayMs(policy, 2, 10_000_000)).toBe(3_600_000);
  });

  it('never waits less than the floor, 1 s unless the operator lowers it', () => {
    expect(DEFAULT_MIN_RETRY_INTERVAL_MS).toBe(1000);
    const hammering = { maxRetries: 50, intervalMs: 1, backoff: 'fixed' as const };
    expect(retryDelayMs(hammering, 2)).toBe(1000);
    expect(retryDelayMs(hammering, 2, undefined, Math.random, 250)).toBe(250);
    expect(retryDelayMs(hammering, 2, undefined, Math.random, 1)).toBe(1);
    // Exponential's jitter below an interval at the floor is held to the floor; a longer Retry-After still wins.
    const atFloor = { maxRetries: 5, intervalMs: 1000, backoff: 'exponential' as const };
    expect(retryDelayMs(atFloor, 2, undefined, () => 0)).toBe(1000);
    expect(retryDelayMs(hammering, 2, 5000)).toBe(5000);
    // A floor set over the hour is held to the hour, as every other wait is.
    expect(retryDelayMs(hammering, 2, undefined, Math.random, 10_000_000)).toBe(3_600_000);
  });
});
