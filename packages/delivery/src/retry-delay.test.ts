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
});
