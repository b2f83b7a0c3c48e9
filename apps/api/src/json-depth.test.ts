import { MAX_BODY_DEPTH, MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth';

describe('nestsDeeperThan', () => {
  it.each<[unknown, number]>([
    [1, 0],
    ['text', 0],
    [null, 0],
    [{}, 1],
    [[], 1],
    [{ a: [1, { b: null }] }, 3],
    [[[], [[[]]], {}], 4],
  ])('counts %j as %i levels', (value, depth) => {
    expect(nestsDeeperThan(value, depth)).toBe(false);
    if (depth > 0) expect(nestsDeeperThan(value, depth - 1)).toBe(true);
  });

  it('judges 500,000 levels without overflowing the stack', () => {
    const deep = JSON.parse(`${'['.repeat(500_000)}${']'.repeat(500_000)}`) as unknown;
    expect(nestsDeeperThan(deep, MAX_JSON_DEPTH)).toBe(true);
  });

  it('finds one deep branch among many shallow ones', () => {
    const wide = Array.from({ length: 10_000 }, (_, i) => (i === 9_999 ? JSON.parse(`${'['.repeat(70)}${']'.repeat(70)}`) : { a: i }));
    expect(nestsDeeperThan(wide, MAX_JSON_DEPTH)).toBe(true);
    expect(nestsDeeperThan(wide.slice(0, -1), MAX_JSON_DEPTH)).toBe(false);
  });

  it('has the documented limits', () => {
    expect([MAX_JSON_DEPTH, MAX_BODY_DEPTH]).toEqual([64, 128]);
  });
});
