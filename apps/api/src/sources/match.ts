import { isDeepStrictEqual } from 'node:util';
import { JSONPath } from 'jsonpath-plus';

/**
 * Every value at a JSONPath (jsonpath-plus). Script and filter expressions are switched off
 * (`eval: false`): paths come from API callers and run on the server, and jsonpath-plus's own
 * evaluator has had sandbox escapes (CVE-2024-21534, CVE-2025-1302).
 */
export function valuesAt(path: string, payload: unknown): unknown[] {
  if (payload === null || typeof payload !== 'object') return path === '$' ? [payload] : [];
  return JSONPath({ path, json: payload as object, wrap: true, eval: false }) as unknown[];
}

/** Why a JSONPath cannot be used, or null when it can. */
export function matchPathProblem(path: string): string | null {
  if (!path.startsWith('$')) return 'a JSONPath must start with $, e.g. $.event.type or $[\'event\'][\'type\']';
  if (/\?\s*\(|\(\s*@|@\s*\.|\(\s*\)/.test(path)) return 'filter and script expressions are not supported';
  try {
    valuesAt(path, { probe: [{ probe: 1 }] });
  } catch (err) {
    return `not a JSONPath: ${(err as Error).message}`.slice(0, 200);
  }
  return null;
}

export type MatchVerdict = { matched: true } | { matched: false; reason: string };

/**
 * Conductor's `matches`: every path must hold its expected value (AND); `{}` matches everything.
 * A path holds when at least one value it selects deep-equals the expected JSON value, so
 * `$.items[*].sku` holds if any item has that sku.
 */
export function evaluateMatches(matches: Record<string, unknown>, payload: unknown): MatchVerdict {
  for (const [path, expected] of Object.entries(matches)) {
    const values = valuesAt(path, payload);
    if (!values.some((value) => isDeepStrictEqual(value, expected))) {
      return { matched: false, reason: values.length === 0 ? `${path} is absent` : `${path} does not equal ${JSON.stringify(expected)}`.slice(0, 200) };
    }
  }
  return { matched: true };
}
