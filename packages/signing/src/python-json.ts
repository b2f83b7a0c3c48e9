/**
 * Python's `json.dumps(value)` with default arguments, byte for byte.
 *
 * Why: Zenduty's receiver snippet recomputes X-SIGNATURE over `json.dumps(json.loads(body))`. If the body we
 * send is already in that exact form, re-serialising it is a no-op and the signature over the raw bytes is the
 * signature the snippet computes. Defaults reproduced: separators ', ' and ': ', ensure_ascii=True,
 * key order kept, floats in `repr` form.
 */
export function pythonJsonDumps(value: unknown): string {
  return dump(value, new Set<object>());
}

function dump(value: unknown, ancestors: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return dumpNumber(value);
    case 'string':
      return dumpString(value);
    case 'object':
      break;
    default:
      // undefined, functions, symbols and bigint have no JSON form; json.dumps raises on them too.
      throw new TypeError(`cannot serialise a value of type ${typeof value}`);
  }
  const obj = value;
  // Python raises "Circular reference detected"; without this check we would recurse until the stack overflows.
  if (ancestors.has(obj)) throw new TypeError('cannot serialise a circular structure');
  ancestors.add(obj);
  try {
    if (Array.isArray(obj)) {
      if (obj.length === 0) return '[]';
      return `[${obj.map((item: unknown) => dump(item, ancestors)).join(', ')}]`;
    }
    const proto = Object.getPrototypeOf(obj) as unknown;
    // Only what JSON.parse produces: a Date or Map would otherwise be silently written as {}.
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError('only plain objects and arrays can be serialised');
    }
    const keys = Object.keys(obj);
    if (keys.length === 0) return '{}';
    const record = obj as Record<string, unknown>;
    return `{${keys.map((k) => `${dumpString(k)}: ${dump(record[k], ancestors)}`).join(', ')}}`;
  } finally {
    ancestors.delete(obj);
  }
}

function dumpNumber(n: number): string {
  // Python writes NaN and Infinity as bare words, which are not JSON; refuse them instead.
  if (!Number.isFinite(n)) throw new TypeError(`cannot serialise ${n}`);
  // Integers go out as digits with no exponent (1e21 -> 1000000000000000000000), so Python parses an int and
  // writes the same digits back; a float repr like 1e+21 would also round-trip, but digits are what JS
  // producers of "integer" payload fields mean. BigInt(-0) is 0n, which matches Python's int('-0').
  if (Number.isInteger(n)) return BigInt(n).toString();
  // Python's float repr uses the shortest round-trip digits, as JS does, but switches to exponent form when the
  // decimal exponent is below -4 (JS waits until -7), and pads the exponent to two digits with a sign.
  const [mantissa = '', exponentText = '0'] = n.toExponential().split('e');
  const exponent = Number(exponentText);
  // Non-integers are below 2**53 < 1e16, so the large-exponent branch of repr cannot occur here.
  if (exponent >= -4) return String(n);
  const sign = exponent < 0 ? '-' : '+';
  return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

const SHORT_ESCAPES: Readonly<Record<number, string>> = {
  0x22: '\\"',
  0x5c: '\\\\',
  0x0a: '\\n',
  0x0d: '\\r',
  0x09: '\\t',
  0x08: '\\b',
  0x0c: '\\f',
};

/**
 * ensure_ascii: everything outside printable ASCII (0x20..0x7E) becomes lowercase \uXXXX. JS strings are UTF-16
 * code units, so iterating units yields the surrogate pairs Python writes for astral characters, and lone
 * surrogates (which json.loads accepts) are escaped the same way.
 */
function dumpString(s: string): string {
  let out = '"';
  let runStart = 0;
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    const short = SHORT_ESCAPES[unit];
    if (short === undefined && unit >= 0x20 && unit <= 0x7e) continue;
    // Copy the run of plain characters in one slice: payloads are mostly ASCII.
    out += s.slice(runStart, i) + (short ?? `\\u${unit.toString(16).padStart(4, '0')}`);
    runStart = i + 1;
  }
  return `${out}${s.slice(runStart)}"`;
}
