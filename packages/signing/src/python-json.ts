/**
 * Python's `json.dumps(value)` with default arguments, byte for byte.
 *
 * Why: Zenduty's receiver snippet recomputes X-SIGNATURE over `json.dumps(json.loads(body))`. If the body we
 * send is already in that exact form, re-serialising it is a no-op and the signature over the raw bytes is the
 * signature the snippet computes. Defaults reproduced: separators ', ' and ': ', ensure_ascii=True,
 * key order kept, floats in `repr` form.
 *
 * How: JSON.stringify (native) writes the compact form, and one pass over its text turns that into Python's:
 * a space after each separator, non-ASCII escaped, and the few numbers whose text differs rewritten. Walking
 * the parsed value in JS instead cost ~70-170 ms per MiB; a subscriber's x-signature endpoint makes the
 * shared worker build this text for each new event it sends, on the worker's one event loop.
 */
export function pythonJsonDumps(value: unknown): string {
  assertJsonValue(value, new Set<object>());
  return pythonFromCompactJson(JSON.stringify(value));
}

/** As `pythonJsonDumps(JSON.parse(json))`; throws SyntaxError for text that is not JSON. */
export function pythonJsonDumpsOfJson(json: string): string {
  return pythonFromCompactJson(JSON.stringify(JSON.parse(json)));
}

/**
 * JSON.stringify would write these as something else (NaN as null, a Date as its text, undefined not at all)
 * where json.dumps raises: refuse them rather than sign a body that is not the caller's value.
 */
function assertJsonValue(value: unknown, ancestors: Set<object>): void {
  if (value === null) return;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return;
    case 'number':
      // Python writes NaN and Infinity as bare words, which are not JSON.
      if (!Number.isFinite(value)) throw new TypeError(`cannot serialise ${value}`);
      return;
    case 'object':
      break;
    default:
      // undefined, functions, symbols and bigint have no JSON form; json.dumps raises on them too.
      throw new TypeError(`cannot serialise a value of type ${typeof value}`);
  }
  const obj = value;
  // Python raises "Circular reference detected"; JSON.stringify would too, with another error type.
  if (ancestors.has(obj)) throw new TypeError('cannot serialise a circular structure');
  ancestors.add(obj);
  if (Array.isArray(obj)) {
    for (const item of obj) assertJsonValue(item, ancestors);
  } else {
    const proto = Object.getPrototypeOf(obj) as unknown;
    // Only what JSON.parse produces: a Date or Map would otherwise be silently written as text or {}.
    if (proto !== Object.prototype && proto !== null) throw new TypeError('only plain objects and arrays can be serialised');
    for (const item of Object.values(obj)) assertJsonValue(item, ancestors);
  }
  ancestors.delete(obj);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const SPACE = 0x20;
const MINUS = 0x2d;
const HEX = '0123456789abcdef';

/**
 * Python's text from JSON.stringify's, written as ASCII bytes in one pass over the UTF-16 units (a JS
 * string appended to piece by piece cost as much as the walk it replaces). Outside strings the compact
 * form has no whitespace, so every `,` and `:` there is a separator. Inside strings JSON.stringify
 * already writes `\"`, `\\`, the short escapes, and lowercase `\u00XX` for other control characters and
 * lone surrogates, as Python does; ensure_ascii adds an escape for DEL and every unit above it, one UTF-16
 * unit at a time (so astral characters become the surrogate pairs Python writes). Each unit becomes at
 * most six bytes, and a number's text grows by at most a few characters (below), so the output is
 * bounded by six times the input.
 */
function pythonFromCompactJson(compact: string): string {
  const length = compact.length;
  const out = Buffer.allocUnsafe(length * 6 + 32);
  let o = 0;
  let inString = false;
  let i = 0;
  while (i < length) {
    const unit = compact.charCodeAt(i);
    if (inString) {
      if (unit < 0x7f) {
        out[o++] = unit;
        if (unit === BACKSLASH) {
          // The escaped unit is ASCII (one of "\/bfnrtu): copied as it is.
          out[o++] = compact.charCodeAt(i + 1);
          i += 2;
          continue;
        }
        if (unit === QUOTE) inString = false;
      } else {
        out[o++] = BACKSLASH;
        out[o++] = 0x75; // u
        out[o++] = HEX.charCodeAt(unit >> 12);
        out[o++] = HEX.charCodeAt((unit >> 8) & 15);
        out[o++] = HEX.charCodeAt((unit >> 4) & 15);
        out[o++] = HEX.charCodeAt(unit & 15);
      }
      i += 1;
      continue;
    }
    if (unit === MINUS || (unit >= 0x30 && unit <= 0x39)) {
      const end = numberEnd(compact, i);
      if (keepsNumberText(compact, i, end)) {
        while (i < end) out[o++] = compact.charCodeAt(i++);
      } else {
        o = writePythonNumber(compact, i, end, out, o);
        i = end;
      }
      continue;
    }
    out[o++] = unit;
    if (unit === COMMA || unit === COLON) out[o++] = SPACE;
    else if (unit === QUOTE) inString = true;
    i += 1;
  }
  return out.toString('latin1', 0, o);
}

