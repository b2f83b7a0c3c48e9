import { pythonJsonDumps } from './python-json';
import { ZENDUTY_SAMPLE_JSON, ZENDUTY_SAMPLE_PYTHON_DUMPS } from './zenduty-sample.fixture';

// Expected strings below are Python 3.11's json.dumps output for the same values.
describe('pythonJsonDumps', () => {
  it('writes the Zenduty guide sample exactly as Python does', () => {
    expect(pythonJsonDumps(JSON.parse(ZENDUTY_SAMPLE_JSON))).toBe(ZENDUTY_SAMPLE_PYTHON_DUMPS);
  });

  describe('strings (ensure_ascii)', () => {
    it('escapes non-ASCII as lowercase \\uXXXX', () => {
      expect(pythonJsonDumps('café')).toBe('"caf\\u00e9"');
      expect(pythonJsonDumps('Ω')).toBe('"\\u03a9"');
    });

    it('writes astral characters as surrogate pairs', () => {
      expect(pythonJsonDumps('😀')).toBe('"\\ud83d\\ude00"');
    });

    it('escapes lone surrogates, which json.loads accepts', () => {
      expect(pythonJsonDumps('a\ud800b\udfff')).toBe('"a\\ud800b\\udfff"');
    });

    it('uses the short escapes and \\u00XX for other control characters and DEL', () => {
      expect(pythonJsonDumps('\b\f\n\r\t"\\')).toBe('"\\b\\f\\n\\r\\t\\"\\\\"');
      expect(pythonJsonDumps('\u0000\u001f\u007f')).toBe('"\\u0000\\u001f\\u007f"');
    });

    it('leaves printable ASCII, including / and ~, alone', () => {
      expect(pythonJsonDumps(" a/b~<>&'")).toBe('" a/b~<>&\'"');
    });
  });

  describe('numbers', () => {
    it.each([
      [1e-7, '1e-07'],
      [1.5e-7, '1.5e-07'],
      [0.00001, '1e-05'],
      [0.000001, '1e-06'],
      [0.0000012345678901234, '1.2345678901234e-06'],
      [-0.0000987654321, '-9.87654321e-05'],
      [9.99e-7, '9.99e-07'],
      [-2.5e-10, '-2.5e-10'],
      [1e-100, '1e-100'],
      [5e-324, '5e-324'],
      [0.0001, '0.0001'],
      [0.00012, '0.00012'],
      [123.456, '123.456'],
      [0.1, '0.1'],
      [12.5, '12.5'],
      [-0.5, '-0.5'],
    ])('writes the float %p as Python repr %s', (value, expected) => {
      expect(pythonJsonDumps(value)).toBe(expected);
    });

    it.each([
      [60, '60'],
      [-7, '-7'],
      [2 ** 64, '18446744073709551616'],
      [-(2 ** 60), '-1152921504606846976'],
      [999999999999999900000, '999999999999999868928'],
      [-0, '0'],
    ])('writes the integer %p as digits without exponent', (value, expected) => {
      expect(pythonJsonDumps(value)).toBe(expected);
    });

    // Python's repr of these floats, and what Python writes back when it reads them; exact digits would
    // let a payload of 1e308 values grow sixtyfold.
    it.each([
      [1e21, '1e+21'],
      [-1.5e300, '-1.5e+300'],
      [Number.MAX_VALUE, '1.7976931348623157e+308'],
    ])('writes the integer %p from 1e21 in exponent form, as Python writes that float', (value, expected) => {
      expect(pythonJsonDumps(value)).toBe(expected);
    });

    it('writes a float whose text has four zeros after the dot but is not under 1e-4 as it is', () => {
      expect(pythonJsonDumps([10.00001, 0.00001, -0.00005, 0.0001, 0.000099])).toBe('[10.00001, 1e-05, -5e-05, 0.0001, 9.9e-05]');
    });
  });

  describe('containers', () => {
    it("uses Python's default separators and writes empty containers compactly", () => {
      expect(pythonJsonDumps({ a: [], b: {}, c: [{}, []], d: [1, 'x', null, true, false] })).toBe(
        '{"a": [], "b": {}, "c": [{}, []], "d": [1, "x", null, true, false]}',
      );
      expect(pythonJsonDumps([])).toBe('[]');
      expect(pythonJsonDumps({})).toBe('{}');
    });

    it('keeps key order as JS iterates it: integer-like keys first, ascending, then insertion order', () => {
      const parsed = JSON.parse('{"b": 1, "10": 2, "a": 3, "2": 4, "-1": 5, "01": 6}') as unknown;
      expect(pythonJsonDumps(parsed)).toBe('{"2": 4, "10": 2, "b": 1, "a": 3, "-1": 5, "01": 6}');
    });

    it('escapes keys like strings', () => {
      expect(pythonJsonDumps({ 'é"': 1 })).toBe('{"\\u00e9\\"": 1}');
    });

    it('keeps an own __proto__ key from JSON.parse as data', () => {
      expect(pythonJsonDumps(JSON.parse('{"__proto__": {"x": 1}}'))).toBe('{"__proto__": {"x": 1}}');
    });
  });

  describe('values with no JSON form', () => {
    it.each([
      ['undefined', undefined],
      ['a function', () => 1],
      ['a bigint', 1n],
      ['a symbol', Symbol('s')],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['-Infinity', Number.NEGATIVE_INFINITY],
      ['undefined inside an object', { a: undefined }],
      ['a NaN inside an array', [1, Number.NaN]],
      ['a Date', new Date(0)],
      ['a Map', new Map()],
    ])('throws TypeError for %s', (_label, value) => {
      expect(() => pythonJsonDumps(value)).toThrow(TypeError);
    });

    it('throws TypeError for a circular structure but allows a shared, non-circular one', () => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      expect(() => pythonJsonDumps(cyclic)).toThrow(TypeError);
      const shared = { x: 1 };
      expect(pythonJsonDumps([shared, shared])).toBe('[{"x": 1}, {"x": 1}]');
    });
  });
});
