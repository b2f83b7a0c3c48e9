import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '@hookrelay/observability';

/** An incoming X-Request-Id is kept when it is a plain token, so a caller can follow its request. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One log line per request (method, URL, status, time), tagged with a request id that is echoed
 * as `X-Request-Id`. Probes and scrapes are not logged: they would drown everything else.
 * Authorization headers are redacted by the logger itself.
 */
export function requestLogging(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    genReqId: (req, res) => {
      const incoming = req.headers['x-request-id'];
      const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    autoLogging: { ignore: (req) => QUIET_PATHS.has((req.url ?? '').split('?')[0] ?? '') },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    customSuccessMessage: () => 'request.completed',
    customErrorMessage: () => 'request.failed',
    // Bodies are never logged: they may carry payloads and secrets. An ingest URL's token is the
    // source's credential (anyone holding it may post), so it is cut from the logged URL too.
    serializers: {
      req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url.replace(/^\/in\/[^/?#]+/, '/in/[redacted]') }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  }) as unknown as RequestHandler;
}
