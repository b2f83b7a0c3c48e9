import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '@hookrelay/observability';

/** An incoming X-Request-Id is kept when it is a plain token, so a caller can follow its request. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
/**
 * An ingest URL's token is the source's credential (anyone holding it may post): never logged,
 * whatever the path's case (express routes `/IN/<token>` there too), repeated slashes or
 * percent-encoding (`/%69n/<token>`).
 */
const INGEST_PATH = /^\/+in\//i;

/** The URL as it may be logged: an ingest path loses everything after `/in/`; the query stays. */
export function loggableUrl(url: string): string {
  const queryAt = url.search(/[?#]/);
  const path = queryAt < 0 ? url : url.slice(0, queryAt);
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // Not valid percent-encoding: judged as written.
  }
  if (!INGEST_PATH.test(path) && !INGEST_PATH.test(decoded)) return url;
  return `/in/[redacted]${queryAt < 0 ? '' : url.slice(queryAt)}`;
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
    const url = req.url;
    const path = url.split('?', 1)[0] ?? '';
    if (!QUIET_PATHS.has(path)) {
      res.once('close', () => {
        const fields = {
          req: { id, method: req.method, url: loggableUrl(url) },
          res: { statusCode: res.statusCode },
          responseTime: Math.round(performance.now() - started),
        };
        if (!res.writableFinished) lines.warn(fields, 'request.aborted');
        else if (res.statusCode >= 500) lines.error(fields, 'request.failed');
        else if (res.statusCode >= 400) lines.warn(fields, 'request.completed');
        else lines.info(fields, 'request.completed');
      });
    }
    next();
  };
}
