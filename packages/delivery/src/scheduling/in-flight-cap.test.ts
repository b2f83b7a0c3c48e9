import { InFlightCap, type InFlightCapOptions } from './in-flight-cap';

/** A cap and the sleepers it woke, in order, one list per wake. */
const cap = (limit: number, options: Partial<InFlightCapOptions> = {}) => {
  const woken: string[][] = [];
  return { c: new InFlightCap({ limit, wake: (s) => woken.push(s), ...options }), woken };
};

/** Runs `test` on jest's fake timers, the real ones back after it. */
const onFakeTimers = (test: () => void) => () => {
  jest.useFakeTimers();
  try {
    test();
  } finally {
    jest.useRealTimers();
  }
};

describe('InFlightCap with weights (payload bytes per subscriber)', () => {
  it('takes weights up to the limit, then none until enough is released', () => {
    const { c } = cap(100);
    const a = c.tryTake('sub', 60);
    expect(a).not.toBeNull();
    expect(c.tryTake('sub', 41)).toBeNull();
    const b = c.tryTake('sub', 40);
    expect(b).not.toBeNull();
    expect(c.inFlight('sub')).toBe(100);
    expect(c.tryTake('other', 100)).not.toBeNull();
    a!();
    a!();
    expect(c.inFlight('sub')).toBe(40);
    expect(c.tryTake('sub', 61)).toBeNull();
    expect(c.tryTake('sub', 60)).not.toBeNull();
  });

  it('always takes when the key has nothing in flight, even a weight over the limit', () => {
    const { c } = cap(100);
    const big = c.tryTake('sub', 5000);
    expect(big).not.toBeNull();
    expect(c.tryTake('sub', 1)).toBeNull();
    big!();
    expect(c.inFlight('sub')).toBe(0);
    expect(c.tryTake('sub', 5000)).not.toBeNull();
  });

  it('wakes a sleeper parked with a weight at once when that weight fits again by the time it is parked', () => {
    const { c, woken } = cap(100);
    const held = c.tryTake('sub', 90)!;
    c.parked('sub', 'e|sub|big', 20);
    expect(woken).toEqual([]);
    c.parked('sub', 'e|sub|small', 10);
    expect(woken).toEqual([['e|sub|small']]);
    held();
    expect(woken).toEqual([['e|sub|small'], ['e|sub|big']]);
  });
});

describe('InFlightCap: sleepers left when nothing is in flight', () => {
  /** A cap of `slots` per key with a 20 ms idle wake, and every key woken so far, in order. */
  const idleCap = (slots: number) => {
    const { c, woken } = cap(slots, { idleWakeMs: 20 });
    return { c, woken: () => woken.flat() };
  };

  it(
    'wakes every sleeper left once nothing of the key has been taken for idleWakeMs, as no release of this worker will',
    onFakeTimers(() => {
      const { c, woken } = idleCap(2);
      const a = c.tryTake('addr')!;
      const b = c.tryTake('addr')!;
      for (const s of ['e|s|1', 'e|s|2', 'e|s|3', 'e|s|4']) c.parked('addr', s);
      a();
      b();
      // One per release; the endpoints woken went to another worker, so nothing is taken here again.
      expect(woken()).toEqual(['e|s|1', 'e|s|2']);
      jest.advanceTimersByTime(19);
      expect(woken()).toEqual(['e|s|1', 'e|s|2']);
      jest.advanceTimersByTime(1);
      expect(woken()).toEqual(['e|s|1', 'e|s|2', 'e|s|3', 'e|s|4']);
    }),
  );

  it(
    'starts the idle wait over from the last release that left nothing in flight, not the first',
    onFakeTimers(() => {
      const { c, woken } = idleCap(1);
      const a = c.tryTake('addr')!;
      for (const s of ['e|s|1', 'e|s|2', 'e|s|3']) c.parked('addr', s);
      a();
      jest.advanceTimersByTime(10);
      // The woken endpoint comes back and its attempt ends: one more is woken, by turn, and the wait
      // for the rest starts over.
      c.tryTake('addr')!();
      jest.advanceTimersByTime(19);
      expect(woken()).toEqual(['e|s|1', 'e|s|2']);
      jest.advanceTimersByTime(1);
      expect(woken()).toEqual(['e|s|1', 'e|s|2', 'e|s|3']);
    }),
  );

  it(
    'leaves them to their turns when something is taken again within idleWakeMs',
    onFakeTimers(() => {
      const { c, woken } = idleCap(1);
      const a = c.tryTake('addr')!;
      c.parked('addr', 'e|s|1');
      c.parked('addr', 'e|s|2');
      a();
      expect(woken()).toEqual(['e|s|1']);
      // The woken endpoint comes back for the slot in time: the other keeps waiting for its release.
      const back = c.tryTake('addr')!;
      jest.advanceTimersByTime(100);
      expect(woken()).toEqual(['e|s|1']);
      back();
      expect(woken()).toEqual(['e|s|1', 'e|s|2']);
    }),
  );
});

