import { z } from 'zod';
import type { $ZodRawIssue } from 'zod/v4/core';

/** What a JSON value is, in the words of an API caller: "a string", "null", "a list". */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return Number.isInteger(value) ? 'a number' : 'a fractional number';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  record: 'an object',
  tuple: 'an array',
  null: 'null',
  date: 'a date',
  bigint: 'a whole number',
};

function quoted(values: readonly unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

function count(n: number | bigint, one: string, many: string): string {
  return `${n} ${Number(n) === 1 ? one : many}`;
}

type RawIssue = $ZodRawIssue;

/**
 * The message for a zod issue that its schema gives no message of its own: plain words a caller can
 * act on ("required", "must be a string, not a number", "must be one of: "a", "b"") instead of
 * zod's defaults ("Invalid input: expected nonoptional, received undefined"). Messages a schema sets
 * itself (a refine's) are kept. Undefined falls back to zod's.
 */
export function plainMessage(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'required';
      return `must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${describe(issue.input)}`;
    case 'too_small': {
      const { minimum, inclusive, origin } = issue;
      if (origin === 'string')
        return Number(minimum) <= 1 ? 'must not be empty' : `must be at least ${count(minimum, 'character', 'characters')}`;
      if (origin === 'array' || origin === 'set')
        return Number(minimum) <= 1 ? 'must not be empty' : `must have at least ${count(minimum, 'item', 'items')}`;
      return inclusive === false ? `must be greater than ${minimum}` : `must be at least ${minimum}`;
    }
    case 'too_big': {
      const { maximum, inclusive, origin } = issue;
      if (origin === 'string') return `must be at most ${count(maximum, 'character', 'characters')}`;
      if (origin === 'array' || origin === 'set') return `must have at most ${count(maximum, 'item', 'items')}`;
      return inclusive === false ? `must be less than ${maximum}` : `must be at most ${maximum}`;
    }
    case 'invalid_format':
      if (issue.format === 'regex') return `must match the pattern ${issue.pattern ?? ''}`.trim();
      if (issue.format === 'starts_with') return `must start with ${JSON.stringify((issue as { prefix?: string }).prefix)}`;
      if (issue.format === 'ends_with') return `must end with ${JSON.stringify((issue as { suffix?: string }).suffix)}`;
      if (issue.format === 'includes') return `must include ${JSON.stringify((issue as { includes?: string }).includes)}`;
      if (issue.format === 'url') return 'must be a URL';
      if (issue.format === 'email') return 'must be an email address';
      return `must be a valid ${issue.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'unrecognized_keys':
      return `unknown ${issue.keys.length === 1 ? 'field' : 'fields'}: ${issue.keys.join(', ')}`;
    case 'invalid_value':
      return issue.values.length === 1 ? `must be ${quoted(issue.values)}` : `must be one of: ${quoted(issue.values)}`;
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (options && options.length > 0) return `must be one of: ${quoted(options)}`;
      return 'does not match any of the accepted forms';
    }
    case 'invalid_key':
      return 'has a key that is not allowed';
    case 'invalid_element':
      return 'has an element that is not allowed';
    case 'custom':
      return 'is not valid';
    default:
      return undefined;
  }
}

let installed = false;

/** Makes plainMessage zod's message for every issue a schema leaves without one (idempotent; process-wide). */
export function usePlainValidationMessages(): void {
  if (installed) return;
  installed = true;
  z.config({ customError: (issue) => plainMessage(issue) });
}
