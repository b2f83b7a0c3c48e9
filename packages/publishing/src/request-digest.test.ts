import { canonicalJson, requestDigest } from './request-digest';

describe('requestDigest', () => {
  const value = {
    type: 'order.paid',
    payload: { b: [1, 'two', null, true, { y: 2, x: [3.5, -0, 1e21] }], a: { '10': 'ten', '9': 'nine', é: '😀' }, c: [] },
  };

  it('is the digest idempotency keys were stored with before, for the same request', () => {
    // Computed by the implementation before arrays of scalars went to JSON.stringify whole: a key
    // stored then must still match its request's repeat after an upgrade.
    expect(requestDigest(value)).toBe('ymmxtU26XXb-EO_HzFCWMJwN7qOE6lnuprl1193voTA');
  });

  it('ignores key order, at every depth, and tells another payload apart', () => {
    const reordered = {
      type: 'order.paid',
      payload: { c: [], a: { é: '😀', '9': 'nine', '10': 'ten' }, b: [1, 'two', null, true, { x: [3.5, -0, 1e21], y: 2 }] },
    };
    expect(requestDigest(reordered)).toBe(requestDigest(value));
    expect(requestDigest({ ...value, payload: { ...value.payload, c: [0] } })).not.toBe(requestDigest(value));
    expect(requestDigest({ ...value, type: 'order.refunded' })).not.toBe(requestDigest(value));
  });
});

/**
 * The canonical text as it was first written, one value at a time (digests stored under
 * idempotency keys were computed from it): what canonicalJson must still write, whatever path it
 * takes to write it faster.
 */
function writtenOneValueAtATime(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(writtenOneValueAtATime).join(',')}]`;
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const pairs = Object.keys(record)
      .sort()
      .filter((k) => record[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${writtenOneValueAtATime(record[k])}`);
    return `{${pairs.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A small deterministic generator (mulberry32), so a failure names its seed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = [
  'a',
  'b',
  'B',
  'z',
  '0',
  '1',
  '2',
  '10',
  '9',
  '01',
  '-1',
  '1.5',
  '4294967295',
  '__proto__',
  'é',
  '😀',
  'a"b',
  '',
  ' ',
  'toJSON',
];

function jsonValue(next: () => number, depth: number): unknown {
  const pick = next();
  if (depth <= 0 || pick < 0.3) {
    const scalars = [null, true, false, 0, -0, 1.5, 1e21, -7, 'x', '', 'é😀', '"\\\n'];
    return scalars[Math.floor(next() * scalars.length)];
  }
  if (pick < 0.55) return Array.from({ length: Math.floor(next() * 5) }, () => jsonValue(next, depth - 1));
  // Now and then an object of over 256 keys (scalars), which is written out key by key.
  const wide = next() < 0.05;
  const count = wide ? 300 : Math.floor(next() * 6);
  const entries: Array<[string, unknown]> = [];
  for (let i = 0; i < count; i++) {
    const key = wide ? `k${Math.floor(next() * 1000)}` : KEYS[Math.floor(next() * KEYS.length)]!;
    entries.push([key, jsonValue(next, wide ? 0 : depth - 1)]);
  }
  // Through JSON text, as a request's payload arrives: `__proto__` is an own key, as JSON.parse makes it.
  return JSON.parse(`{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
}

describe('canonicalJson', () => {
  it('writes what the one-value-at-a-time text wrote, for 2,000 generated payloads', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const value = jsonValue(random(seed), 5);
      const expected = writtenOneValueAtATime(value);
      if (canonicalJson(value) !== expected) throw new Error(`seed ${seed}: ${canonicalJson(value)} !== ${expected}`);
    }
  });

  it('sorts index-like keys as strings and keeps `__proto__` as a key, at any depth', () => {
    const value = JSON.parse('[{"x":{"10":1,"9":2,"__proto__":{"b":1,"a":2}}},{"b":[{"2":0,"10":0}],"a":1}]');
    expect(canonicalJson(value)).toBe('[{"x":{"10":1,"9":2,"__proto__":{"a":2,"b":1}}},{"a":1,"b":[{"10":0,"2":0}]}]');
    // The copy made to sort an object keeps `__proto__` as its own key, not as its prototype.
    expect(canonicalJson(JSON.parse('{"b":1,"__proto__":{"y":1,"x":0}}'))).toBe('{"__proto__":{"x":0,"y":1},"b":1}');
  });

  it('leaves the payload it was given as it was', () => {
    const text = '{"b":{"d":1,"c":[{"f":1,"e":2}]},"a":{"10":1,"9":0}}';
    const value = JSON.parse(text);
    canonicalJson(value);
    expect(JSON.stringify(value)).toBe(JSON.stringify(JSON.parse(text)));
    expect(value).toEqual(JSON.parse(text));
  });
});
