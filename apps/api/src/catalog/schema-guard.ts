import type { RegexChecker } from './regex-check';
import { costProblem } from './schema-cost';
import { compileSchema, SchemaCompileError, type CompiledSchema } from './schema-compiler';
import { buildSchemaGraph, type SchemaProblem } from './schema-graph';

/** Largest schema accepted: its JSON, without insignificant whitespace. */
export const MAX_SCHEMA_BYTES = 64 * 1024;

export type GuardResult = { ok: true; compiled: CompiledSchema } | { ok: false; problems: SchemaProblem[] };

/**
 * Everything a schema must pass before it is stored, cheapest first: a JSON Schema object of at
 * most 64 KB, no reference outside itself, nothing refused outright (schema-graph.ts), every regular
 * expression proven linear (regex-check.ts), validation work bounded (schema-cost.ts), and Ajv
 * compiles it. Only then may a payload meet it.
 */
export async function guardSchema(schema: unknown, regex: RegexChecker, root = 'schema'): Promise<GuardResult> {
  if (typeof schema !== 'boolean' && (typeof schema !== 'object' || schema === null || Array.isArray(schema))) {
    return { ok: false, problems: [{ path: root, message: 'must be a JSON Schema: an object (or true/false)' }] };
  }
  const bytes = Buffer.byteLength(JSON.stringify(schema));
  if (bytes > MAX_SCHEMA_BYTES)
    return {
      ok: false,
      problems: [{ path: root, message: `is ${bytes} bytes; a schema may be at most ${MAX_SCHEMA_BYTES} bytes (64 KB)` }],
    };
  const graph = buildSchemaGraph(schema, root);
  if (graph.problems.length > 0) return { ok: false, problems: graph.problems };
  const unsafe = await regex.problems(graph.patterns.map((p) => p.pattern));
  if (unsafe.length > 0) {
    const pathOf = new Map(graph.patterns.map((p) => [p.pattern, p.path]));
    return {
      ok: false,
      problems: unsafe.map((u) => ({
        path: pathOf.get(u.pattern) ?? root,
        message: `pattern ${JSON.stringify(u.pattern.slice(0, 120))}: ${u.reason}`,
      })),
    };
  }
  const cost = costProblem(graph, root);
  if (cost) return { ok: false, problems: [cost] };
  try {
    return { ok: true, compiled: compileSchema(schema) };
  } catch (err) {
    if (err instanceof SchemaCompileError) return { ok: false, problems: [{ path: root, message: `does not compile: ${err.message}` }] };
    throw err;
  }
}
