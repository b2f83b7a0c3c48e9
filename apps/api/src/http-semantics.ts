import type { Express, RequestHandler } from 'express';
import { AppError } from './errors';

/** Media types the JSON routes read: application/json and the structured `+json` suffix. */
export const JSON_MEDIA_TYPES = ['application/json', 'application/*+json'];

/**
 * A request body on a JSON route must say it is JSON. Without this a form post (`curl -d` sends
 * application/x-www-form-urlencoded) or a body with no Content-Type is left unparsed and answered
 * with a 400 about missing fields, which sends the caller looking in the wrong place. A request
 * without a body (no Content-Length, or 0) is not concerned.
 */
export function requireJsonBodies(): RequestHandler {
  return (req, _res, next) => {
    const length = req.headers['content-length'];
    const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
    if (!hasBody || req.is(JSON_MEDIA_TYPES)) return next();
    const given = req.headers['content-type']
      ? `Content-Type ${JSON.stringify(req.headers['content-type'].slice(0, 100))}`
      : 'no Content-Type';
    next(new AppError(415, 'unsupported_media_type', `request body must be JSON: send Content-Type: application/json (got ${given})`));
  };
}

/** The parts of express's router this reads: each layer matches a path; a route says its methods; a mounted router has a stack. */
interface RouterLayer {
  match(path: string): false | { path: string };
  route?: { methods: Record<string, boolean | undefined> };
  handle?: { stack?: RouterLayer[] };
}

function collectMethods(stack: readonly RouterLayer[], path: string, into: Set<string>): void {
  for (const layer of stack) {
    const matched = layer.match(path);
    if (!matched) continue;
    if (layer.route) {
      for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') into.add(method.toUpperCase());
    } else if (layer.handle?.stack) {
      collectMethods(layer.handle.stack, path.slice(matched.path.length) || '/', into);
    }
  }
}

/** The methods the app's routes answer at `path` (HEAD wherever GET is), read from its router. */
export function allowedMethods(app: Express, path: string): string[] {
  const methods = new Set<string>();
  collectMethods((app.router as unknown as { stack: RouterLayer[] }).stack, path, methods);
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

/**
 * The last handler: a path the app serves with other methods is a 405 with `Allow` (RFC 9110
 * 15.5.6); any other request is a 404.
 */
export function noSuchRoute(app: Express): RequestHandler {
  return (req, _res, next) => {
    const allow = allowedMethods(app, req.path);
    if (allow.length > 0 && !allow.includes(req.method)) {
      const message = `${req.method} is not allowed here; this path accepts ${allow.join(', ')}`;
      return next(new AppError(405, 'method_not_allowed', message, undefined, { headers: { allow: allow.join(', ') } }));
    }
    next(new AppError(404, 'not_found', 'no such route'));
  };
}
