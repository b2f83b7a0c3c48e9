import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Response } from 'express';
import { AppError, ValidationError } from './errors';
import { jsonShapeOf, sizeRefusal } from './json-shape';

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
 * How many levels `value` nests (`{}` is 1, a scalar 0), counted up to `cap + 1` and no further.
 * Iterative (explicit stacks, never the call stack) and linear in the value's size, so it is safe
 * on anything JSON.parse returns (which is itself iterative in V8: it parses 500,000 levels
 * without trouble, while JSON.stringify overflows at a few thousand).
 */
export function depthOf(value: unknown, cap: number): number {
  if (value === null || typeof value !== 'object') return 0;
  const nodes: object[] = [value];
  const depths: number[] = [1];
  let max = 0;
  while (nodes.length > 0) {
    const node = nodes.pop() as Record<string, unknown> | unknown[];
    const depth = depths.pop() as number;
    if (depth > max) {
      max = depth;
      if (max > cap) return max;
    }
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const child: unknown = node[i];
        if (child !== null && typeof child === 'object') {
          nodes.push(child);
          depths.push(depth + 1);
        }
      }
    } else {
      for (const key in node) {
        const child = node[key];
        if (child !== null && typeof child === 'object') {
          nodes.push(child);
          depths.push(depth + 1);
        }
      }
    }
  }
  return max;
}

/** Whether `value` nests deeper than `limit` levels (see depthOf). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  return depthOf(value, limit) > limit;
}

export function tooDeepMessage(): string {
  return `nested deeper than ${MAX_JSON_DEPTH} levels (the limit for JSON payloads)`;
}

/** A 400 naming the field whose value nests too deeply. */
export function tooDeepError(path: string): ValidationError {
  return ValidationError.at(path, tooDeepMessage());
}

const UTF8 = new Set(['utf-8', 'utf8']);

/**
 * express.json's `verify`: refuses a body that nests deeper than MAX_BODY_DEPTH, uses more than
 * MAX_BODY_KEYS distinct object keys or holds more than MAX_BODY_CONTAINERS objects and arrays, from its bytes, before JSON.parse pays for it (jsonShapeOf),
 * so no route reads such a body. Records how deep the body is (`res.locals.jsonDepth`), so a route
 * can skip checking payloads one by one when the whole body is shallow enough (bodyIsShallow).
 */
export function checkBodyShape(_req: IncomingMessage, res: ServerResponse, body: Buffer, encoding: string): void {
  // The scan reads UTF-8 bytes; body-parser would decode any `charset=utf-*` after it (UTF-16's
  // `\"` is `5C 00 22 00`, which the scan read as a string's end: a body 5,000 deep passed as 2
  // deep). JSON between systems is UTF-8 (RFC 8259, section 8.1): anything else is refused.
  if (!UTF8.has(encoding.toLowerCase())) throw new AppError(415, 'unsupported_encoding', 'request body must be UTF-8 JSON');
  const shape = jsonShapeOf(body, { maxDepth: MAX_BODY_DEPTH });
  if ('depth' in shape) {
    (res as Response).locals.jsonDepth = shape.depth;
    return;
  }
  const message =
    shape.refused === 'too_deep'
      ? `nested deeper than ${MAX_BODY_DEPTH} levels (payloads: at most ${MAX_JSON_DEPTH} levels)`
      : sizeRefusal(shape.refused);
  throw new ValidationError(`request body is ${message}`, [{ path: '(body)', message }]);
}

/** True when no payload `envelope` levels down in the request's body can nest deeper than MAX_JSON_DEPTH. */
export function bodyIsShallow(res: Response, envelope: number): boolean {
  const depth = res.locals.jsonDepth;
  return typeof depth === 'number' && depth <= MAX_JSON_DEPTH + envelope;
}
