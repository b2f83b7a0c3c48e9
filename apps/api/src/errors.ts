import type { ErrorRequestHandler } from 'express';
import { ZodError } from 'zod';
import type { Logger } from '@hookrelay/observability';
import { SecretUnreadableError } from '@hookrelay/secrets';
import { StoredBytesError } from '@hookrelay/publishing';
import { ConcurrentChangeError, storedBytesHoldAt } from '@hookrelay/store';
import { COMPRESSED_BODY_MESSAGE } from './compressed-bodies';

/** An error the API answers with its own status and code: `{error: {code, message, details?}}`. */
export class AppError extends Error {
  /** Response headers the error comes with (Retry-After on a 429). */
  readonly headers?: Record<string, string>;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(message, options);
    this.headers = options?.headers;
  }
}

/**
 * The subscriber has written what it may keep within the retention period (limits.maxStoredBytes),
 * or this request would take it over: 429 with Retry-After, the time until enough of what it wrote
 * has expired for the request to fit; 413 when the request alone is over the limit (`waitMs` -1).
 */
export class StoredBytesRefusal extends AppError {
  constructor(over: { usedBytes: number; limitBytes: number; waitMs: number }) {
    const { usedBytes, limitBytes, waitMs } = over;
    const details = [
      {
        path: 'limits.maxStoredBytes',
        message: `at most ${limitBytes} bytes written within the retention period (events, their deliveries and attempts)`,
      },
    ];
    if (waitMs < 0) {
      super(
        413,
        'storage_quota_exceeded',
        `this request alone would write more than the ${limitBytes} bytes the subscriber may keep within the retention period (limits.maxStoredBytes); send less, or ask the operator to raise the limit`,
        details,
      );
      return;
    }
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
    // Its deliveries wait only once it is well over (storedBytesHoldAt); under that, only what
    // would add to it is refused.
    const held = usedBytes >= storedBytesHoldAt(limitBytes) ? ', and its deliveries wait until it is under it' : '';
    super(
      429,
      'storage_quota_exceeded',
      `storage quota exceeded: the subscriber has written ${usedBytes} of the ${limitBytes} bytes it may keep within the retention period (limits.maxStoredBytes)${held}; retry after ${retryAfter} s, when older records have expired, or ask the operator to raise the limit`,
      details,
      { headers: { 'retry-after': String(retryAfter) } },
    );
  }
}

export class NotFoundError extends AppError {
  constructor(what: string) {
    super(404, 'not_found', `${what} not found`);
  }
}

export class UnauthorizedError extends AppError {
  constructor() {
    super(401, 'unauthorized', 'missing or invalid API key (send Authorization: Bearer <key>)');
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string) {
    super(403, 'forbidden', message);
  }
}

export class ValidationError extends AppError {
  constructor(message: string, details?: Array<{ path: string; message: string }>) {
    super(400, 'validation_failed', message, details);
  }

  /** A 400 naming one field: `<path>: <message>`, with the same in its details. */
  static at(path: string, message: string): ValidationError {
    return new ValidationError(`${path}: ${message}`, [{ path, message }]);
  }
}

export class UnavailableError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(503, 'unavailable', message, undefined, options);
  }
}

/** Problems listed in one 400 at most: enough to fix a request by, and a bounded answer. */
export const MAX_REPORTED_ISSUES = 50;
/** Characters of one problem's path or message at most (zod names every unknown key in one message). */
const MAX_DETAIL_CHARS = 500;

