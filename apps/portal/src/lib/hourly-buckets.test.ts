import { hourlyStats } from './hourly-buckets';

const HOUR_MS = 3_600_000;
const at = (h: number) => Date.UTC(2026, 10, 23, h);

describe('hourlyStats', () => {
  it("keeps the API's hours in order, totals them and names the hour with the most failures", () => {
    const hours = Array.from({ length: 24 }, (_, i) => ({ start: at(0) + i * HOUR_MS, delivered: 0, failed: 0 }));
    hours[3] = { start: at(3), delivered: 2, failed: 7 };
    hours[14] = { start: at(14), delivered: 40, failed: 1 };
    hours[23] = { start: at(23), delivered: 5, failed: 7 };
    const stats = hourlyStats({ hours });
    expect(stats.buckets).toHaveLength(24);
    expect(stats.buckets[14]).toEqual({ start: at(14), delivered: 40, failed: 1 });
    expect(stats).toMatchObject({ delivered: 47, failed: 15 });
    // The first of equal hours: the earliest time things went wrong.
    expect(stats.worst?.start).toBe(at(3));
  });

  it('names no worst hour when nothing failed', () => {
    const stats = hourlyStats({ hours: [{ start: at(1), delivered: 3, failed: 0 }] });
    expect(stats).toMatchObject({ delivered: 3, failed: 0, worst: null });
  });
});
