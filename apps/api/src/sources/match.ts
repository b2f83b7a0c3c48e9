import { isDeepStrictEqual } from 'node:util';
import { MAX_JSON_DEPTH } from '../json-depth';

/**
 * The JSONPath that `matches` and eventType templates accept, and its evaluation, bounded.
 *
 * Why a subset, and why evaluated here rather than by jsonpath-plus (which this replaced): a path
 * comes from one subscriber and runs on the API's CPU for every request to its source, so its cost
 * must not depend on what the subscriber or the sender chooses. jsonpath-plus could not promise
 * that: `$..*..*..*..*` on a 367-byte body nested 60 deep took 1.5 s of CPU per request (recursive
 * descent is exponential in nesting depth), unions (`['a','a','a']`) multiply the selection at
 * each step, it recurses once per step (a stack overflow waits at the end of a long enough path),
 * it has no step budget, and it keeps every expression it ever parsed in a process-wide cache.
 *
 * So paths are held to the normalized form of RFC 9535 plus wildcards, checked when a source is
 * created or changed (a 400 naming the field):
 *   `$`, then steps `.name`, `['name']` / `["name"]`, `[0]` (an array index) and `.*` / `[*]`;
 *   at most 64 steps (no payload nests deeper, see json-depth.ts).
 * Refused: recursive descent `..`, unions, slices, negative indexes, filters and scripts, and
 * jsonpath-plus's extensions (`^`, `~`, `@type()`).
 *
 * With these steps, every selected node is reached along its one path from the root, so a path
 * visits each node of the payload at most once: its cost is linear in the payload (1 MB at most).
 * On top of that, one request's evaluation (parsing its paths, once per request, then all its paths
 * on every element, and the comparisons with the expected values) runs on a budget of
 * MATCH_STEP_BUDGET steps; past it the request is ignored, with the reason in the source's history,
 * so no body can make matching cost more than a few milliseconds.
 */

export type PathStep = { name: string } | { index: number } | { wildcard: true };

/** Steps (path characters parsed, node visits and compared nodes) one request may spend on all its paths: a few ms of CPU. */
export const MATCH_STEP_BUDGET = 200_000;

const MAX_INDEX_DIGITS = 9;
const NAME_CHAR = /[A-Za-z0-9_$\-\u0080-\uffff]/;
const SUPPORTED = "use .name, ['name'], [0] or [*]";

/** Steps one request's path evaluation may still take. */
export class StepBudget {
  private left: number;

  constructor(private readonly limit: number = MATCH_STEP_BUDGET) {
    this.left = limit;
  }

  /** Takes `steps`; false once the budget is spent (and from then on). */
  take(steps: number): boolean {
    this.left -= steps;
    return this.left >= 0;
  }

  get exhausted(): boolean {
    return this.left < 0;
  }

  /** Steps taken so far, parsing included (more than the limit once exhausted). */
  get spent(): number {
    return this.limit - this.left;
  }

  get reason(): string {
    return `more than ${MATCH_STEP_BUDGET} steps to evaluate; simplify the paths or send smaller bodies`;
  }
}

