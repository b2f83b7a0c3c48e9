// Test-only: how long validating a 1 MB payload takes with schemas the guard accepts, measured in a
// plain Node process as the API runs it. Under jest, code runs in a vm context whose global lookups
// (`Array.isArray` in Ajv's generated code) are many times slower, so timings there say nothing.
// Prints one JSON line: [{name, accepted, passed, bytes, fastestMs}]. Run by schema-guard.test.ts.
import { RegexChecker } from './regex-check';
import { REPEATED_COST_LIMIT } from './schema-cost';
import { guardSchema } from './schema-guard';

interface TimingCase {
  name: string;
  schema: unknown;
  payload: () => unknown;
}

/** About `bytes` of JSON: copies of `item` in an array, each its own object (as JSON.parse makes them). */
function arrayOf(item: unknown, bytes = 1_000_000): unknown[] {
  const count = Math.floor(bytes / (JSON.stringify(item).length + 1));
  return JSON.parse(JSON.stringify(Array.from({ length: count }, () => item))) as unknown[];
}

const rule = { type: 'object', properties: { a: { type: 'string' } } };

export const TIMING_CASES: TimingCase[] = [
  {
    // The most the cost limit lets apply to each of ~330,000 array items: allOf branches of 2 units.
    name: 'costliest accepted rules on every item',
    schema: { type: 'array', items: { allOf: Array.from({ length: Math.floor((REPEATED_COST_LIMIT - 1) / 2) }, () => rule) } },
    payload: () => arrayOf({}),
  },
  {
    name: 'linear pattern against a 1 MB string built to trip it',
    schema: { type: 'array', items: { type: 'string', pattern: '^([a-z0-9]+(-[a-z0-9]+)*\\.)+[a-z]{2,}$' } },
    payload: () => ['a-'.repeat(500_000) + '!'],
  },
  {
    // The most alternatives the limit lets apply to each item (each anyOf branch 8 units): every
    // value misses the first branch, which costs Ajv an error object.
    name: 'anyOf whose first branch every item misses',
    schema: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'number' }] } },
    payload: () => arrayOf(0),
  },
  {
    // Two formats in an anyOf (11 units each), the first missed by every short string.
    name: 'formats on 1 MB of short strings',
    schema: { type: 'array', items: { anyOf: [{ format: 'date-time' }, { format: 'email' }] } },
    payload: () => arrayOf('a@b.co'),
  },
  {
    name: 'enum of 100 values on every item',
    schema: { type: 'array', items: { enum: Array.from({ length: 100 }, (_, i) => `value-${i}`) } },
    payload: () => arrayOf('value-99'),
  },
  {
    name: 'recursive tree 1 MB deep and wide',
    schema: { type: 'object', properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } } },
    payload: () => ({ name: 'root', children: arrayOf({ name: 'n', children: [{ name: 'm', children: [] }] }) }),
  },
];

async function main(): Promise<void> {
  const regex = new RegexChecker();
  const results = [];
  for (const c of TIMING_CASES) {
    const guarded = await guardSchema(c.schema, regex);
    if (!guarded.ok) {
      results.push({ name: c.name, accepted: false, problems: guarded.problems });
      continue;
    }
    const payload = c.payload();
    const passed = guarded.compiled.check(payload) === null;
    let fastestMs = Infinity;
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      guarded.compiled.check(payload);
      fastestMs = Math.min(fastestMs, performance.now() - started);
    }
    results.push({ name: c.name, accepted: true, passed, bytes: JSON.stringify(payload).length, fastestMs });
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
