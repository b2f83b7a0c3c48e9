import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '@hookrelay/observability';

/** An incoming X-Request-Id is kept when it is a plain token, so a caller can follow its request. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** Bytes of a URL's path a request line keeps; the rest is replaced by a count of what was cut. */
export const MAX_LOGGED_PATH_BYTES = 512;
/** Bytes of a URL's query a request line keeps. */
export const MAX_LOGGED_QUERY_BYTES = 256;

/**
 * The request target as express routes it: path and query (without the `?`). An absolute-form
 * target (`POST http://host/in/<token> HTTP/1.1`) loses its scheme and authority, as express's
 * parseurl drops them, so the path judged below is the one that was routed.
 */
function splitTarget(url: string): { path: string; query: string | undefined } {
  let target = url;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url);
  if (scheme) {
    const rest = url.slice(scheme[0].length);
    const at = rest.search(/[/?#]/);
    target = at < 0 ? '/' : rest[at] === '/' ? rest.slice(at) : `/${rest.slice(at)}`;
  }
  const queryAt = target.search(/[?#]/);
  if (queryAt < 0) return { path: target, query: undefined };
  return { path: target.slice(0, queryAt), query: target.slice(queryAt + 1) };
}

/**
 * Whether a path is an ingest URL: its first segment is `in` whatever its case (express routes
 * `/IN/<token>` there too), repeated slashes, percent-encoding (`/%69n/<token>`) or `;` parameters.
 */
function isIngestPath(path: string): boolean {
  const firstSegment = (p: string): string => (p.replace(/^\/+/, '').split('/', 1)[0] ?? '').split(';', 1)[0]!.toLowerCase();
  const hasRest = (p: string): boolean => /^\/+[^/]*\//.test(p);
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // Not valid percent-encoding: judged as written.
  }
  return [path, decoded].some((p) => hasRest(p) && firstSegment(p) === 'in');
}

/** `text` cut to `max` bytes of UTF-8, with the count of bytes cut. */
function capBytes(text: string, max: number): string {
  const bytes = Buffer.byteLength(text);
  if (bytes <= max) return text;
  let kept = text.slice(0, max);
  while (Buffer.byteLength(kept) > max) kept = kept.slice(0, -1);
  // Not half a surrogate pair.
  if (/[\uD800-\uDBFF]$/.test(kept)) kept = kept.slice(0, -1);
  return `${kept}...[${bytes - Buffer.byteLength(kept)} bytes cut]`;
}

/**
 * The URL as it may be logged. An ingest URL's token is the source's credential (anyone holding it
 * may post), and its query can hold another (Meta's `hub.verify_token`): an ingest path is logged
 * as `/in/[redacted]`, without its query. Any other URL keeps at most MAX_LOGGED_PATH_BYTES of its
 * path and MAX_LOGGED_QUERY_BYTES of its query, so a caller without a key cannot make a line of
 * 16 KB (a request line may be as long as Node's 16 KiB header limit).
 */
export function loggableUrl(url: string): string {
  return loggableTarget(splitTarget(url));
}

function loggableTarget({ path, query }: { path: string; query: string | undefined }): string {
  if (isIngestPath(path)) return '/in/[redacted]';
  const logged = capBytes(path, MAX_LOGGED_PATH_BYTES);
  return query === undefined ? logged : `${logged}?${capBytes(query, MAX_LOGGED_QUERY_BYTES)}`;
}

/**
 * One log line per request when its response ends (method, URL, status, time), tagged with a
 * request id that is echoed as `X-Request-Id`; `request.aborted` when the client left first.
 * Probes and scrapes are not logged: they would drown everything else.
 *
 * Written here rather than with pino-http, which builds a child logger and serializes the request
 * for every request: ~30 us a publish, a twentieth of the single-publish path in `npm run bench`.
 * The line holds only the fields picked below (no headers, no bodies), so it also skips the
 * logger's redaction pass.
 */
export function requestLogging(logger: Logger): RequestHandler {
  const lines = logger.child({}, { redact: [] });
  return (req, res, next) => {
    const started = performance.now();
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('x-request-id', id);
    const target = splitTarget(req.url);
    if (!QUIET_PATHS.has(target.path)) {
      res.once('close', () => {
        const fields = {
          req: { id, method: req.method, url: loggableTarget(target) },
          res: { statusCode: res.statusCode },
          responseTime: Math.round(performance.now() - started),
        };
        // A 4xx, or a request given up on, is a warning only when a caller with a key made it (a
        // client of the operator's or a subscriber's misbehaving). Anyone on the network can make
        // 401s, 404s before a key is checked, and ingest rejections at will: info, not a page.
        const authenticated = req.principal !== undefined;
        if (!res.writableFinished) lines[authenticated ? 'warn' : 'info'](fields, 'request.aborted');
        else if (res.statusCode >= 500) lines.error(fields, 'request.failed');
        else if (res.statusCode >= 400) lines[authenticated ? 'warn' : 'info'](fields, 'request.completed');
        else lines.info(fields, 'request.completed');
      });
    }
    next();
  };
}
