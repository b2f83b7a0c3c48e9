/**
 * A JSON Schema as a graph of its subschemas, for the checks that run before Ajv compiles it
 * (schema-guard.ts): every subschema gets a node; edges say whether a subschema applies at the same
 * place in the payload (allOf, anyOf, oneOf, not, if/then/else, dependentSchemas, $ref) or one level
 * down (properties, patternProperties, additionalProperties, items, ...). Walking it also finds what
 * is refused outright (remote references, dynamic references, `format: regex`, unbounded
 * uniqueItems) and collects every regular expression.
 */

export interface SchemaProblem {
  /** Dotted, from the request body: `schema.properties.amount.$ref`. */
  path: string;
  message: string;
}

export interface SchemaNode {
  /** JSON pointer fragment, `#/properties/amount`. */
  pointer: string;
  /** Work one application of this subschema costs, in units of one simple subschema (see selfCost). */
  selfCost: number;
  /** Subschemas applied to the same value (in-place applicators and the resolved $ref). */
  inPlace: number[];
  /** `properties`: applied to that one member. */
  named: Array<[string, number]>;
  /** `patternProperties`, `additionalProperties`, `unevaluatedProperties`: may apply to any member. */
  anyMember: number[];
  /** `propertyNames`: applied to every member name. */
  names: number[];
  /** `prefixItems`: applied to the item at that index. */
  indexed: number[];
  /** `items`, `contains`, `unevaluatedItems`: may apply to any item. */
  anyItem: number[];
}

export interface SchemaGraph {
  /** Node 0 is the root. */
  nodes: SchemaNode[];
  /** Every `pattern` and `patternProperties` key, with where it is. */
  patterns: Array<{ pattern: string; path: string }>;
  problems: SchemaProblem[];
}

/** Deepest nesting of a schema document accepted. */
export const MAX_SCHEMA_DEPTH = 64;
/** `uniqueItems` compares every pair of items unless they are all of one scalar type. */
export const MAX_UNIQUE_OBJECT_ITEMS = 100;

const DRAFT_2020_12 = /^https?:\/\/json-schema\.org\/draft\/2020-12\/schema#?$/;
const SINGLE = [
  'not',
  'if',
  'then',
  'else',
  'additionalProperties',
  'unevaluatedProperties',
  'propertyNames',
  'items',
  'contains',
  'unevaluatedItems',
] as const;
const LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'] as const;
const MAPS = ['properties', 'patternProperties', 'dependentSchemas', '$defs', 'definitions'] as const;
const IN_PLACE = new Set(['not', 'if', 'then', 'else', 'allOf', 'anyOf', 'oneOf', 'dependentSchemas']);
const SCALAR_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null']);

type Json = Record<string, unknown>;

