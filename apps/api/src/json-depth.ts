import type { RequestHandler } from 'express';
import { ValidationError } from './errors';

/**
 * How deep a published payload may nest (objects and arrays; `{"a":[1]}` is 2 levels). 64 is what
 * common JSON tooling accepts (Go's and Python's encoders and many parsers stop far below their
 * stack limit; Jackson's default is deeper, but every receiver must take what we send). Deeper
 * payloads were worse than useless: they reached a stack overflow in JSON.stringify (a 500) or in
 * the worker's Python-style serializer (a delivery that could never be sent).
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Any JSON request body: a payload's 64 levels plus room for the envelope around it (a batch is
 * `{"events":[{"payload": ...}]}`), so the payload check below is the one that names the field.
 * Everything else a route parses (zod, JSON.stringify, deep equality) then runs on bounded input.
 */
export const MAX_BODY_DEPTH = 2 * MAX_JSON_DEPTH;

/**
 * Whether `value` nests deeper than `limit` levels. Iterative (an explicit stack, never the call
 * stack) and linear in the value's size, and it stops at the first path that goes too deep, so it
 * is safe on anything JSON.parse returns (which is itself iterative in V8: it parses 500,000
 * levels without trouble, while JSON.stringify overflows at a few thousand).
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  const stack: Array<[object, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [object, number];
    if (depth > limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

export function tooDeepMessage(): string {
  return `nested deeper than ${MAX_JSON_DEPTH} levels (the limit for JSON payloads)`;
}

/** A 400 naming the field whose value nests too deeply. */
export function tooDeepError(path: string): ValidationError {
  return new ValidationError(`${path}: ${tooDeepMessage()}`, [{ path, message: tooDeepMessage() }]);
}

/** Refuses, after express.json, a body that nests deeper than MAX_BODY_DEPTH, before any route reads it. */
export function limitBodyDepth(): RequestHandler {
  return (req, _res, next) => {
    if (!nestsDeeperThan(req.body, MAX_BODY_DEPTH)) return next();
    const message = `nested deeper than ${MAX_BODY_DEPTH} levels (payloads: at most ${MAX_JSON_DEPTH} levels)`;
    next(new ValidationError(`request body is ${message}`, [{ path: '(body)', message }]));
  };
}
