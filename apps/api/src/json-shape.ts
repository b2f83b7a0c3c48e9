import { randomBytes } from 'node:crypto';

/**
 * How many distinct object keys one JSON body may use. JSON.parse's cost grows with the keys it has
 * not seen before far more than with bytes (each is a new string to intern and a new hidden class
 * to build): 1 MB of 90,000 distinct keys took 45-95 ms to parse and one of 80,000 objects with a
 * key each 121-130 ms, against ~1.5 ms for a 1 MB string and 14-24 ms for 100,000 objects sharing
 * one key (measured here, node 20). At 10,000 the worst body parses in about a tenth of that, and
 * records of any number share their keys.
 */
export const MAX_BODY_KEYS = 10_000;

/**
 * How many objects and arrays one JSON body may hold. Each is an allocation JSON.parse makes (and
 * JSON.stringify walks again when the payload is stored): 1 MB of `{},` (340,000 objects) took
 * 62-92 ms to parse and 20 ms to serialise here, against 8 ms for 50,000 records of a key each.
 */
export const MAX_BODY_CONTAINERS = 50_000;

export interface JsonShapeLimits {
  maxDepth: number;
  /** @defaultValue MAX_BODY_KEYS */
  maxKeys?: number;
  /** @defaultValue MAX_BODY_CONTAINERS */
  maxContainers?: number;
}

export type JsonShape = { depth: number } | { refused: 'too_deep' | 'too_many_keys' | 'too_many_containers' };

/** What a body refused for its keys or its containers is, for its 400 ("request body is ..."). */
export function sizeRefusal(refused: 'too_many_keys' | 'too_many_containers'): string {
  return refused === 'too_many_keys'
    ? `using more than ${MAX_BODY_KEYS.toLocaleString('en-US')} distinct object keys`
    : `holding more than ${MAX_BODY_CONTAINERS.toLocaleString('en-US')} objects and arrays`;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const FNV_PRIME = 0x01000193;
const MURMUR_M = 0x5bd1e995;
/**
 * Keys are told apart by two 32-bit hashes of their bytes, each from a random start made once per
 * process: with a fixed start (plain FNV-1a), colliding keys are found in seconds and chained by a
 * common suffix, so a body of any number of distinct keys could be built to count as a few.
 */
const SEEDS = randomBytes(8);
const SEED_A = SEEDS.readUInt32LE(0);
const SEED_B = SEEDS.readUInt32LE(4);

/**
 * The nesting depth of the JSON text in `bytes` (`{"a":[1]}` is 2) and whether it uses more than
 * `maxKeys` distinct object keys or holds more than `maxContainers` objects and arrays, found in
 * one pass over the bytes before anything parses them, so
 * a body that would be refused for its shape costs its length in a loop (~1-2 ms a MB), not a
 * parse: 1 MB of `[` nested 500,000 deep took JSON.parse 90-175 ms before the depth check after it
 * refused it. Stops at the first level, key or container past its limit. For valid JSON the
 * depth is the parsed value's; invalid JSON gets some answer and then fails to parse. Keys are told
 * apart by their bytes (hashed: a collision only lets a body through), so a key spelled with an
 * escape (`"\u0061"`) counts apart from its plain spelling (`"a"`).
 */
export function jsonShapeOf(bytes: Uint8Array, limits: JsonShapeLimits): JsonShape {
  const { maxDepth, maxKeys = MAX_BODY_KEYS, maxContainers = MAX_BODY_CONTAINERS } = limits;
  // inObject[d]: whether the container at depth d is an object (keys follow `{` and its commas).
  const inObject = new Uint8Array(maxDepth + 1);
  const keys = new Set<number>();
  let depth = 0;
  let deepest = 0;
  let containers = 0;
  let expectKey = false;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      const isKey = expectKey;
      expectKey = false;
      let a = SEED_A;
      let b = SEED_B;
      for (i++; i < n; i++) {
        let byte = bytes[i] as number;
        if (byte === QUOTE) break;
        if (byte === BACKSLASH && i + 1 < n) {
          // An escape is two bytes of the key (a `\u` escape's hex digits follow as plain bytes).
          if (isKey) {
            a = Math.imul(a ^ byte, FNV_PRIME);
            b = Math.imul(b ^ byte, MURMUR_M);
          }
          byte = bytes[++i] as number;
        }
        if (isKey) {
          a = Math.imul(a ^ byte, FNV_PRIME);
          b = Math.imul(b ^ byte, MURMUR_M);
        }
      }
      if (isKey) {
        // 53 bits of the two: a number, which a Set compares without making a string.
        keys.add((a >>> 0) * 0x200000 + ((b ^ (b >>> 15)) >>> 11));
        if (keys.size > maxKeys) return { refused: 'too_many_keys' };
      }
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth === maxDepth) return { refused: 'too_deep' };
      if (++containers > maxContainers) return { refused: 'too_many_containers' };
      depth++;
      if (depth > deepest) deepest = depth;
      inObject[depth] = c === OPEN_OBJECT ? 1 : 0;
      expectKey = c === OPEN_OBJECT;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth > 0) depth--;
      expectKey = false;
    } else if (c === COMMA) {
      expectKey = inObject[depth] === 1;
    }
  }
  return { depth: deepest };
}