function numberEnd(text: string, i: number): number {
  let end = i + 1;
  for (; end < text.length; end++) {
    const unit = text.charCodeAt(end);
    // digits, '.', 'e', 'E', '+', '-'
    if (!((unit >= 0x30 && unit <= 0x39) || unit === 0x2e || unit === 0x65 || unit === 0x45 || unit === 0x2b || unit === MINUS)) break;
  }
  return end;
}

/**
 * Whether String(n)'s text is Python's too (see writePythonNumber): no exponent below 1 (`e-`), no four
 * zeros after a dot (a float under 1e-4 written without an exponent), and not an integer long enough to be
 * past 2**53. Checked on the units in place: most of a large payload's numbers take this path.
 */
function keepsNumberText(text: string, start: number, end: number): boolean {
  let dot = -1;
  for (let k = start; k < end; k++) {
    const unit = text.charCodeAt(k);
    if (unit === 0x2e) dot = k;
    else if (unit === 0x65 || unit === 0x45) return text.charCodeAt(k + 1) !== MINUS;
  }
  if (dot < 0) return end - start < 16;
  return !(end - dot > 4 && text.startsWith('0000', dot + 1));
}

/**
 * JSON.stringify writes a number as String(n), which is Python's text except for:
 * - integers between 2**53 and 1e21, which String writes as the shortest digits that round-trip and we
 *   write exactly (2**64 as 18446744073709551616), so Python reads the int a JS producer meant;
 * - floats under 1e-4, where Python's repr switches to an exponent padded to two digits with a sign
 *   (1e-05), where String waits until 1e-7 and does not pad (1e-7).
 * From 1e21 String writes an exponent (1e+21), which is also Python's repr of that float: Python reads a
 * float and writes the same text back, and the text stays as short as the payload's. (Exact digits there
 * would let a payload of `1e308` values grow sixtyfold: 309 digits each.)
 *
 * Writes Python's text of `text.slice(start, end)` into `out` at `o`; returns where it ended. A small
 * float keeps String's digits (the same shortest round-trip digits as Python's repr) and is edited in
 * place, never rebuilt with Number and toExponential: a 1 MiB payload of ~210,000 of them cost the
 * worker's shared event loop ~110 ms that way (an audit's probe), ~30 ms now.
 */
function writePythonNumber(text: string, start: number, end: number, out: Buffer, o: number): number {
  let e = -1;
  for (let k = start; k < end; k++) if (text.charCodeAt(k) === 0x65) e = k;
  if (e >= 0 && text.charCodeAt(e + 1) === MINUS) {
    // d.ddde-N: the exponent padded to two digits.
    for (let k = start; k <= e + 1; k++) out[o++] = text.charCodeAt(k);
    if (end - e - 2 < 2) out[o++] = 0x30;
    for (let k = e + 2; k < end; k++) out[o++] = text.charCodeAt(k);
    return o;
  }
  const sign = text.charCodeAt(start) === MINUS ? 1 : 0;
  if (e < 0 && text.startsWith('0.', start + sign)) {
    // 0.0000ddd, from 1e-6 to 1e-4, which String writes without an exponent: d.dde-0N.
    let first = start + sign + 2;
    while (first < end && text.charCodeAt(first) === 0x30) first++;
    const exponent = first - start - sign - 1;
    if (exponent > 4 && first < end) {
      if (sign) out[o++] = MINUS;
      out[o++] = text.charCodeAt(first);
      if (first + 1 < end) {
        out[o++] = 0x2e;
        for (let k = first + 1; k < end; k++) out[o++] = text.charCodeAt(k);
      }
      out[o++] = 0x65;
      out[o++] = MINUS;
      if (exponent < 10) out[o++] = 0x30;
      for (const digit of String(exponent)) out[o++] = digit.charCodeAt(0);
      return o;
    }
  }
  const python = longIntegerText(text.slice(start, end));
  for (let k = 0; k < python.length; k++) out[o++] = python.charCodeAt(k);
  return o;
}

/** An integer past 2**53 written exactly; any other text as it is. */
function longIntegerText(text: string): string {
  if (text.length >= 16 && !text.includes('e') && !text.includes('.')) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? text : BigInt(n).toString();
  }
  return text;
}
