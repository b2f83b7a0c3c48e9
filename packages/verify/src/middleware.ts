import type { IncomingMessage, ServerResponse } from 'node:http';
import { secretList } from './hmac';
import { verifyWebhook, WebhookVerificationError, type HookrelayWebhook, type VerifyWebhookOptions } from './verify-webhook';

export interface HookrelayWebhookOptions extends VerifyWebhookOptions {
  /**
   * The largest body read, in bytes; a larger one is answered 413 without being read further.
   * Hookrelay accepts payloads up to 1 MB; a Zenduty body may grow in Python's `\uXXXX` escapes.
   * @defaultValue 5 MiB
   */
  limitBytes?: number;
}

/** The request as the middleware leaves it for the next handler. */
export interface HookrelayRequest<Payload = unknown> extends IncomingMessage {
  /** The parsed payload (what express.json() would have set). */
  body?: Payload;
  /** The verified delivery: ids, type, attempt, payload and the raw body. */
  hookrelay?: HookrelayWebhook<Payload>;
}

export type NextFunction = (err?: unknown) => void;

const DEFAULT_LIMIT = 5 * 1024 * 1024;

class BodyTooLargeError extends Error {}

function answer(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) return;
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify({ error: { code, message } }));
}

/** The raw body: kept by an earlier parser (express.raw, express.text, a `verify` hook's `rawBody`), or read here. */
function rawBodyOf(req: IncomingMessage & { body?: unknown; rawBody?: unknown }, limit: number): Promise<Buffer> {
  if (Buffer.isBuffer(req.rawBody)) return Promise.resolve(req.rawBody);
  if (Buffer.isBuffer(req.body)) return Promise.resolve(req.body);
  if (typeof req.body === 'string') return Promise.resolve(Buffer.from(req.body, 'utf8'));
  if (req.readableEnded || (req.body !== undefined && req.complete)) {
    return Promise.reject(
      new Error(
        'hookrelayWebhook needs the raw body, but a body parser already consumed it: mount hookrelayWebhook() before express.json(), or keep the bytes with express.json({ verify: (req, _res, buf) => { req.rawBody = buf } })',
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return reject(new BodyTooLargeError());
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

/**
 * Express (or plain `node:http`) middleware for an endpoint Hookrelay delivers to: reads the raw
 * body, verifies its signature for the endpoint's scheme, and passes the request on with `req.body`
 * set to the parsed payload and `req.hookrelay` to the delivery. A bad or missing signature is
 * answered 401 (Hookrelay retries it, so a receiver whose secret is being rotated loses nothing),
 * a body that is not JSON 400, a body over `limitBytes` 413; none of them reach your handler.
 *
 * @example
 * app.post('/hooks', hookrelayWebhook({ scheme: 'x-hub-signature', secret: process.env.HOOK_SECRET }), (req, res) => {
 *   console.log(req.hookrelay.eventType, req.body);
 *   res.sendStatus(204);
 * });
 */
export function hookrelayWebhook(
  options: HookrelayWebhookOptions,
): (req: IncomingMessage, res: ServerResponse, next: NextFunction) => void {
  const limit = options.limitBytes ?? DEFAULT_LIMIT;
  // Fail at start-up, not on the first delivery, when the secret is missing.
  verifyOptions(options);
  return (req, res, next) => {
    const request = req as HookrelayRequest & { rawBody?: unknown };
    rawBodyOf(request, limit).then(
      (body) => {
        let webhook: HookrelayWebhook;
        try {
          webhook = verifyWebhook(options, { body, headers: req.headers });
        } catch (err) {
          if (!(err instanceof WebhookVerificationError)) return next(err);
          return answer(res, err.code === 'invalid_body' ? 400 : 401, err.code, err.message);
        }
        request.body = webhook.payload;
        request.hookrelay = webhook;
        next();
      },
      (err: unknown) => {
        if (!(err instanceof BodyTooLargeError)) return next(err);
        res.setHeader('connection', 'close');
        answer(res, 413, 'payload_too_large', `the body is larger than ${limit} bytes`);
      },
    );
  };
}

function verifyOptions(options: HookrelayWebhookOptions): void {
  secretList(options.secret ?? []);
  if (!['x-hub-signature', 'x-signature', 'standard-webhooks'].includes(options.scheme))
    throw new TypeError(`hookrelayWebhook: unknown scheme ${String(options.scheme)}`);
}