/** The steps of a path, or why it is not one this service evaluates. */
export function parsePath(path: string): { steps: PathStep[] } | { problem: string } {
  if (!path.startsWith('$')) return { problem: "a JSONPath must start with $, e.g. $.event.type or $['event']['type']" };
  if (/\?\s*\(|\(\s*@|@\s*\.|\(\s*\)/.test(path)) return { problem: 'filter and script expressions are not supported' };
  const steps: PathStep[] = [];
  let i = 1;
  while (i < path.length) {
    const at = path[i] as string;
    const next = path[i + 1];
    if (at === '.' && next === '.')
      return {
        problem: 'recursive descent (..) is not supported: its cost grows with the nesting of the body; name each step, e.g. $.event.type',
      };
    if (at === '.' && next === '*') {
      steps.push({ wildcard: true });
      i += 2;
    } else if (at === '.') {
      let end = i + 1;
      while (end < path.length && NAME_CHAR.test(path[end] as string)) end++;
      if (end === i + 1) return { problem: `"${next ?? ''}" after "." at position ${i} is not supported: ${SUPPORTED}` };
      steps.push({ name: path.slice(i + 1, end) });
      i = end;
    } else if (at === '[') {
      const bracket = parseBracket(path, i + 1);
      if ('problem' in bracket) return bracket;
      steps.push(bracket.step);
      i = bracket.end;
    } else {
      return { problem: `"${at}" at position ${i} is not supported: ${SUPPORTED} (filters, scripts, ^ and ~ are not evaluated)` };
    }
    if (steps.length > MAX_JSON_DEPTH) return { problem: `at most ${MAX_JSON_DEPTH} steps (no payload nests deeper)` };
  }
  return { steps };
}

/** One `[...]` selector starting after its `[`; `end` is the index after its `]`. */
function parseBracket(path: string, start: number): { step: PathStep; end: number } | { problem: string } {
  const close = (at: number, step: PathStep) => {
    if (path[at] === ']') return { step, end: at + 1 };
    if (path[at] === ',') return { problem: 'unions ([a,b]) are not supported: use one path per value' };
    if (path[at] === ':') return { problem: 'slices ([a:b]) are not supported: use an index or [*]' };
    return { problem: at >= path.length ? 'unterminated [' : `"${path[at]}" at position ${at} is not supported: ${SUPPORTED}` };
  };
  const first = path[start];
  if (first === undefined) return { problem: 'unterminated [' };
  if (first === '*') return close(start + 1, { wildcard: true });
  if (first === "'" || first === '"') {
    const end = path.indexOf(first, start + 1);
    if (end === -1) return { problem: `unterminated quoted name at position ${start}` };
    const name = path.slice(start + 1, end);
    if (name.includes('\\')) return { problem: 'escapes in quoted names are not supported: quote with the other kind of quote' };
    return close(end + 1, { name });
  }
  if (/[0-9]/.test(first)) {
    let end = start;
    while (end < path.length && /[0-9]/.test(path[end] as string)) end++;
    if (end - start > MAX_INDEX_DIGITS) return { problem: `an index must be a whole number from 0 to ${'9'.repeat(MAX_INDEX_DIGITS)}` };
    return close(end, { index: Number(path.slice(start, end)) });
  }
  if (first === '-') return { problem: 'an index must be a whole number from 0 (negative indexes are not supported)' };
  if (first === ':') return { problem: 'slices ([a:b]) are not supported: use an index or [*]' };
  if (first === '?' || first === '(') return { problem: 'filter and script expressions are not supported' };
  return { problem: `"${first}" at position ${start} is not supported: ${SUPPORTED}` };
}

/** Why a JSONPath cannot be used in `matches` or a template, or null when it can. */
export function matchPathProblem(path: string): string | null {
  const parsed = parsePath(path);
  return 'problem' in parsed ? parsed.problem : null;
}

/**
 * `path` parsed on a request's budget, which is charged its length: parsing reads every character
 * (a name's with a regular expression), and a source may hold 20 paths of 500 characters. Each
 * request parses its source's paths once (compileMatches, compileEventType) and evaluates the steps
 * on every element: a split SendGrid body of 2,000 elements parsed all 20 for each element, ~20 MB
 * of path text (360-550 ms of the shared event loop) that the budget did not see.
 */
export function parsePathOnBudget(path: string, budget: StepBudget): { steps: PathStep[] } | { problem: string } {
  // Not parsed at all once the budget is spent: the request is refused for that anyway.
  if (!budget.take(path.length)) return { problem: budget.reason };
  return parsePath(path);
}

/**
 * Every value the steps select, in document order; null when the budget ran out. Only own
 * properties of objects and indexes of arrays are followed (never a string's characters, an
 * array's `length` or anything inherited).
 */
function select(steps: readonly PathStep[], payload: unknown, budget: StepBudget): unknown[] | null {
  let current: unknown[] = [payload];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const node of current) {
      if (node === null || typeof node !== 'object') continue;
      if ('wildcard' in step) {
        const values = Array.isArray(node) ? node : Object.values(node);
        if (!budget.take(values.length)) return null;
        for (const value of values) next.push(value);
      } else if ('index' in step) {
        if (Array.isArray(node) && step.index < node.length) next.push(node[step.index]);
      } else if (!Array.isArray(node) && Object.hasOwn(node, step.name)) {
        next.push((node as Record<string, unknown>)[step.name]);
      }
    }
    if (!budget.take(current.length)) return null;
    current = next;
    if (current.length === 0) break;
  }
  return current;
}

