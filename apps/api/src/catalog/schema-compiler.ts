import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import { SchemaEnv } from 'ajv/dist/compile';
import addFormats, { type FormatName } from 'ajv-formats';
import type { EventPayloadIssue } from '@hookrelay/contracts';
import { MAX_REPORTED_ISSUES } from '../errors';

/**
 * A failed payload of at most this many bytes is validated a second time, collecting every problem
 * for the 400. Bigger ones report the first problem only: collecting all of them costs time and
 * memory in proportion to the payload (a 1 MB array of wrong items is hundreds of thousands of
 * errors), and the first-problem pass is what bounds validation time.
 */
export const FULL_REPORT_BYTES = 8 * 1024;

/**
 * ajv-formats' "fast" formats (regular expressions measured linear on 1 MB strings), without
 * `regex`, which would compile payload strings as regular expressions.
 */
const FORMATS: FormatName[] = [
  'date',
  'time',
  'date-time',
  'iso-time',
  'iso-date-time',
  'duration',
  'uri',
  'uri-reference',
  'uri-template',
  'url',
  'email',
  'hostname',
  'ipv4',
  'ipv6',
  'uuid',
  'json-pointer',
  'json-pointer-uri-fragment',
  'relative-json-pointer',
  'byte',
  'int32',
  'int64',
  'float',
  'double',
  'password',
  'binary',
];

export class SchemaCompileError extends Error {}

/** How much of a failing payload's problems to find. */
export interface CheckOptions {
  /**
   * Its first problem only, whatever its size: for a caller that checks many payloads in one
   * request (a split SendGrid body, up to 5,000) and keeps a line of each.
   * @defaultValue false (every problem of a payload up to FULL_REPORT_BYTES)
   */
  firstOnly?: boolean;
}

export interface CompiledSchema {
  /** Null when the payload passes; otherwise its problems, each at `payload.<path>`. */
  check(payload: unknown, options?: CheckOptions): EventPayloadIssue[] | null;
}

/**
 * A fresh Ajv for each schema: nothing one type registers ($id, anchors) is visible to another's
 * references, and nothing is kept in an Ajv-wide cache once the type's validator is dropped.
 * Strict mode refuses unknown keywords and formats, so a typo (`requried`) is a 400, not a rule
 * silently ignored.
 */
function newAjv(allErrors: boolean): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors,
    strict: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    allowUnionTypes: true,
    logger: false,
  });
  addFormats(ajv, { mode: 'fast', formats: FORMATS });
  return ajv;
}

function toIssue(error: ErrorObject): EventPayloadIssue {
  const path: Array<string | number> = ['payload'];
  for (const token of error.instancePath.split('/').slice(1)) path.push(token.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = error.params as { missingProperty?: string; additionalProperty?: string; unevaluatedProperty?: string };
  const member = params.missingProperty ?? params.additionalProperty ?? params.unevaluatedProperty;
  if (member !== undefined) path.push(member);
  return { path, message: error.message ?? `fails ${error.keyword}` };
}

/**
 * Forgets the errors a validation left behind. Ajv keeps them on each validate function it ran (the
 * schema's own, and those of subschemas it calls rather than inlines: a `$ref` target holding a
 * `$ref`) until that function's next call: with `allErrors`, every problem of the payload, ~526 KB
 * for an 8 KB array of wrong items, held per type for as long as the type goes unvalidated. (Ajv
 * has no option capping how many `allErrors` collects.) Every `$ref` target Ajv compiles, however
 * deep, is filed under the root's `refs`.
 */
function releaseErrors(validate: ValidateFunction): void {
  validate.errors = null;
  for (const ref of Object.values(validate.schemaEnv.refs)) if (ref instanceof SchemaEnv && ref.validate) ref.validate.errors = null;
}

/**
 * Null when `payload` passes; otherwise the first `limit` of its errors (all when no limit) as
 * issues, copied out before Ajv's are released.
 */
function issuesOf(validate: ValidateFunction, payload: unknown, limit?: number): EventPayloadIssue[] | null {
  try {
    if (validate(payload)) return null;
    return (validate.errors ?? []).slice(0, limit).map(toIssue);
  } finally {
    releaseErrors(validate);
  }
}

/** Compiles a schema the guard has accepted; throws SchemaCompileError with Ajv's reason. */
export function compileSchema(schema: unknown): CompiledSchema {
  let gate: ValidateFunction;
  try {
    gate = newAjv(false).compile(schema as object);
  } catch (err) {
    throw new SchemaCompileError((err as Error).message, { cause: err });
  }
  let everything: ValidateFunction | undefined;
  return {
    check(payload, options) {
      let first: EventPayloadIssue[] | null;
      try {
        first = issuesOf(gate, payload);
      } catch (err) {
        // A recursive schema meeting a payload nested deeper than the call stack.
        if (err instanceof RangeError) return [{ path: ['payload'], message: 'is nested too deeply to validate against its schema' }];
        throw err;
      }
      if (first === null || options?.firstOnly) return first;
      if (Buffer.byteLength(JSON.stringify(payload)) > FULL_REPORT_BYTES) return first;
      everything ??= newAjv(true).compile(schema as object);
      const all = issuesOf(everything, payload, MAX_REPORTED_ISSUES) ?? [];
      return all.length > 0 ? all : first;
    },
  };
}
