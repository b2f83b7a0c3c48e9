import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { newId } from '@hookrelay/contracts';
import type { SourceRequestOutcome } from '@hookrelay/store';
import type { ApiDeps } from '../deps';
import { AppError, NotFoundError } from '../errors';
import { createPublisher, type PublishedEvent } from '../publish';
import { admitEvents, PublishRateError } from '../subscriber-limits';
import { payloadProblem, resolveEventType } from './event-type-template';
import { evaluateMatches, StepBudget } from './match';
import { parseBody, slackChallenge } from './payload';
import type { Source } from './source-input';
import { checkableOnGet, verifyInbound } from './verify-request';

/** Signatures are over the exact bytes, so the body is kept raw whatever its Content-Type. */
export const INGEST_BODY_LIMIT = '1mb';
const MAX_CHALLENGE_LENGTH = 1024;

interface Answer {
  status: number;
  outcome: SourceRequestOutcome;
  reason?: string;
  eventId?: string;
  /** JSON to send, or text for a challenge echo. */
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

const UNAUTHORIZED = { error: { code: 'unauthorized', message: 'unauthorized' } };

/**
 * `POST /in/:token` (and `GET` for challenge echoes): find the source, count it against the rate
 * limit, read the raw body, verify, then challenge -> parse -> matches -> type -> publish. Every
 * request that names a source is recorded in its history, whatever the outcome. Mounted before
 * express.json so the body reaches the verifier untouched.
 */
export function ingestRoutes(deps: ApiDeps): Router {
  const router = Router();
  const { store } = deps;
  const publish = createPublisher(deps);
  const readRaw = express.raw({ type: () => true, limit: INGEST_BODY_LIMIT });

  async function answer(req: Request, res: Response, source: Source, a: Answer): Promise<void> {
    const bytes = Buffer.isBuffer(req.body) ? req.body.length : 0;
    const record = { id: newId('req', deps.now()), at: deps.now(), method: req.method, status: a.status, outcome: a.outcome, bytes, ...(a.reason ? { reason: a.reason } : {}), ...(a.eventId ? { eventId: a.eventId } : {}) };
    try {
      await store.sources.recordRequest(source.id, record);
    } catch (err) {
      // An event already enqueued must still be acknowledged, or the sender retries and duplicates it.
      deps.logger.warn({ err: (err as Error).message, sourceId: source.id }, 'source.history_failed');
    }
    deps.logger.info({ sourceId: source.id, subscriberId: source.subscriberId, status: a.status, outcome: a.outcome, reason: a.reason, eventId: a.eventId }, 'source.request');
    res.set('x-content-type-options', 'nosniff');
    if (a.headers) res.set(a.headers);
    if (a.text !== undefined) res.status(a.status).type('text/plain').send(a.text);
    else res.status(a.status).json(a.json ?? {});
  }

  async function handleInbound(req: Request, source: Source, body: Buffer): Promise<Answer> {
    const nowSeconds = Math.floor(deps.now() / 1000);
    const allowNone = deps.policy.allowUnauthenticatedSources === true;
    const basicChallenge = source.verification.type === 'basic' ? { 'www-authenticate': 'Basic realm="hookrelay"' } : undefined;

    if (req.method === 'GET') {
      const challenge = req.query.challenge ?? req.query['hub.challenge'];
      if (typeof challenge !== 'string' || challenge.length === 0 || challenge.length > MAX_CHALLENGE_LENGTH) {
        return { status: 405, outcome: 'rejected', reason: 'GET without a challenge', json: { error: { code: 'method_not_allowed', message: 'send POST' } }, headers: { allow: 'GET, POST' } };
      }
      // A GET carries no body to sign: only header, basic and none verification can judge it. For the
      // signature types the echo proves only that the sender holds the URL, so it verifies nothing.
      if (!checkableOnGet(source.verification)) return { status: 200, outcome: 'ignored', reason: 'challenge answered (unsigned GET; not counted as verification)', text: challenge };
      const verdict = verifyInbound(source.verification, { headers: req.headers, body, nowSeconds }, allowNone);
      if (!verdict.ok) return { status: 401, outcome: 'rejected', reason: verdict.reason, json: UNAUTHORIZED, headers: basicChallenge };
      await store.sources.markVerified(source.id, deps.now());
      return { status: 200, outcome: 'ignored', reason: 'challenge answered', text: challenge };
    }

    const verdict = verifyInbound(source.verification, { headers: req.headers, body, nowSeconds }, allowNone);
    if (!verdict.ok) return { status: 401, outcome: 'rejected', reason: verdict.reason, json: UNAUTHORIZED, headers: basicChallenge };
    await store.sources.markVerified(source.id, deps.now());

    const parsed = parseBody(source.format, body);
    if (!parsed.ok) return { status: 400, outcome: 'rejected', reason: parsed.reason, json: { error: { code: 'invalid_body', message: parsed.reason } } };
    const challenge = source.format === 'json' ? slackChallenge(parsed.payload) : null;
    if (challenge !== null) return { status: 200, outcome: 'ignored', reason: 'url_verification challenge answered', text: challenge };

    // One step budget for everything the source's paths do with this body (see match.ts).
    const budget = new StepBudget();
    const match = evaluateMatches(source.matches, parsed.payload, budget);
    if (!match.matched) return { status: 200, outcome: 'ignored', reason: `matches: ${match.reason}`, json: { status: 'ignored' } };
    const type = resolveEventType(source.eventType, parsed.payload, budget);
    if (!type.ok) return { status: 200, outcome: 'ignored', reason: type.reason, json: { status: 'ignored' } };
    const problem = payloadProblem(type.type, parsed.payload);
    if (problem) return { status: 422, outcome: 'rejected', reason: problem, json: { error: { code: 'unprocessable', message: problem } } };

    try {
      await admitEvents(deps, source.subscriberId, 1);
    } catch (err) {
      if (!(err instanceof PublishRateError)) throw err;
      const reason = `subscriber rate limit: more than ${err.perSecond} events per second`;
      return { status: 429, outcome: 'rejected', reason, json: { error: { code: err.code, message: err.message } }, headers: err.headers };
    }
    // Standard Webhooks senders retry with the same webhook-id: publish it once.
    const webhookId = source.verification.type === 'standard-webhooks' ? req.get('webhook-id') : undefined;
    const idempotencyKey = webhookId && webhookId.length <= 200 ? `source:${source.id}:${webhookId}` : undefined;
    let event: PublishedEvent | undefined;
    try {
      [event] = await publish(source.subscriberId, [{ type: type.type, payload: parsed.payload, ...(idempotencyKey ? { idempotencyKey } : {}) }]);
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'idempotency_key_reused')) throw err;
      const reason = 'webhook-id was published before with a different body';
      return { status: 422, outcome: 'rejected', reason, json: { error: { code: 'webhook_id_reused', message: reason } } };
    }
    return { status: 202, outcome: 'published', eventId: event?.id, json: { status: 'published', eventId: event?.id } };
  }

  router.all('/in/:token', async (req: Request, res: Response, next: NextFunction) => {
    const source = await store.sources.findByToken<Source>(String(req.params.token));
    if (!source) throw new NotFoundError('source');
    if (req.method !== 'POST' && req.method !== 'GET') {
      return answer(req, res, source, { status: 405, outcome: 'rejected', reason: `method ${req.method}`, json: { error: { code: 'method_not_allowed', message: 'send POST' } }, headers: { allow: 'GET, POST' } });
    }
    const limited = await store.sources.hitRateLimit(source.id, source.rateLimit);
    if (limited) {
      const message = `more than ${limited.window === 'second' ? source.rateLimit.perSecond : source.rateLimit.perMinute} requests per ${limited.window}`;
      return answer(req, res, source, { status: 429, outcome: 'rejected', reason: `rate limit: ${message}`, json: { error: { code: 'rate_limited', message } }, headers: { 'retry-after': String(limited.retryAfterSeconds) } });
    }
    readRaw(req, res, (err?: unknown) => {
      if (err) {
        const type = (err as { type?: string }).type;
        const status = type === 'entity.too.large' ? 413 : Number((err as { status?: number }).status) || 400;
        const reason = type === 'entity.too.large' ? 'body larger than 1 MB' : `body unreadable: ${(err as Error).message}`.slice(0, 200);
        const code = status === 413 ? 'payload_too_large' : 'invalid_body';
        answer(req, res, source, { status, outcome: 'rejected', reason, json: { error: { code, message: reason } } }).catch(next);
        return;
      }
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      handleInbound(req, source, body)
        .then((a) => answer(req, res, source, a))
        .catch(next);
    });
  });

  return router;
}
