import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import { SchemaEnv } from 'ajv/dist/compile';
import { compileSchema } from './schema-compiler';

// Ajv leaves a validation's errors on the functions it ran until their next call. An audit measured
// one ~8 KB failing payload leaving 526 KB to 2.4 MB per event type that way, for up to 1,000
// types; a check must copy out what it reports and keep nothing.

/** Orders whose lines sit behind a `$ref` holding a `$ref`, which Ajv compiles as a function of its own. */
const orderSchema = {
  type: 'object',
  required: ['orderId', 'lines'],
  properties: { orderId: { type: 'string', minLength: 5 }, lines: { $ref: '#/$defs/lines' } },
  $defs: {
    lines: { type: 'array', items: { $ref: '#/$defs/line' } },
    line: { type: 'object', required: ['sku', 'qty'], properties: { sku: { type: 'string' }, qty: { type: 'integer', minimum: 1 } } },
  },
};

/** The validate functions of the compiled schemas: each schema's own and those of the subschemas it calls. */
function validateFunctionsOf(compiled: ValidateFunction[]): ValidateFunction[] {
  return compiled.flatMap((validate) => [
    validate,
    ...Object.values(validate.schemaEnv.refs).flatMap((ref) => (ref instanceof SchemaEnv && ref.validate ? [ref.validate] : [])),
  ]);
}

afterEach(() => jest.restoreAllMocks());

describe('a check keeps nothing of the payload it validated', () => {
  it("releases Ajv's errors after a failing payload, small or large, and reports the same issues", () => {
    const compile = jest.spyOn(Ajv2020.prototype, 'compile');
    // What the publish path holds per type (LiveCatalog.validate), as the schema guard compiles it.
    const schema = compileSchema(orderSchema);
    const functions = () => validateFunctionsOf(compile.mock.results.map((r) => r.value as ValidateFunction));
    const errorsHeld = () => functions().reduce((sum, validate) => sum + (validate.errors?.length ?? 0), 0);

    // Several problems in a small payload: every one listed.
    expect(schema.check({ orderId: 'ord', lines: [{ sku: 1, qty: 0 }, {}] })).toEqual([
      { path: ['payload', 'orderId'], message: 'must NOT have fewer than 5 characters' },
      { path: ['payload', 'lines', '0', 'sku'], message: 'must be string' },
      { path: ['payload', 'lines', '0', 'qty'], message: 'must be >= 1' },
      { path: ['payload', 'lines', '1', 'sku'], message: "must have required property 'sku'" },
      { path: ['payload', 'lines', '1', 'qty'], message: "must have required property 'qty'" },
    ]);
    expect(errorsHeld()).toBe(0);

    // 2,000 wrong items in under 8 KB: Ajv makes 2,000 errors, the answer lists 50.
    const many = { orderId: 'ord_84213', lines: Array.from({ length: 2000 }, () => 0) };
    expect(Buffer.byteLength(JSON.stringify(many))).toBeLessThan(8 * 1024);
    expect(schema.check(many)).toEqual(
      Array.from({ length: 50 }, (_, i) => ({ path: ['payload', 'lines', String(i)], message: 'must be object' })),
    );
    expect(errorsHeld()).toBe(0);

    // Over 8 KB: the first problem only.
    const large = { orderId: 'ord_84213', lines: Array.from({ length: 5000 }, () => 0) };
    expect(schema.check(large)).toEqual([{ path: ['payload', 'lines', '0'], message: 'must be object' }]);
    expect(errorsHeld()).toBe(0);

    // What was checked: the first-problem and every-problem validators, each with its function for `lines`.
    expect(compile).toHaveBeenCalledTimes(2);
    expect(functions()).toHaveLength(4);
    expect(schema.check({ orderId: 'ord_84213', lines: [{ sku: 'a', qty: 1 }] })).toBeNull();
  });
});

describe('a check asked for its first problem only', () => {
  it('finds it with the first-problem validator alone, however small the payload, and every problem when not asked', () => {
    const compile = jest.spyOn(Ajv2020.prototype, 'compile');
    const schema = compileSchema(orderSchema);
    const wrong = { orderId: 'ord', lines: [{ sku: 1, qty: 0 }, {}] };
    // A split SendGrid body checks up to 5,000 payloads in one request and keeps a line of each.
    expect(schema.check(wrong, { firstOnly: true })).toEqual([
      { path: ['payload', 'orderId'], message: 'must NOT have fewer than 5 characters' },
    ]);
    expect(compile).toHaveBeenCalledTimes(1);
    expect(schema.check(wrong)).toHaveLength(5);
    expect(compile).toHaveBeenCalledTimes(2);
    expect(schema.check({ orderId: 'ord_84213', lines: [] }, { firstOnly: true })).toBeNull();
  });
});