/** Every value parsed steps select; empty when the budget runs out, which the budget then says. */
export function valuesAtSteps(steps: readonly PathStep[], payload: unknown, budget: StepBudget): unknown[] {
  return select(steps, payload, budget) ?? [];
}

/**
 * Every value at a JSONPath; empty for a path outside the subset (see the module comment) or when
 * the budget runs out, which the budget then says.
 */
export function valuesAt(path: string, payload: unknown, budget: StepBudget = new StepBudget()): unknown[] {
  const parsed = parsePathOnBudget(path, budget);
  if ('problem' in parsed) return [];
  return valuesAtSteps(parsed.steps, payload, budget);
}

/**
 * Nodes in a JSON value (each object, array and scalar counts one), counted without recursion, up
 * to `cap`: safe on anything JSON.parse returns, and it stops early on a large value.
 */
export function countJsonNodes(value: unknown, cap: number): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && count < cap) {
    const node = stack.pop();
    count++;
    if (node !== null && typeof node === 'object') for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push(child);
  }
  return count;
}

export type MatchVerdict = { matched: true } | { matched: false; reason: string };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * What deep equality of an expected object with a candidate costs beyond the expected value's
 * size: it lists a candidate object's own keys (Object.keys) before comparing anything, so `{}`
 * against an object of 10,000 keys is 10,000 steps, not 1. Against a scalar or an array expected,
 * an object candidate fails on its type at once, and an array's length is compared first.
 */
function ownKeysOf(value: unknown): number {
  return isPlainObject(value) ? Object.keys(value).length : 0;
}

/**
 * One `matches` entry, parsed once for a request. `cost`: the expected value's size, what one deep
 * equality with it may visit.
 */
export type CompiledMatch = { path: string; expected: unknown; cost: number } & ({ steps: PathStep[] } | { problem: string });

/**
 * A source's `matches` parsed for one request, on its budget: each path is charged its length
 * (parsePathOnBudget) and each expected value its size (the walk that measures it), once however
 * many elements the request holds.
 */
export function compileMatches(matches: Record<string, unknown>, budget: StepBudget): CompiledMatch[] {
  return Object.entries(matches).map(([path, expected]) => {
    const cost = countJsonNodes(expected, MATCH_STEP_BUDGET + 1);
    budget.take(cost);
    return { path, expected, cost, ...parsePathOnBudget(path, budget) };
  });
}

/**
 * Conductor's `matches`: every path must hold its expected value (AND); `{}` matches everything.
 * A path holds when at least one value it selects deep-equals the expected JSON value, so
 * `$.items[*].sku` holds if any item has that sku. Each comparison is charged the expected value's
 * size (what deep equality may visit) and, for an expected object, a candidate object's keys
 * (ownKeysOf), so a large expected value against many candidates runs out of budget instead of CPU.
 * Pass compileMatches' result when evaluating several elements of one request; a plain `matches`
 * object is compiled on the budget first.
 */
export function evaluateMatches(
  matches: Record<string, unknown> | readonly CompiledMatch[],
  payload: unknown,
  budget: StepBudget = new StepBudget(),
): MatchVerdict {
  const compiled = Array.isArray(matches)
    ? (matches as readonly CompiledMatch[])
    : compileMatches(matches as Record<string, unknown>, budget);
  if (budget.exhausted) return { matched: false, reason: budget.reason };
  for (const entry of compiled) {
    const { path, expected, cost } = entry;
    // A source saved before the subset was enforced: refuse to evaluate, say why in the history.
    if ('problem' in entry) return { matched: false, reason: `${path}: ${entry.problem}; change the source's matches`.slice(0, 300) };
    const values = select(entry.steps, payload, budget);
    if (values === null) return { matched: false, reason: budget.reason };
    let held = false;
    const chargesKeys = isPlainObject(expected);
    for (const value of values) {
      if (!budget.take(cost + (chargesKeys ? ownKeysOf(value) : 0))) return { matched: false, reason: budget.reason };
      if (isDeepStrictEqual(value, expected)) {
        held = true;
        break;
      }
    }
    if (!held) {
      return {
        matched: false,
        reason: (values.length === 0 ? `${path} is absent` : `${path} does not equal ${JSON.stringify(expected)}`).slice(0, 200),
      };
    }
  }
  return { matched: true };
}
