import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPython } from '@hookrelay/testing/src/python/run-python';
import { pythonJsonDumps, pythonJsonDumpsOfJson } from './python-json';
import { ZENDUTY_SAMPLE_JSON, ZENDUTY_UNICODE_JSON } from './zenduty-sample.fixture';

// For each case: Python re-dumps our text (must be a no-op, the property Zenduty receivers rely on) and checks
// that our text still means the value the source JSON meant (we must not change the payload, only its form).
// Numbers are compared as doubles: JSON.stringify writes 2**64 as 18446744073709552000, which Python would
// otherwise read as a different int than our exact 18446744073709551616, though both are the same JS number.
const CHECK = `
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    cases = json.load(f)
out = []
for case in cases:
    ours = case["ours"]
    out.append({"redumped": json.dumps(json.loads(ours)), "same_value": json.loads(ours, parse_int=float) == json.loads(case["source"], parse_int=float)})
print(json.dumps(out))
`;

// Any UTF-16 code unit sequence: ASCII controls, BMP, astral and lone surrogates, all of which json.loads accepts.
const anyUnit = fc.oneof(
  fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
);
const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true });

function fixedValues(): unknown[] {
  const powers = Array.from({ length: 40 }, (_, i) => [1.5 * 10 ** -i, -(10 ** -i), 3 ** (i - 20)]).flat();
  return [
    JSON.parse(ZENDUTY_SAMPLE_JSON),
    JSON.parse(ZENDUTY_UNICODE_JSON),
    'é 😀 \u0000\u007f\u2028 \ud800 / \\ "',
    { '10': 1, b: [], '2': {}, a: [[], {}] },
    ...powers,
    1e21,
    1e300,
    -0,
    5e-324,
    // From 1e-6 to 1e-4 JS writes no exponent (0.0000123) and Python one (1.23e-05), edited in place.
    0.000001,
    0.0000012345678901234,
    -0.0000987654321,
    [1e-7, -1.5e-7, 0.00001, -0.00005, 9.99e-7, 1e-100, 10.00001],
    2 ** 53,
    2 ** 53 + 2,
    0.1 + 0.2,
    1 / 3,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
  ];
}

describe('pythonJsonDumps against real python3 json', () => {
  it('is a fixed point of json.dumps(json.loads(...)) and keeps the value, for fixed and random values', () => {
    const seed = 20_240_601;
    const values: unknown[] = [
      ...fixedValues(),
      ...fc.sample(fc.jsonValue({ stringUnit: anyUnit, maxDepth: 4 }), { seed, numRuns: 300 }),
      ...fc.sample(finiteDouble, { seed, numRuns: 300 }),
    ];
    const cases = values.map((value) => ({ source: JSON.stringify(value), ours: pythonJsonDumps(value) }));
    // The worker's path (zendutyBody) starts from the stored payload's text: it must write the same.
    expect(cases.filter((c) => pythonJsonDumpsOfJson(c.source) !== c.ours)).toEqual([]);

    const dir = mkdtempSync(join(tmpdir(), 'hookrelay-pyjson-'));
    let stdout: string;
    try {
      const file = join(dir, 'cases.json');
      writeFileSync(file, JSON.stringify(cases), 'utf8');
      stdout = runPython(CHECK, [file]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const results = JSON.parse(stdout) as Array<{ redumped: string; same_value: boolean }>;
    expect(results).toHaveLength(cases.length);
    // Report the failing cases themselves rather than a 600-element diff.
    const mismatches = cases
      .map((c, i) => ({ ...c, python: results[i]?.redumped, sameValue: results[i]?.same_value }))
      .filter((c) => c.python !== c.ours || c.sameValue !== true);
    expect(mismatches).toEqual([]);
  });
});
