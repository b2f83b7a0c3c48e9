import type { SchemaGraph, SchemaProblem } from './schema-graph';

/**
 * How much work validating one payload can take, bounded from the schema alone.
 *
 * A payload of 1 MB has up to ~500,000 values (`[0,0,0,...]`), and the values an `items` or
 * `additionalProperties` subschema meets can be as many. So every place in a payload that can
 * repeat (under items, contains, patternProperties, additionalProperties, or a recursive $ref) may
 * cost at most REPEATED_COST_LIMIT units, counted over every subschema that applies there (allOf
 * branches, $ref targets, each with its enum and required lists). Places that occur once (reached
 * by named properties and prefixItems only) share SINGULAR_COST_BUDGET. A unit is about one simple
subschema check (~8 ns); see selfCost and MISS_COST in schema-graph.ts for what costs more. That rules out the schemas
 * that make validation super-linear: a $ref chain whose anyOf branches double at each step, a
 * recursion that multiplies the subschemas applied per level, a 1,000-value enum on every item.
 * Measured on the development machine: the costliest schema these limits accept validates a 1 MB
 * payload in well under 50 ms once compiled (see catalog-safety tests).
 */
export const REPEATED_COST_LIMIT = 24;
export const SINGULAR_COST_BUDGET = 20_000;
/** Payload nesting the analysis follows before it gives up on a schema it cannot bound. */
const MAX_ANALYSED_DEPTH = 64;
/** Places (sets of subschemas) the analysis may visit. */
const VISIT_BUDGET = 20_000;

/** A multiset of subschemas applying at one place: node id -> how many times. */
type Applied = Map<number, number>;

class Refused extends Error {}

function signature(applied: Applied): string {
  return [...applied.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([id, n]) => `${id}*${n}`)
    .join(',');
}

function add(into: Applied, id: number, count: number): void {
  into.set(id, (into.get(id) ?? 0) + count);
}

/** A cycle of $refs that never moves into the payload would recurse forever on any value. */
function findInPlaceCycle(graph: SchemaGraph): string[] | null {
  const state = new Uint8Array(graph.nodes.length); // 0 new, 1 on the stack, 2 done
  for (let start = 0; start < graph.nodes.length; start++) {
    if (state[start]) continue;
    const stack: Array<{ id: number; next: number }> = [{ id: start, next: 0 }];
    state[start] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const children = graph.nodes[top.id]!.inPlace;
      if (top.next >= children.length) {
        state[top.id] = 2;
        stack.pop();
        continue;
      }
      const child = children[top.next++]!;
      if (state[child] === 1) {
        const from = stack.findIndex((s) => s.id === child);
        return [...stack.slice(from).map((s) => graph.nodes[s.id]!.pointer), graph.nodes[child]!.pointer];
      }
      if (state[child] === 0) {
        state[child] = 1;
        stack.push({ id: child, next: 0 });
      }
    }
  }
  return null;
}

/** Null when validation is bounded; else why not, naming the place in the payload. */
export function costProblem(graph: SchemaGraph, root = 'schema'): SchemaProblem | null {
  const cycle = findInPlaceCycle(graph);
  if (cycle)
    return { path: root, message: `$ref cycle that never moves into the payload (${cycle.join(' -> ')}): it would recurse forever` };
  let singularLeft = SINGULAR_COST_BUDGET;
  let visits = 0;
  const seenRepeated = new Set<string>();

  /** Every subschema applying at a place, with its cost there; throws past `limit`. */
  function expand(start: Applied, limit: number, where: string): { cost: number; applied: Applied } {
    const applied: Applied = new Map();
    const stack = [...start.entries()];
    let cost = 0;
    while (stack.length > 0) {
      const [id, count] = stack.pop()!;
      const node = graph.nodes[id]!;
      add(applied, id, count);
      cost += count * node.selfCost;
      if (cost > limit) {
        throw new Refused(
          limit === REPEATED_COST_LIMIT
            ? `at ${where}, which can repeat throughout a payload, more than ${REPEATED_COST_LIMIT} units of rules apply to each value (allOf/anyOf/oneOf branches, $ref targets, enum and required lists); simplify the subschemas applied there`
            : `the rules applying at places that occur once in a payload add up to more than ${SINGULAR_COST_BUDGET} units (reached at ${where}); the schema is too large to validate cheaply`,
        );
      }
      for (const child of node.inPlace) stack.push([child, count]);
    }
    return { cost, applied };
  }

  /** Places one level down from a place where `applied` applies, each with what applies there. */
  function children(applied: Applied, where: string): Array<{ applied: Applied; where: string; repeats: boolean }> {
    const named = new Map<string, Applied>();
    const anyMember: Applied = new Map();
    const names: Applied = new Map();
    const indexed: Applied[] = [];
    const anyItem: Applied = new Map();
    for (const [id, count] of applied) {
      const node = graph.nodes[id]!;
      for (const [key, child] of node.named) add(named.get(key) ?? named.set(key, new Map()).get(key)!, child, count);
      for (const child of node.anyMember) add(anyMember, child, count);
      for (const child of node.names) add(names, child, count);
      node.indexed.forEach((child, i) => add((indexed[i] ??= new Map()), child, count));
      for (const child of node.anyItem) add(anyItem, child, count);
    }
    const withAll = (base: Applied, extra: Applied): Applied => {
      const out = new Map(base);
      for (const [id, n] of extra) add(out, id, n);
      return out;
    };
    const out: Array<{ applied: Applied; where: string; repeats: boolean }> = [];
    // A named member may also meet patternProperties and additionalProperties: counted together.
    for (const [key, a] of named) out.push({ applied: withAll(a, anyMember), where: `${where}.${key}`, repeats: false });
    if (anyMember.size) out.push({ applied: anyMember, where: `${where}.*`, repeats: true });
    if (names.size) out.push({ applied: names, where: `${where} (member names)`, repeats: true });
    indexed.forEach((a, i) => a && out.push({ applied: withAll(a, anyItem), where: `${where}[${i}]`, repeats: false }));
    if (anyItem.size) out.push({ applied: anyItem, where: `${where}[]`, repeats: true });
    return out;
  }

  function visit(start: Applied, where: string, repeats: boolean, path: string[]): void {
    if (++visits > VISIT_BUDGET) throw new Refused('too many distinct places to check (the schema is too large to validate cheaply)');
    const key = signature(start);
    if (repeats) {
      if (seenRepeated.has(key)) return;
      seenRepeated.add(key);
    } else if (path.includes(key)) {
      // A recursion through named members: the place can repeat as deep as a payload nests.
      return visit(start, where, true, path);
    }
    if (path.length > MAX_ANALYSED_DEPTH)
      throw new Refused(`at ${where}: the rules keep changing more than ${MAX_ANALYSED_DEPTH} levels down; the schema cannot be bounded`);
    const { cost, applied } = expand(start, repeats ? REPEATED_COST_LIMIT : singularLeft, where);
    if (!repeats) singularLeft -= cost;
    for (const next of children(applied, where)) visit(next.applied, next.where, repeats || next.repeats, [...path, key]);
  }

  try {
    visit(new Map([[0, 1]]), 'payload', false, []);
    return null;
  } catch (err) {
    if (err instanceof Refused) return { path: root, message: err.message };
    throw err;
  }
}
