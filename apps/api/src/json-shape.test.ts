import { depthOf } from './json-depth';
import { jsonShapeOf, MAX_BODY_CONTAINERS, MAX_BODY_KEYS } from './json-shape';

const shape = (text: string, maxDepth = 128, maxKeys?: number, maxContainers?: number) =>
  jsonShapeOf(Buffer.from(text), { maxDepth, maxKeys, maxContainers });

/** A value of random shape: nested objects and arrays, strings full of JSON's own punctuation. */
function randomValue(seed: { n: number }, depth: number): unknown {
  const next = () => (seed.n = (Math.imul(seed.n, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const r = next();
  if (depth > 6 || r < 0.3) return r < 0.1 ? `a"{[\\]}",:${Math.floor(next() * 100)}` : r < 0.2 ? Math.floor(next() * 1000) : null;
  const size = Math.floor(next() * 4);
  if (r < 0.65) return Array.from({ length: size }, () => randomValue(seed, depth + 1));
  return Object.fromEntries(Array.from({ length: size }, (_, i) => [`k{${i}"]`, randomValue(seed, depth + 1)]));
}

describe('jsonShapeOf', () => {
  it('finds the depth JSON.parse would, for values of every shape (brackets, quotes and escapes inside strings not counted)', () => {
    const seed = { n: 7 };
    for (let i = 0; i < 500; i++) {
      const value = randomValue(seed, 0);
      const text = JSON.stringify(value, null, i % 2 === 0 ? undefined : 2);
      expect({ text, shape: shape(text) }).toEqual({ text, shape: { depth: depthOf(JSON.parse(text), 1000) } });
    }
  });

  it('refuses one level past maxDepth and no sooner', () => {
    expect(shape('[[[1]]]', 3)).toEqual({ depth: 3 });
    expect(shape('[[[[1]]]]', 3)).toEqual({ refused: 'too_deep' });
    expect(shape('{"a":{"b":{"c":{}}}}', 3)).toEqual({ refused: 'too_deep' });
    // 1 MB of nesting stops at the first level too many.
    expect(shape('['.repeat(500_000) + ']'.repeat(500_000), 128)).toEqual({ refused: 'too_deep' });
  });

  it('counts distinct object keys at any depth, each once, and never a string value or an array element', () => {
    const keysOf = (text: string, maxKeys: number) => shape(text, 128, maxKeys);
    // a, b, c: "x", "y" and "v" are values.
    const text = '{"a":["x","y"],"b":{"c":"v"},"a":1}';
    expect(keysOf(text, 3)).toEqual({ depth: 2 });
    expect(keysOf(text, 2)).toEqual({ refused: 'too_many_keys' });
    // Records sharing keys: two keys however many records.
    const records = JSON.stringify(Array.from({ length: 5000 }, (_, i) => ({ id: i, name: `n${i}` })));
    expect(keysOf(records, 2)).toEqual({ depth: 2 });
    // An escaped quote inside a key does not end it; keys differing only after it are two.
    expect(keysOf('{"a\\"b":1,"a\\"c":2}', 1)).toEqual({ refused: 'too_many_keys' });
    expect(keysOf('{"a\\"b":1,"a\\"b":2}', 1)).toEqual({ depth: 1 });
    // Two keys plain FNV-1a (32 bits, fixed start) takes for one: the hash is seeded per process.
    expect(keysOf('{"k4uzx":1,"kf2ad":2}', 1)).toEqual({ refused: 'too_many_keys' });
  });

  it(`refuses a body of more than ${MAX_BODY_KEYS} distinct keys by default, however they are spread`, () => {
    const flat = (n: number) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])));
    expect(shape(flat(MAX_BODY_KEYS))).toEqual({ depth: 1 });
    expect(shape(flat(MAX_BODY_KEYS + 1))).toEqual({ refused: 'too_many_keys' });
    const spread = JSON.stringify(Array.from({ length: MAX_BODY_KEYS + 1 }, (_, i) => ({ [`k${i}`]: i })));
    expect(shape(spread)).toEqual({ refused: 'too_many_keys' });
    expect(MAX_BODY_KEYS).toBe(10_000);
  });

  it(`refuses a body of more than ${MAX_BODY_CONTAINERS} objects and arrays by default, counted at any depth`, () => {
    const empties = (n: number, item: string) => `[${Array(n).fill(item).join(',')}]`;
    // The outer array is one of them.
    expect(shape(empties(MAX_BODY_CONTAINERS - 1, '{}'))).toEqual({ depth: 2 });
    expect(shape(empties(MAX_BODY_CONTAINERS, '{}'))).toEqual({ refused: 'too_many_containers' });
    expect(shape(empties(MAX_BODY_CONTAINERS, '[]'))).toEqual({ refused: 'too_many_containers' });
    expect(shape('{"a":[{"b":[]}],"c":{}}', 128, undefined, 5)).toEqual({ depth: 4 });
    expect(shape('{"a":[{"b":[]}],"c":{}}', 128, undefined, 4)).toEqual({ refused: 'too_many_containers' });
    // Brackets inside strings are text.
    expect(shape(JSON.stringify({ a: '{}[]'.repeat(100) }), 128, undefined, 1)).toEqual({ depth: 1 });
    expect(MAX_BODY_CONTAINERS).toBe(50_000);
  });
});
