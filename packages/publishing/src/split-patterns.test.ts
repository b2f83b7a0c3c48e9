import { splitPatternsOf } from './split-patterns';

describe('splitPatternsOf', () => {
  it("splits only the arrays it has not seen: a list with one endpoint changed keeps the others' patterns", () => {
    const before = Array.from({ length: 10 }, (_, i) => [`x.${i}.a`, `x.${i}.*`, 'shared.*']);
    const first = splitPatternsOf(before);
    expect(first[3]).toMatchObject({
      everything: false,
      patterns: [{ segments: ['x', '3', 'a'], trailing: false }, { trailing: true }, {}],
    });
    const after = before.map((eventTypes, i) => (i === 3 ? ['x.3.b', 'shared.*', '*'] : eventTypes));
    const second = splitPatternsOf(after);
    for (const i of [0, 1, 2, 4, 9]) expect(second[i]).toBe(first[i]);
    expect(second[3]).toMatchObject({ everything: true, patterns: [{ segments: ['x', '3', 'b'] }, {}] });
    // A text the others hold is theirs: one object, told apart by identity.
    expect(second[3]?.patterns[1]).toBe(first[0]?.patterns[2]);
  });

  it('makes a text held by endpoints first split in different lists one pattern in a list that holds both', () => {
    const a = ['p.q', 'p.*'];
    const b = ['p.*', 'r'];
    const [alone] = splitPatternsOf([a]);
    expect(splitPatternsOf([b])[0]?.patterns[0]).not.toBe(alone?.patterns[1]);
    const [a2, b2] = splitPatternsOf([a, b]);
    expect(b2?.patterns[0]).toBe(a2?.patterns[1]);
  });

  it('splits a list again once the texts kept for it outnumber twice its patterns and 1,000', () => {
    const kept = ['k.a', 'k.b'];
    let split = splitPatternsOf([kept, ['v.0']])[0];
    // One endpoint changes to a new pattern each round: the texts kept grow by one, from 3.
    let round = 1;
    for (; round < 2000; round++) {
      const now = splitPatternsOf([kept, [`v.${round}`]])[0];
      if (now !== split) break;
      split = now;
    }
    // Round 1,005 starts with 3 + 1,004 texts kept, past 2 x 3 + 1,000.
    expect(round).toBe(1005);
  });
});