const capped = (text: string): string => (text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS)}...` : text);

/**
 * Zod issues as the API reports them: each with a dotted path naming the field, the first
 * MAX_REPORTED_ISSUES of them. A request can make many (a record checks every entry, a strict
 * object names every unknown key), and each would be built and sent back in full.
 */
export function zodDetails(error: ZodError, root: (string | number)[] = []): Array<{ path: string; message: string }> {
  return error.issues
    .slice(0, MAX_REPORTED_ISSUES)
    .map((issue) => ({ path: capped([...root, ...issue.path].map(String).join('.') || '(body)'), message: capped(issue.message) }));
}

export function fromZod(error: ZodError, root: (string | number)[] = []): ValidationError {
  const details = zodDetails(error, root);
  const more = error.issues.length - details.length;
  const summary = details.map((d) => `${d.path}: ${d.message}`).join('; ');
  return new ValidationError(`invalid request: ${summary}`.slice(0, 1000) + (more > 0 ? ` (and ${more} more problems)` : ''), details);
}

function isRedisDown(err: unknown): boolean {
  const message = (err as Error)?.message ?? '';
  // LOADING: a restarted Redis answers this while it replays its AOF; EXECABORT and "Command aborted"
  // come from a transaction cut off by a dropped connection. OOM (maxmemory reached under
  // noeviction), READONLY (a replica during a failover), MISCONF (snapshots failing) and MASTERDOWN
  // are Redis refusing writes for now. All mean "try again shortly".
  return /Connection is closed|Stream isn't writeable|ECONNREFUSED|enableOfflineQueue|MaxRetriesPerRequest|max retries|Command timed out|Command aborted|LOADING|EXECABORT|CLUSTERDOWN|TRYAGAIN|OOM command not allowed|READONLY|MISCONF|MASTERDOWN/i.test(
    message,
  );
}

/** A 4xx that express or body-parser already assigned to an error (`status`, as http-errors sets it). */
function clientErrorStatus(err: unknown): number | undefined {
  const status = (err as { status?: unknown })?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

/** The one place errors become responses. Unknown errors are logged and answered without detail. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    let error: AppError;
    // body-parser's errors say what went wrong in `type`.
    const type = (err as { type?: string } | null)?.type;
    if (err instanceof AppError) error = err;
    else if (err instanceof ZodError) error = fromZod(err);
    else if (type === 'entity.too.large') error = new AppError(413, 'payload_too_large', 'request body is larger than 1 MB');
    else if (type === 'entity.parse.failed') error = new ValidationError('request body is not valid JSON');
    else if (type === 'encoding.unsupported') error = new AppError(415, 'unsupported_encoding', COMPRESSED_BODY_MESSAGE);
    else if (type === 'charset.unsupported') error = new AppError(415, 'unsupported_encoding', 'request body must be UTF-8 JSON');
    // The router could not decode a path parameter (`/endpoints/%zz`): the caller's mistake, not ours.
    // Found by test/reliability/input-fuzz, which got a 500 for it on every route with an id.
    // Other requests won every compare-and-set of the record (a burst of PATCHes to one endpoint):
    // the change was not made, and trying again is the client's call, not a fault to alert on.
    // A replay (or another write outside the publish route) that would take its subscriber over
    // the bytes it may keep: nothing was written.
    else if (err instanceof StoredBytesError) error = new StoredBytesRefusal(err);
    else if (err instanceof ConcurrentChangeError)
      error = new AppError(409, 'conflict', `${err.record} ${err.id} is being changed by other requests; try again`);
    else if (err instanceof URIError) error = new AppError(400, 'invalid_path', 'request path is not valid percent-encoding');
    else if (err instanceof SecretUnreadableError) {
      // Loud for the operator (which record, which field, which key); the caller learns only that
      // the secret this route needs cannot be read, not the deployment's key ids.
      logger.error(
        {
          record: err.context.record,
          recordId: err.context.recordId,
          field: err.context.field,
          keyId: err.keyId,
          reason: err.reason,
          err: err.message,
        },
        'secret.unreadable',
      );
      error = new AppError(
        500,
        'secret_unreadable',
        `a stored secret of this ${err.context.record} cannot be decrypted; the operator must restore its encryption key (see the service log)`,
      );
    } else if (isRedisDown(err)) error = new UnavailableError('storage is unavailable; try again shortly', { cause: err });
    else if (clientErrorStatus(err)) error = new AppError(clientErrorStatus(err) as number, 'bad_request', 'the request could not be read');
    else {
      logger.error({ err }, 'request.failed');
      error = new AppError(500, 'internal', 'internal error');
    }
    if (error.status >= 500 && error.status !== 500)
      logger.warn({ code: error.code, cause: (error.cause as Error)?.message }, 'request.unavailable');
    if (error.headers) res.set(error.headers);
    res
      .status(error.status)
      .json({ error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } });
  };
}
