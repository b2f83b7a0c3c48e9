import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { RegexChecker } from './regex-check';
import { REPEATED_COST_LIMIT } from './schema-cost';
import { guardSchema, MAX_SCHEMA_BYTES, type GuardResult } from './schema-guard';
import { TIMING_CASES } from './validation-timing';

// What a schema must pass before it is stored (issue 17, "schemas cannot hurt the service"). Each
// refused schema here is one that would otherwise make validating a payload super-linear, hang, or
// reach outside the document; each accepted one is validated against a 1 MB payload in time.

const regex = new RegexChecker();
const guard = (schema: unknown) => guardSchema(schema, regex);

function problemsOf(result: GuardResult): Array<{ path: string; message: string }> {
  if (result.ok) throw new Error('expected the schema to be refused');
  return result.problems;
}

function compiled(result: GuardResult) {
  if (!result.ok) throw new Error(`expected the schema to be accepted: ${JSON.stringify(result.problems)}`);
  return result.compiled;
}

/** A payload of about `bytes` bytes of JSON: an array of copies of `item`. */
function payloadOf(item: unknown, bytes = 1_000_000): unknown[] {
  const each = JSON.stringify(item).length + 1;
  return JSON.parse(JSON.stringify(Array.from({ length: Math.floor(bytes / each) }, () => item))) as unknown[];
}

const twentyProperties = {
  type: 'object',
  required: ['orderId', 'amount', 'paidAt'],
  additionalProperties: false,
  properties: {
    orderId: { type: 'string', pattern: '^ord_[0-9a-z]{5,20}$' },
    amount: {
      type: 'object',
      required: ['value', 'currency'],
      properties: { value: { type: 'integer', minimum: 0 }, currency: { enum: ['EUR', 'USD', 'GBP'] } },
    },
    paidAt: { type: 'string', format: 'date-time' },
    customerEmail: { type: 'string', format: 'email' },
    customerId: { type: 'string', maxLength: 64 },
    note: { type: 'string', maxLength: 1000 },
    lines: { type: 'array', maxItems: 1000, items: { $ref: '#/$defs/line' } },
    tags: { type: 'array', uniqueItems: true, items: { type: 'string' } },
    channel: { enum: ['web', 'app', 'pos'] },
    coupon: { type: ['string', 'null'] },
    shippingAddress: { $ref: '#/$defs/address' },
    billingAddress: { $ref: '#/$defs/address' },
    refunded: { type: 'boolean' },
    attempt: { type: 'integer', minimum: 1 },
    gateway: { type: 'string' },
    gatewayRef: { type: 'string', format: 'uuid' },
    createdBy: { type: 'string' },
    site: { type: 'string', format: 'uri' },
    ip: { type: 'string', format: 'ipv4' },
    meta: { type: 'object', additionalProperties: { type: 'string' } },
  },
  $defs: {
    line: { type: 'object', required: ['sku', 'qty'], properties: { sku: { type: 'string' }, qty: { type: 'integer', minimum: 1 } } },
    address: {
      type: 'object',
      properties: { line1: { type: 'string' }, city: { type: 'string' }, country: { type: 'string', pattern: '^[A-Z]{2}$' } },
    },
  },
};

