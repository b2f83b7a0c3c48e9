import { PollLoop } from './poll-loop';

/** A load that ends when the test says so, counting how many run at once. */
function heldLoads() {
  const pending: Array<() => void> = [];
  const seen = { started: 0, running: 0, mostAtOnce: 0 };
  const load = () =>
    new Promise<void>((resolve) => {
      seen.started += 1;
      seen.running += 1;
      seen.mostAtOnce = Math.max(seen.mostAtOnce, seen.running);
      pending.push(() => {
        seen.running -= 1;
        resolve();
      });
    });
  const finishOne = async () => {
    pending.shift()?.();
    // Let the loop's await and finally run.
    await Promise.resolve();
    await Promise.resolve();
    await Promise.resolve();
  };
  return { load, seen, finishOne, pendingCount: () => pending.length };
}

describe('PollLoop', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('loads at once and then intervalMs after each load ends', async () => {
    const loads = heldLoads();
    const loop = new PollLoop({ load: loads.load, intervalMs: 2_000, isHidden: () => false });
    loop.start();
    expect(loads.seen.started).toBe(1);
    jest.advanceTimersByTime(10_000);
    expect(loads.seen.started).toBe(1); // still running: no second load behind it
    await loads.finishOne();
    jest.advanceTimersByTime(1_999);
    expect(loads.seen.started).toBe(1);
    jest.advanceTimersByTime(1);
    expect(loads.seen.started).toBe(2);
    loop.stop();
  });

  describe('when the page is shown again while a load runs', () => {
    it('starts no second load beside it, asks once it ends, and keeps one loop', async () => {
      const loads = heldLoads();
      let hidden = false;
      const loop = new PollLoop({ load: loads.load, intervalMs: 2_000, isHidden: () => hidden });
      loop.start();
      hidden = true;
      hidden = false;
      loop.shown();
      loop.shown();
      expect(loads.seen.started).toBe(1);
      expect(loads.seen.mostAtOnce).toBe(1);

      await loads.finishOne();
      jest.advanceTimersByTime(0);
      expect(loads.seen.started).toBe(2); // the asked-for load, at once

      // From here one load per interval, never two loops.
      for (let i = 0; i < 5; i += 1) {
        await loads.finishOne();
        jest.advanceTimersByTime(2_000);
      }
      expect(loads.seen.started).toBe(7);
      expect(loads.seen.mostAtOnce).toBe(1);
      expect(loads.pendingCount()).toBe(1);
      loop.stop();
    });
  });

  it('asks nothing while hidden and loads at once when shown', async () => {
    const loads = heldLoads();
    let hidden = true;
    const loop = new PollLoop({ load: loads.load, intervalMs: 2_000, isHidden: () => hidden });
    loop.start();
    jest.advanceTimersByTime(10_000);
    expect(loads.seen.started).toBe(0);
    loop.shown(); // a visibilitychange that hid the page asks nothing
    expect(loads.seen.started).toBe(0);

    hidden = false;
    loop.shown();
    expect(loads.seen.started).toBe(1);
    await loads.finishOne();
    jest.advanceTimersByTime(2_000);
    expect(loads.seen.started).toBe(2);
    // The timer the hidden ticks had set was cleared: one loop only.
    await loads.finishOne();
    jest.advanceTimersByTime(2_000);
    expect(loads.seen.started).toBe(3);
    loop.stop();
  });

  it('loads nothing more once stopped, even when a running load ends after', async () => {
    const loads = heldLoads();
    const loop = new PollLoop({ load: loads.load, intervalMs: 2_000, isHidden: () => false });
    loop.start();
    loop.stop();
    await loads.finishOne();
    loop.shown();
    jest.advanceTimersByTime(60_000);
    expect(loads.seen.started).toBe(1);
  });

  it('keeps polling after a load that throws', async () => {
    let calls = 0;
    const loop = new PollLoop({
      load: () => {
        calls += 1;
        return Promise.reject(new Error('network'));
      },
      intervalMs: 1_000,
      isHidden: () => false,
    });
    loop.start();
    await Promise.resolve();
    await Promise.resolve();
    await Promise.resolve();
    jest.advanceTimersByTime(1_000);
    expect(calls).toBe(2);
    loop.stop();
  });
});
