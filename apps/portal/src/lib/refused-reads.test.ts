import { RefusedReads } from './refused-reads';

describe('RefusedReads', () => {
  const spent = {
    method: 'GET',
    path: '/subscribers/sub_1/deliveries?status=failed',
    status: 429,
    code: 'work_budget_exhausted',
    retryAfter: '7',
  };

  it('holds a read the budget refused back until its Retry-After, and only that read', () => {
    const reads = new RefusedReads<string>();
    reads.note(spent, 'refused', 1_000);
    expect(reads.heldBack('GET', spent.path, 1_000)).toBe('refused');
    expect(reads.heldBack('GET', spent.path, 7_999)).toBe('refused');
    expect(reads.heldBack('GET', spent.path, 8_000)).toBeNull();
    // Asked again once the time has passed; a new refusal holds it again.
    expect(reads.heldBack('GET', spent.path, 8_001)).toBeNull();
    reads.note(spent, 'refused again', 8_001);
    expect(reads.heldBack('GET', spent.path, 15_000)).toBe('refused again');
    // Another read (an unfiltered page is free) is not held.
    reads.note(spent, 'refused', 10_000);
    expect(reads.heldBack('GET', '/subscribers/sub_1/deliveries', 10_000)).toBeNull();
    expect(reads.heldBack('POST', spent.path, 10_000)).toBeNull();
  });

  it('ignores writes and other refusals, holds at most a minute, a second without Retry-After', () => {
    const reads = new RefusedReads<string>();
    reads.note({ ...spent, method: 'POST' }, 'x', 0);
    reads.note({ ...spent, code: 'listings_in_flight' }, 'x', 0);
    reads.note({ ...spent, status: 503 }, 'x', 0);
    expect(reads.heldBack('GET', spent.path, 0)).toBeNull();
    expect(reads.heldBack('POST', spent.path, 0)).toBeNull();

    reads.note({ ...spent, retryAfter: '3600' }, 'long', 0);
    expect(reads.heldBack('GET', spent.path, 59_999)).toBe('long');
    expect(reads.heldBack('GET', spent.path, 60_000)).toBeNull();
    reads.note({ ...spent, retryAfter: null }, 'bare', 0);
    expect(reads.heldBack('GET', spent.path, 999)).toBe('bare');
    expect(reads.heldBack('GET', spent.path, 1_000)).toBeNull();
  });

  it('remembers a bounded number of reads, forgetting the oldest', () => {
    const reads = new RefusedReads<string>(2);
    for (const p of ['/a', '/b', '/c']) reads.note({ ...spent, path: p }, p, 0);
    expect(reads.heldBack('GET', '/a', 1)).toBeNull();
    expect(reads.heldBack('GET', '/b', 1)).toBe('/b');
    expect(reads.heldBack('GET', '/c', 1)).toBe('/c');
  });
});