const escapeToken = (token: string) => token.replace(/~/g, '~0').replace(/\//g, '~1');
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON values in `value`, counted the way deep-equal walks them: what an enum or const entry costs. */
function weight(value: unknown): number {
  if (Array.isArray(value)) return value.reduce<number>((n, v) => n + weight(v), 1);
  if (isObject(value)) return Object.values(value).reduce<number>((n, v) => n + weight(v), 1);
  return 1;
}

/**
 * One application of a subschema: 1, plus what its list-valued keywords add (Ajv checks each enum
 * value in turn, each required name, each named property's presence; eight such comparisons count
 * as one unit), plus 3 for each regular expression it runs on a value (`format`, `pattern`, each
 * `patternProperties` key), measured at about four simple checks each.
 */
function selfCost(schema: unknown): number {
  if (!isObject(schema)) return 1;
  const length = (v: unknown) => (Array.isArray(v) ? v.length : 0);
  const keys = (v: unknown) => (isObject(v) ? Object.keys(v).length : 0);
  let cheap = 0;
  if (Array.isArray(schema.enum)) cheap += schema.enum.reduce<number>((n, v) => n + weight(v), 0);
  if ('const' in schema) cheap += weight(schema.const);
  cheap += length(schema.required) + keys(schema.properties);
  if (isObject(schema.dependentRequired)) cheap += Object.values(schema.dependentRequired).reduce<number>((n, v) => n + length(v), 0);
  const expressions = ('format' in schema ? 1 : 0) + ('pattern' in schema ? 1 : 0) + keys(schema.patternProperties);
  return 1 + Math.ceil(cheap / 8) + 3 * expressions;
}

/** Builds the graph and reports what is refused before any analysis of cost. */
export function buildSchemaGraph(schema: unknown, root = 'schema'): SchemaGraph {
  const nodes: SchemaNode[] = [];
  const ids = new Map<string, number>();
  const anchors = new Map<string, number>();
  const refs: Array<{ from: number; ref: string; path: string }> = [];
  const patterns: Array<{ pattern: string; path: string }> = [];
  const problems: SchemaProblem[] = [];
  const problem = (path: string, message: string) => void problems.push({ path, message });

  // Every subschema first, iteratively (a 64 KB document can nest deeper than the call stack).
  const pending: Array<{
    value: unknown;
    pointer: string;
    path: string;
    depth: number;
    parent?: { id: number; keyword: string; key?: string; index?: number };
  }> = [{ value: schema, pointer: '', path: root, depth: 0 }];
  while (pending.length > 0) {
    const { value, pointer, path, depth, parent } = pending.pop()!;
    const id = nodes.length;
    nodes.push({
      pointer: `#${pointer}`,
      selfCost: selfCost(value),
      inPlace: [],
      named: [],
      anyMember: [],
      names: [],
      indexed: [],
      anyItem: [],
    });
    ids.set(pointer, id);
    if (parent) link(nodes[parent.id]!, parent, id, nodes[id]!);
    if (depth > MAX_SCHEMA_DEPTH) {
      problem(path, `nests deeper than ${MAX_SCHEMA_DEPTH} levels`);
      continue;
    }
    if (!isObject(value)) continue;
    inspect(value, path, id === 0);
    const child = (v: unknown, token: string, keyword: string, extra: { key?: string; index?: number } = {}) => {
      if (isObject(v) || typeof v === 'boolean') {
        const dotted =
          extra.key !== undefined
            ? `${path}.${keyword}.${extra.key}`
            : extra.index !== undefined
              ? `${path}.${keyword}.${extra.index}`
              : `${path}.${keyword}`;
        pending.push({ value: v, pointer: `${pointer}/${token}`, path: dotted, depth: depth + 1, parent: { id, keyword, ...extra } });
      }
    };
    for (const keyword of SINGLE) {
      if (Array.isArray(value[keyword]))
        (value[keyword] as unknown[]).forEach((v, i) => child(v, `${keyword}/${i}`, keyword, { index: i }));
      else if (keyword in value) child(value[keyword], keyword, keyword);
    }
    for (const keyword of LISTS) {
      if (Array.isArray(value[keyword]))
        (value[keyword] as unknown[]).forEach((v, i) => child(v, `${keyword}/${i}`, keyword, { index: i }));
    }
    for (const keyword of MAPS) {
      const map = value[keyword];
      if (!isObject(map)) continue;
      for (const [key, v] of Object.entries(map)) {
        if (keyword === 'patternProperties') patterns.push({ pattern: key, path: `${path}.patternProperties` });
        child(v, `${keyword}/${escapeToken(key)}`, keyword, { key });
      }
    }
    if (typeof value.$anchor === 'string') anchors.set(value.$anchor, id);
    if (typeof value.$ref === 'string') refs.push({ from: id, ref: value.$ref, path: `${path}.$ref` });
  }

  for (const { from, ref, path } of refs) {
    if (!ref.startsWith('#')) {
      problem(
        path,
        `"${ref.slice(0, 100)}" is not a reference inside this schema: only references starting with # are allowed (nothing is fetched)`,
      );
      continue;
    }
    let target: number | undefined;
    try {
      const fragment = decodeURIComponent(ref.slice(1));
      target = fragment === '' || fragment.startsWith('/') ? ids.get(fragment) : anchors.get(fragment);
    } catch {
      target = undefined;
    }
    if (target === undefined) problem(path, `"${ref.slice(0, 100)}" does not point at a subschema of this schema`);
    else nodes[from]!.inPlace.push(target);
  }
  return { nodes, patterns, problems };

  function inspect(value: Json, path: string, isRoot: boolean): void {
    for (const keyword of ['$dynamicRef', '$dynamicAnchor', '$recursiveRef', '$recursiveAnchor']) {
      if (keyword in value) problem(`${path}.${keyword}`, 'dynamic references are not supported; use $ref');
    }
    if ('$id' in value && !isRoot) problem(`${path}.$id`, '$id is accepted only at the top of the schema (a schema here is one document)');
    if ('$schema' in value && (!isRoot || typeof value.$schema !== 'string' || !DRAFT_2020_12.test(value.$schema))) {
      problem(`${path}.$schema`, 'only JSON Schema draft 2020-12 (https://json-schema.org/draft/2020-12/schema), declared at the top');
    }
    if (value.format === 'regex')
      problem(`${path}.format`, '"regex" is not accepted: it would compile every payload string as a regular expression');
    if (typeof value.pattern === 'string') patterns.push({ pattern: value.pattern, path: `${path}.pattern` });
    if (value.uniqueItems === true && !uniqueItemsBounded(value)) {
      problem(
        `${path}.uniqueItems`,
        `compares every pair of items: give "items" a scalar "type" (string, number, integer, boolean, null), or "maxItems" of at most ${MAX_UNIQUE_OBJECT_ITEMS}`,
      );
    }
  }
}

/** Ajv checks uniqueness in one pass when `items` has only scalar types, else pair by pair. */
function uniqueItemsBounded(schema: Json): boolean {
  if (typeof schema.maxItems === 'number' && schema.maxItems <= MAX_UNIQUE_OBJECT_ITEMS) return true;
  const items = schema.items;
  if (!isObject(items)) return false;
  const types = Array.isArray(items.type) ? items.type : [items.type];
  return types.length > 0 && types.every((t) => typeof t === 'string' && SCALAR_TYPES.has(t));
}

/**
 * A branch of anyOf or oneOf, or the subschema of contains, that does not match costs Ajv an error
 * object it then throws away (about 60 ns, measured): counted as 7 units more than the subschema.
 */
const MISS_COST = 7;

function link(parent: SchemaNode, edge: { keyword: string; key?: string; index?: number }, id: number, child: SchemaNode): void {
  const { keyword } = edge;
  if (keyword === 'anyOf' || keyword === 'oneOf' || keyword === 'contains') child.selfCost += MISS_COST;
  if (IN_PLACE.has(keyword)) parent.inPlace.push(id);
  else if (keyword === 'properties') parent.named.push([edge.key as string, id]);
  else if (keyword === 'patternProperties' || keyword === 'additionalProperties' || keyword === 'unevaluatedProperties')
    parent.anyMember.push(id);
  else if (keyword === 'propertyNames') parent.names.push(id);
  else if (keyword === 'prefixItems') parent.indexed[edge.index as number] = id;
  else if (keyword === 'items' || keyword === 'contains' || keyword === 'unevaluatedItems') parent.anyItem.push(id);
  // $defs and definitions hold subschemas reached only through $ref.
}
