import { classifyResponse, parseRetryAfter, PERMANENT_FAILURE_STATUSES } from './classify';

const NOW = Date.parse('2026-11-23T12:00:00Z');

describe('classifyResponse', () => {
  it.each([200, 201, 202, 204, 226, 299])('counts %i as delivered', (status) => {
    expect(classifyResponse(status, undefined, NOW)).toEqual({ kind: 'delivered' });
  });

  it('never retries the statuses Webex Connect lists, redirects included', () => {
    expect([...PERMANENT_FAILURE_STATUSES].sort((a, b) => a - b)).toEqual([
      300, 301, 302, 303, 304, 305, 306, 307, 308, 400, 402, 404, 405, 406, 407, 408, 409, 410, 411, 414, 415, 416, 418, 505,
    ]);
    for (const status of PERMANENT_FAILURE_STATUSES) expect(classifyResponse(status, undefined, NOW).kind).toBe('permanent');
  });

  it.each([401, 403, 412, 413, 429, 500, 502, 503, 504, 599])('retries %i', (status) => {
    expect(classifyResponse(status, undefined, NOW).kind).toBe('retry');
  });

  it('reads Retry-After on 429 and 503 only', () => {
    expect(classifyResponse(429, '7', NOW)).toEqual({ kind: 'retry', retryAfterMs: 7000 });
    expect(classifyResponse(503, '7', NOW)).toEqual({ kind: 'retry', retryAfterMs: 7000 });
    expect(classifyResponse(500, '7', NOW)).toEqual({ kind: 'retry' });
  });
});

describe('parseRetryAfter', () => {
  it('takes delay-seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 12:00:30 GMT', NOW)).toBe(30_000);
  });
  it('caps at one hour and ignores nonsense', () => {
    expect(parseRetryAfter('86400', NOW)).toBe(3_600_000);
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter('Mon, 23 Nov 2026 11:00:00 GMT', NOW)).toBe(0);
  });
});
