import { InFlightCap } from './in-flight-cap';

describe('InFlightCap with weights (payload bytes per subscriber)', () => {
  /** A cap and the sleepers it woke, in order. */
  const cap = (limit: number) => {
    const woken: string[][] = [];
    return { c: new InFlightCap({ limit, wake: (s) => woken.push(s) }), woken };
  };

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
