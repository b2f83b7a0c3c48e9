import { waitUntil } from '@hookrelay/testing';
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

describe('InFlightCap: a slot freed to wake a sleeper is kept for its group', () => {
  it("lets no other group take the freed slot until the woken one comes, or the keep runs out; the woken group's take has it", () => {
    const now = 1_000;
    const woken: string[] = [];
    const c = new InFlightCap({
      limit: 2,
      wake: (s) => woken.push(...s),
      groupOf: (s) => s.split('|')[1]!,
      keepForWokenMs: 500,
      now: () => now,
    });
    const a1 = c.tryTake('addr', 1, 'A')!;
    c.tryTake('addr', 1, 'A');
    expect(c.tryTake('addr', 1, 'B')).toBeNull();
    c.parked('addr', 'e|B|f');
    a1();
    expect(woken).toEqual(['e|B|f']);
    // A's delivery already in the worker does not take the slot B's woken endpoint was woken for...
    expect(c.tryTake('addr', 1, 'A')).toBeNull();
    expect(c.tryTake('addr', 1, 'C')).toBeNull();
    // ...B's does, once.
    expect(c.tryTake('addr', 1, 'B')).not.toBeNull();
    expect(c.tryTake('addr', 1, 'B')).toBeNull();
    expect(c.inFlight('addr')).toBe(2);
  });

  it('gives the slot to anyone once the keep has run out', () => {
    let now = 1_000;
    const c = new InFlightCap({ limit: 1, wake: () => undefined, groupOf: (s) => s.split('|')[1]!, keepForWokenMs: 500, now: () => now });
    const a = c.tryTake('addr', 1, 'A')!;
    c.parked('addr', 'e|B|f');
    a();
    expect(c.tryTake('addr', 1, 'A')).toBeNull();
    now += 500;
    expect(c.tryTake('addr', 1, 'A')).not.toBeNull();
  });
});

describe('InFlightCap: a kept slot nobody came for', () => {
  const groupOf = (s: string) => s.split('|')[1]!;

  it('wakes the next sleeper when it runs out, as a release would', async () => {
    const woken: string[] = [];
    const c = new InFlightCap({ limit: 1, wake: (s) => woken.push(...s), groupOf, keepForWokenMs: 20 });
    const a = c.tryTake('addr', 1, 'A')!;
    c.parked('addr', 'e|B|f');
    c.parked('addr', 'e|C|g');
    a();
    expect(woken).toEqual(['e|B|f']);
    // B's deliveries went to another worker: C is woken when the slot kept for B runs out.
    await waitUntil(() => woken.length === 2, 'the next sleeper to be woken');
    expect(woken).toEqual(['e|B|f', 'e|C|g']);
    expect(c.tryTake('addr', 1, 'A')).toBeNull();
    expect(c.tryTake('addr', 1, 'C')).not.toBeNull();
  });

  it('wakes a sleeper parked behind it with nothing in flight once it runs out', async () => {
    const woken: string[] = [];
    const c = new InFlightCap({ limit: 1, wake: (s) => woken.push(...s), groupOf, keepForWokenMs: 20 });
    const a = c.tryTake('addr', 1, 'A')!;
    c.parked('addr', 'e|B|f');
    a();
    expect(woken).toEqual(['e|B|f']);
    // Nothing in flight, the one slot kept for B: C's endpoint parks (no release will come) and is
    // woken when the keep ends.
    c.parked('addr', 'e|C|g');
    expect(woken).toEqual(['e|B|f']);
    await waitUntil(() => woken.length === 2, 'the parked sleeper to be woken');
    expect(woken[1]).toBe('e|C|g');
  });
});