describe('InFlightCap: shares by group', () => {
  it('holds a group to an equal share while another has some in flight or parked within contendMs', () => {
    let now = 0;
    const { c, woken } = cap(4, { groupOf: (sleeper) => sleeper.split('|')[1] as string, contendMs: 1000, now: () => now });
    const a = [1, 2, 3].map(() => c.tryTake('addr', 1, 'a')!);
    const b = c.tryTake('addr', 1, 'b')!;
    a[0]!();
    // b has one in flight: a's share is 2 of 4, and it holds 2.
    expect(c.tryTake('addr', 1, 'a')).toBeNull();
    b();
    // b has nothing in flight and never parked: a may have the key to itself.
    expect(c.tryTake('addr', 1, 'a')).not.toBeNull();
    expect(c.tryTake('addr', 1, 'a')).not.toBeNull();
    expect(c.inFlight('addr')).toBe(4);
    // b finds it full and parks; the next slot a frees wakes b, and a may not take it back.
    expect(c.tryTake('addr', 1, 'b')).toBeNull();
    c.parked('addr', 'e|b|1');
    a[1]!();
    expect(woken).toEqual([['e|b|1']]);
    now = 999;
    expect(c.tryTake('addr', 1, 'a')).toBeNull();
    // b did not come back within contendMs: it no longer counts.
    now = 1000.5;
    expect(c.tryTake('addr', 1, 'a')).not.toBeNull();
  });

  it('wakes the next sleeper whose group may take, passing over one over its share', () => {
    const { c, woken } = cap(4, { groupOf: (sleeper) => sleeper.split('|')[1] as string });
    [1, 2, 3].forEach(() => c.tryTake('addr', 1, 'a'));
    const b = c.tryTake('addr', 1, 'b')!;
    c.parked('addr', 'e|a|9');
    c.parked('addr', 'e|b|1');
    b();
    // a holds 3 of 4 while b wants the key: waking a's endpoint first would only park it again.
    expect(woken).toEqual([['e|b|1']]);
  });

  it(
    'wakes a sleeper held back by its share, with room left, once the group it yielded to stopped wanting the key',
    onFakeTimers(() => {
      const { c, woken } = cap(4, { groupOf: (sleeper) => sleeper.split('|')[1] as string, contendMs: 1000 });
      const a = [1, 2, 3, 4].map(() => c.tryTake('addr', 1, 'a')!);
      c.parked('addr', 'e|b|1');
      a[0]!();
      expect(woken).toEqual([['e|b|1']]);
      // b's endpoint went to another worker and never takes here; a's next is held to its share.
      expect(c.tryTake('addr', 1, 'a')).toBeNull();
      c.parked('addr', 'e|a|5');
      expect(woken).toEqual([['e|b|1']]);
      // No release comes (a's three stay in flight), yet once b's wake is older than contendMs a's wakes.
      jest.advanceTimersByTime(1000);
      expect(woken).toEqual([['e|b|1']]);
      jest.advanceTimersByTime(1);
      expect(woken).toEqual([['e|b|1'], ['e|a|5']]);
      expect(c.tryTake('addr', 1, 'a')).not.toBeNull();
    }),
  );

  it('keeps a group wanting the key while its woken endpoints come back, though one of them took and ended', () => {
    const { c, woken } = cap(4, { groupOf: (sleeper) => sleeper.split('|')[1] as string });
    const a = [1, 2, 3, 4].map(() => c.tryTake('addr', 1, 'a')!);
    c.parked('addr', 'e|b|E');
    c.parked('addr', 'e|b|F');
    a[0]!();
    expect(woken).toEqual([['e|b|E']]);
    expect(c.tryTake('addr', 1, 'a')).toBeNull();
    // E takes and ends at once; its release wakes F, still on its way: a may not take F's slot.
    c.tryTake('addr', 1, 'b')!();
    expect(woken).toEqual([['e|b|E'], ['e|b|F']]);
    expect(c.tryTake('addr', 1, 'a')).toBeNull();
    expect(c.tryTake('addr', 1, 'b')).not.toBeNull();
  });

  it(
    'looks again within contendMs at sleepers left behind a release that woke another group',
    onFakeTimers(() => {
      const { c, woken } = cap(2, { groupOf: (sleeper) => sleeper.split('|')[1] as string, contendMs: 1000 });
      const a = [c.tryTake('addr', 1, 'a')!, c.tryTake('addr', 1, 'a')!];
      c.parked('addr', 'e|a|5');
      c.parked('addr', 'e|b|1');
      // a holds its share of 1 beside b: the release wakes b, which another worker serves.
      a[0]!();
      expect(woken).toEqual([['e|b|1']]);
      jest.advanceTimersByTime(1001);
      expect(woken).toEqual([['e|b|1'], ['e|a|5']]);
      expect(c.tryTake('addr', 1, 'a')).not.toBeNull();
    }),
  );

  it(
    'wakes no more of a group at once than its share has room for',
    onFakeTimers(() => {
      const { c, woken } = cap(25, { groupOf: (sleeper) => sleeper.split('|')[1] as string, contendMs: 1000 });
      const a = Array.from({ length: 13 }, () => c.tryTake('addr', 1, 'a')!);
      c.tryTake('addr', 1, 'b');
      // a is at its share of 13 beside b; its next endpoints park for that alone, with room left.
      for (let i = 0; i < 20; i++) c.parked('addr', `e|a|${i}`);
      expect(woken).toEqual([]);
      a[0]!();
      // One slot of a's share freed: one of a's endpoints is woken, not twelve.
      expect(woken.flat()).toEqual(['e|a|0']);
      // A contendMs later, the one woken has not come back for its slot: one more may be (a second
      // chance at the share's slot), not the rest.
      jest.advanceTimersByTime(1001);
      expect(woken.flat()).toEqual(['e|a|0', 'e|a|1']);
    }),
  );

  it('leaves takes that name no group to the limit alone', () => {
    const { c } = cap(2);
    expect(c.tryTake('k', 1, 'a')).not.toBeNull();
    c.parked('k', 'other');
    expect(c.tryTake('k')).not.toBeNull();
    expect(c.tryTake('k')).toBeNull();
  });
});
