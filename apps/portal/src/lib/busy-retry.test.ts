import { busyRetryDelayMs, MAX_BUSY_TRIES } from './busy-retry';

describe('busyRetryDelayMs', () => {
  const busy = { method: 'GET', status: 429, code: 'listings_in_flight', retryAfter: '1' };

  it('asks a busy listing again after the Retry-After given, at most 2 s, a few times', () => {
    expect(busyRetryDelayMs(busy, 1)).toBe(1000);
    expect(busyRetryDelayMs({ ...busy, retryAfter: '30' }, 1)).toBe(2000);
    expect(busyRetryDelayMs({ ...busy, retryAfter: null }, 2)).toBe(1000);
    expect(MAX_BUSY_TRIES).toBe(3);
    expect(busyRetryDelayMs(busy, MAX_BUSY_TRIES)).toBeNull();
  });

  it('never asks again for a write or another refusal', () => {
    expect(busyRetryDelayMs({ ...busy, method: 'POST' }, 1)).toBeNull();
    expect(busyRetryDelayMs({ ...busy, code: 'rate_limited' }, 1)).toBeNull();
    expect(busyRetryDelayMs({ ...busy, status: 503 }, 1)).toBeNull();
  });
});