describe('a schema is accepted only when validating with it stays cheap', () => {
  it('accepts a realistic 20-property schema and validates a 1 MB payload with it', async () => {
    expect(Object.keys(twentyProperties.properties)).toHaveLength(20);
    const schema = compiled(await guard(twentyProperties));
    const order = {
      orderId: 'ord_84213',
      amount: { value: 4999, currency: 'EUR' },
      paidAt: '2024-05-14T09:21:07.000Z',
      lines: [] as unknown[],
      tags: ['a', 'b'],
      meta: { k: 'v' },
    };
    order.lines = payloadOf({ sku: 'sku-1', qty: 2 }, 1_000_000).slice(0, 1000);
    expect(schema.check(order)).toBeNull();
    const big = { ...order, meta: Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`k${i}`, `value-${i}`])) };
    expect(JSON.stringify(big).length).toBeGreaterThan(900_000);
    expect(schema.check(big)).toBeNull();
    // A small payload that fails gets every problem listed; a big one (over 8 KB) its first.
    const small = { orderId: 'ord_84213', amount: { value: 4999, currency: 'EUR' }, paidAt: '2024-05-14T09:21:07.000Z' };
    expect(schema.check({ ...small, amount: { value: -1, currency: 'XXX' } })).toEqual([
      { path: ['payload', 'amount', 'value'], message: 'must be >= 0' },
      { path: ['payload', 'amount', 'currency'], message: 'must be equal to one of the allowed values' },
    ]);
    expect(schema.check({ orderId: 'ord_84213', amount: { value: 1, currency: 'EUR' }, extra: 1 })).toEqual([
      { path: ['payload', 'paidAt'], message: "must have required property 'paidAt'" },
      { path: ['payload', 'extra'], message: 'must NOT have additional properties' },
    ]);
    expect(schema.check({ ...big, amount: { value: -1, currency: 'XXX' } })).toEqual([
      { path: ['payload', 'amount', 'value'], message: 'must be >= 0' },
    ]);
  });

  it('accepts a recursive schema that moves into the payload at each step (a tree)', async () => {
    const tree = compiled(
      await guard({ type: 'object', properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } } }),
    );
    expect(tree.check({ name: 'a', children: [{ name: 'b', children: [{ name: 'c' }] }] })).toBeNull();
    expect(tree.check({ name: 'a', children: [{ name: 5 }] })).toEqual([
      { path: ['payload', 'children', '0', 'name'], message: 'must be string' },
    ]);
  });

  describe('regular expressions', () => {
    it('refuses a catastrophic-backtracking pattern, naming where it is and why', async () => {
      const problems = problemsOf(await guard({ type: 'object', properties: { code: { type: 'string', pattern: '^(a|a)*$' } } }));
      expect(problems).toEqual([
        {
          path: 'schema.properties.code.pattern',
          message: expect.stringMatching(/^pattern "\^\(a\|a\)\*\$": can take exponential time on a crafted string/),
        },
      ]);
    });

    it('refuses a polynomial one and a catastrophic patternProperties key', async () => {
      expect(problemsOf(await guard({ properties: { s: { pattern: '\\d*\\d*\\d*x' } } }))[0]?.message).toMatch(/polynomial/);
      expect(problemsOf(await guard({ patternProperties: { '^(\\w+\\s?)*$': { type: 'string' } } }))).toEqual([
        { path: 'schema.patternProperties', message: expect.stringMatching(/exponential/) },
      ]);
    });

    it('refuses lookarounds and backreferences, which cannot be proven linear', async () => {
      expect(problemsOf(await guard({ pattern: '^(?=a)a+$' }))[0]?.message).toMatch(/lookarounds and backreferences are not accepted/);
      expect(problemsOf(await guard({ pattern: '^(a+)\\1$' }))[0]?.message).toMatch(/backreferences are not accepted/);
    });

    it('accepts linear patterns, and refuses a 1 MB string built to trip one', async () => {
      const schema = compiled(
        await guard({ type: 'array', items: { type: 'string', pattern: '^([a-z0-9]+(-[a-z0-9]+)*\\.)+[a-z]{2,}$' } }),
      );
      const attack = ['a-'.repeat(500_000) + '!'];
      expect(schema.check(attack)).toEqual([{ path: ['payload', '0'], message: expect.stringContaining('must match pattern') }]);
    });

    it('refuses format "regex", which would compile payload strings as expressions', async () => {
      expect(problemsOf(await guard({ type: 'string', format: 'regex' }))).toEqual([
        { path: 'schema.format', message: expect.stringContaining('not accepted') },
      ]);
    });
  });

  describe('references', () => {
    it.each([['https://example.com/order.json'], ['order.json#/$defs/x'], ['urn:example:order']])(
      'refuses the remote $ref %p',
      async (ref) => {
        expect(problemsOf(await guard({ properties: { a: { $ref: ref } } }))).toEqual([
          { path: 'schema.properties.a.$ref', message: expect.stringContaining('only references starting with # are allowed') },
        ]);
      },
    );

    it('refuses dynamic references, $id below the top and other drafts', async () => {
      expect(problemsOf(await guard({ $dynamicRef: '#node' }))[0]?.path).toBe('schema.$dynamicRef');
      expect(problemsOf(await guard({ properties: { a: { $id: 'https://evil.example/a', type: 'string' } } }))[0]?.path).toBe(
        'schema.properties.a.$id',
      );
      expect(problemsOf(await guard({ $schema: 'http://json-schema.org/draft-07/schema#' }))[0]?.message).toMatch(/2020-12/);
    });

    it('refuses a $ref that points nowhere and a $ref cycle that never moves into the payload', async () => {
      expect(problemsOf(await guard({ $ref: '#/$defs/missing' }))[0]?.message).toMatch(/does not point at a subschema/);
      expect(
        problemsOf(await guard({ $defs: { a: { $ref: '#/$defs/b' }, b: { anyOf: [{ $ref: '#/$defs/a' }] } }, $ref: '#/$defs/a' }))[0]
          ?.message,
      ).toMatch(/recurse forever/);
    });
  });

  describe('validation work', () => {
    it('refuses a $ref chain whose branches double at each step', async () => {
      const $defs: Record<string, unknown> = { d0: { type: 'string', minLength: 2 } };
      for (let i = 1; i <= 30; i++) $defs[`d${i}`] = { anyOf: [{ $ref: `#/$defs/d${i - 1}` }, { $ref: `#/$defs/d${i - 1}` }] };
      expect(problemsOf(await guard({ $defs, $ref: '#/$defs/d30' }))[0]?.message).toMatch(/too large to validate cheaply/);
      expect(problemsOf(await guard({ $defs, type: 'array', items: { $ref: '#/$defs/d30' } }))[0]?.message).toMatch(
        /at payload\[\], which can repeat/,
      );
    });

    it('refuses a recursion that applies twice as many subschemas at each level', async () => {
      const schema = { allOf: [{ properties: { a: { $ref: '#' } } }, { properties: { a: { $ref: '#' } } }] };
      expect(problemsOf(await guard(schema))[0]?.message).toMatch(/payload(\.a)+/);
    });

    it('refuses uniqueItems that would compare every pair of objects, and accepts it for strings or a few items', async () => {
      expect(problemsOf(await guard({ type: 'array', uniqueItems: true, items: { type: 'object' } }))[0]?.path).toBe('schema.uniqueItems');
      compiled(await guard({ type: 'array', uniqueItems: true, items: { type: ['string', 'integer'] } }));
      compiled(await guard({ type: 'array', uniqueItems: true, maxItems: 100 }));
    });

    it('counts a long enum against the limit where values repeat, not where they occur once', async () => {
      const countries = Array.from({ length: 1000 }, (_, i) => `C${i}`);
      expect(problemsOf(await guard({ type: 'array', items: { enum: countries } }))[0]?.message).toMatch(/payload\[\]/);
      compiled(await guard({ type: 'object', properties: { country: { enum: countries } } }));
    });

    it('refuses more repeated rules than the limit, and accepts up to it', async () => {
      // Each rule costs 2 units (itself and its one property's presence check, rounded up), the allOf 1.
      const rule = { type: 'object', properties: { a: { type: 'string' } } };
      const most = Math.floor((REPEATED_COST_LIMIT - 1) / 2);
      const refused = await guard({ type: 'array', items: { allOf: Array.from({ length: most + 1 }, () => rule) } });
      expect(problemsOf(refused)[0]?.message).toMatch(new RegExp(`more than ${REPEATED_COST_LIMIT} units`));
      compiled(await guard({ type: 'array', items: { allOf: Array.from({ length: most }, () => rule) } }));
      // An anyOf branch an item misses costs an error object: three alternatives on every item is too many.
      expect(
        problemsOf(await guard({ type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'null' }] } }))[0]
          ?.message,
      ).toMatch(/payload\[\]/);
      compiled(await guard({ type: 'array', items: { type: ['string', 'number', 'null'] } }));
    });
  });

  it('validates a 1 MB payload in under 50 ms with each of the costliest schemas it accepts (timed in a plain Node process)', () => {
    // Timed outside jest: its vm context makes Ajv's global lookups many times slower than in the API.
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, 'validation-timing.ts')], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    const results = JSON.parse(out.trim().split('\n').pop() as string) as Array<{
      name: string;
      accepted: boolean;
      bytes: number;
      fastestMs: number;
    }>;
    expect(results.map((r) => r.name)).toEqual(TIMING_CASES.map((c) => c.name));
    for (const r of results)
      expect({ name: r.name, accepted: r.accepted, megabyte: r.bytes >= 990_000, under50ms: r.fastestMs < 50 }).toEqual({
        name: r.name,
        accepted: true,
        megabyte: true,
        under50ms: true,
      });
  }, 130_000);

  it("refuses a schema over 64 KB, and one that does not compile with the validator's reason", async () => {
    const big = { description: 'x'.repeat(MAX_SCHEMA_BYTES) };
    expect(problemsOf(await guard(big))).toEqual([
      { path: 'schema', message: expect.stringMatching(/^is 655\d\d bytes; a schema may be at most 65536 bytes/) },
    ]);
    expect(problemsOf(await guard({ type: 'object', requried: ['a'] }))).toEqual([
      { path: 'schema', message: 'does not compile: strict mode: unknown keyword: "requried"' },
    ]);
    expect(problemsOf(await guard({ type: 'strin' }))[0]?.message).toMatch(/^does not compile: schema is invalid/);
    expect(problemsOf(await guard([1, 2]))[0]?.message).toMatch(/must be a JSON Schema/);
  });
});
