import { chartWindow, HOUR_MS, hourlyBuckets } from './hourly-buckets';

const NOW = Date.UTC(2026, 10, 23, 14, 30); // 14:30 UTC

describe('hourlyBuckets', () => {
  it('covers 24 whole hours ending with the current one', () => {
    const { buckets } = hourlyBuckets([], NOW);
    expect(buckets).toHaveLength(24);
    expect(buckets[23]!.start).toBe(Date.UTC(2026, 10, 23, 14));
    expect(buckets[0]!.start).toBe(Date.UTC(2026, 10, 22, 15));
    expect(chartWindow(NOW).since).toBe(buckets[0]!.start);
  });

  it('counts delivered as successes and failed or retrying as failures, in the hour each was created', () => {
    const at = (h: number, m = 0) => Date.UTC(2026, 10, 23, h, m);
    const stats = hourlyBuckets(
      [
        { createdAt: at(14, 10), state: 'delivered' },
        { createdAt: at(14, 29), state: 'failed' },
        { createdAt: at(3, 5), state: 'retrying' },
        { createdAt: at(3, 59), state: 'failed' },
        { createdAt: at(13, 0), state: 'pending' },
      ],
      NOW,
    );
    expect(stats.buckets[23]).toMatchObject({ delivered: 1, failed: 1, pending: 0 });
    expect(stats.buckets[12]).toMatchObject({ start: at(3), delivered: 0, failed: 2 });
    expect(stats.buckets[22]).toMatchObject({ pending: 1 });
    expect(stats).toMatchObject({ delivered: 1, failed: 3, pending: 1 });
    expect(stats.worst?.start).toBe(at(3));
  });

  it('leaves out deliveries older than the window or from the future', () => {
    const stats = hourlyBuckets(
      [
        { createdAt: chartWindow(NOW).since - 1, state: 'failed' },
        { createdAt: NOW + 2 * HOUR_MS, state: 'failed' },
      ],
      NOW,
    );
    expect(stats.failed).toBe(0);
    expect(stats.worst).toBeNull();
  });
});
