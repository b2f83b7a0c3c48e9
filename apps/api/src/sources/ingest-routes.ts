import { Router, type NextFunction, type Request, type Response } from 'express';
import { newId } from '@hookrelay/contracts';
import { SOURCE_HISTORY_EVENT_IDS } from '@hookrelay/store';
import type { ApiDeps } from '../deps';
import { AppError, NotFoundError, StoredBytesRefusal } from '../errors';
import { createPublisher } from '../publish';
import { admitEvents, PublishRateError, sourceBodiesPerSource } from '../subscriber-limits';
import type { EventInput } from '../publish';
import type { CheckOptions } from '../catalog/schema-compiler';
import { payloadProblem } from './event-type-template';
import { answerGet, isGithubPing, UNAUTHORIZED, type IngestAnswer } from './handshakes';
import { matchItems } from './match-items';
import { bodyBytesOnTheWay, bodyReadings, unreadableBody, type BodyReading } from './ingest-body';
import { parseBody, slackChallenge } from './payload';
import { claimReplayKeys, replayKeysOf } from './replay-guard';
import type { Source } from './source-input';
import { verifyInbound, type InboundRequest } from './verify-request';

/**
 * A SendGrid batch published one event per element holds at most this many. SendGrid posts up to
 * 768 KB (a few thousand events of 250+ bytes); the bound keeps a 1 MB body of `{}`s from
 * becoming a third of a million events.
 */
export const MAX_EVENTS_PER_REQUEST = 5000;

/**
 * `POST /in/:token` (and `GET` for handshakes): find the source, count it against the rate
 * limit, reserve its body's bytes (the subscriber's bodies in flight), read the raw body, verify,
 * then handshake -> parse -> matches -> type -> publish. Every
 * request that names a source is recorded in its history, whatever the outcome. Mounted before
 * express.json so the body reaches the verifier untouched.
 */
export function ingestRoutes(deps: ApiDeps): Router {
  const router = Router();
  const { store } = deps;
  const publish = createPublisher(deps);
  const bodyReadingOf = bodyReadings();

  /** Answers, and records the request in the source's history (and the log) unless `recorded` is false. */
  async function answer(req: Request, res: Response, source: Source, a: IngestAnswer, recorded = true): Promise<void> {
    if (recorded) await record(req, source, a);
    res.set('x-content-type-options', 'nosniff');
    if (a.headers) res.set(a.headers);
    if (a.text !== undefined) res.status(a.status).type('text/plain').send(a.text);
    else res.status(a.status).json(a.json ?? {});
  }

  async function record(req: Request, source: Source, a: IngestAnswer): Promise<void> {
    const bytes = Buffer.isBuffer(req.body) ? req.body.length : 0;
    const record = {
      id: newId('req', deps.now()),
      at: deps.now(),
      method: req.method,
      status: a.status,
      outcome: a.outcome,
      bytes,
      ...(a.reason ? { reason: a.reason } : {}),
      ...(a.eventId ? { eventId: a.eventId } : {}),
      ...(a.eventIds ? { eventIds: a.eventIds.slice(0, SOURCE_HISTORY_EVENT_IDS), eventCount: a.eventIds.length } : {}),
    };
    try {
      await store.sources.recordRequest(source.id, record);
    } catch (err) {
      // An event already enqueued must still be acknowledged, or the sender retries and duplicates it.
      deps.logger.warn({ err: (err as Error).message, sourceId: source.id }, 'source.history_failed');
    }
    deps.logger.info(
      {
        sourceId: source.id,
        subscriberId: source.subscriberId,
        status: a.status,
        outcome: a.outcome,
        reason: a.reason,
        eventId: a.eventId,
      },
      'source.request',
    );
  }

  /** The request as the verifiers see it; `url` is the public URL the sender called (Twilio signs it). */
  function inbound(req: Request, body: Buffer): InboundRequest {
    return {
      headers: req.headers,
      body,
      nowSeconds: Math.floor(deps.now() / 1000),
      ...(deps.publicUrl ? { url: deps.publicUrl + req.originalUrl } : {}),
    };
  }

  /**
   * Why `payload` cannot be published as `type`, or null: a type the operator defined is held to its
   * current schema and refused once archived (LiveCatalog.check, as on the publish routes);
   * `custom.*` to its bounds, as before.
   */
  async function typeProblem(type: string, payload: unknown, options?: CheckOptions): Promise<string | null> {
    const verdict = await deps.catalog.check(type, payload, options);
    if (verdict.kind === 'archived') return `event type ${type} is archived and takes no new events`;
    if (verdict.kind !== 'defined') return payloadProblem(type, payload);
    // Paths joined with dots, as the publish routes name them (a template literal joined them with commas).
    const issues = verdict.issues?.map((i) => `${i.path.map(String).join('.')}: ${i.message}`);
    return issues ? `payload: ${issues.join('; ')}`.slice(0, 200) : null;
  }

  /** The events one verified body publishes: each element of a split SendGrid array, else the body; or why none. */
  async function eventsOf(
    source: Source,
    req: Request,
    payload: unknown,
  ): Promise<{ ok: true; events: EventInput[]; skipped: string[] } | { ok: false; answer: IngestAnswer }> {
    const split = source.verification.type === 'sendgrid' && source.verification.splitEvents && Array.isArray(payload);
    const items: unknown[] = split ? (payload as unknown[]) : [payload];
    if (items.length > MAX_EVENTS_PER_REQUEST) {
      const reason = `more than ${MAX_EVENTS_PER_REQUEST} events in one request`;
      return {
        ok: false,
        answer: { status: 413, outcome: 'rejected', reason, json: { error: { code: 'payload_too_large', message: reason } } },
      };
    }
    // Matched and typed on one step budget for everything the source's paths do with this body,
    // its paths parsed once (see match-items.ts).
    const verdicts = matchItems(source, items, req.headers);
    // The catalog as of this request, for every event of it (typeProblem).
    await deps.catalog.fresh();
    const events: EventInput[] = [];
    const skipped: string[] = [];
    // Only the first element skipped has its reason recorded: every problem of it when its schema
    // refuses it, the first problem of each after it. Every refused element's whole report (up to
    // 8 KB of payload each, ~0.5-2.4 MB of Ajv's errors) was collected for the 200 characters
    // kept, ~128 of them in a 1 MB body, one synchronous stretch of the event loop every
    // subscriber shares.
    for (const verdict of verdicts) {
      if ('skipped' in verdict) {
        skipped.push(verdict.skipped);
        continue;
      }
      const { item, type } = verdict;
      const problem = await typeProblem(type, item, { firstOnly: skipped.length > 0 });
      if (problem) {
        if (!split)
          return {
            ok: false,
            answer: { status: 422, outcome: 'rejected', reason: problem, json: { error: { code: 'unprocessable', message: problem } } },
          };
        skipped.push(problem);
        continue;
      }
      events.push({ type, payload: item });
    }
    return { ok: true, events, skipped };
  }

  async function handleInbound(req: Request, source: Source, body: Buffer): Promise<IngestAnswer> {
    const allowNone = deps.policy.allowUnauthenticatedSources === true;
    const request = inbound(req, body);

    if (req.method === 'GET') {
      const handshake = answerGet(source.verification, req.query, () => verifyInbound(source.verification, request, allowNone));
      if (handshake.verified) await store.sources.markVerified(source.id, deps.now());
      return handshake.answer;
    }

    const verdict = verifyInbound(source.verification, request, allowNone);
    if (!verdict.ok) {
      return {
        status: 401,
        outcome: 'rejected',
        reason: verdict.reason,
        json: UNAUTHORIZED,
        headers: source.verification.type === 'basic' ? { 'www-authenticate': 'Basic realm="hookrelay"' } : undefined,
      };
    }
    await store.sources.markVerified(source.id, deps.now());
    if (isGithubPing(source.verification, req.headers))
      return { status: 200, outcome: 'ignored', reason: 'ping answered', json: { status: 'verified' } };

    const parsed = parseBody(source.format, body);
    if (!parsed.ok)
      return { status: 400, outcome: 'rejected', reason: parsed.reason, json: { error: { code: 'invalid_body', message: parsed.reason } } };
    const challenge = source.format === 'json' ? slackChallenge(parsed.payload) : null;
    if (challenge !== null) return { status: 200, outcome: 'ignored', reason: 'url_verification challenge answered', text: challenge };

    const found = await eventsOf(source, req, parsed.payload);
    if (!found.ok) return found.answer;
    const { events, skipped } = found;
    if (events.length === 0)
      return {
        status: 200,
        outcome: 'ignored',
        reason: skipped.length > 1 ? `all ${skipped.length} events ignored; first: ${skipped[0]}` : (skipped[0] ?? 'no events in the body'),
        json: { status: 'ignored' },
      };

    // A copy of a request already published (a replayed signature, a retried webhook-id, a repeated
    // dedupe header) is answered with the first event and not published again.
    const replay = await claimReplayKeys(store.sources, source.id, replayKeysOf(source, req.headers, verdict.replay));
    if (replay.duplicate) {
      if (replay.eventId)
        return {
          status: 200,
          outcome: 'duplicate',
          reason: replay.what,
          eventId: replay.eventId,
          json: { status: 'duplicate', eventId: replay.eventId },
        };
      return {
        status: 409,
        outcome: 'duplicate',
        reason: `${replay.what}; the first copy is still being published`,
        json: { error: { code: 'duplicate_in_progress', message: 'a copy of this request is being published; retry shortly' } },
        headers: { 'retry-after': '1' },
      };
    }
    let eventIds: string[];
    try {
      // A split SendGrid body is one transaction too: held to the batch route's limit. The
      // subscriber's publish rate is taken last, so a copy or a refused body takes none of it.
      eventIds = (
        await publish(source.subscriberId, events, {
          maxDeliveries: deps.maxBatchDeliveries,
          beforeWrite: () => admitEvents(deps, source.subscriberId, events.length),
        })
      ).map((e) => e.id);
    } catch (err) {
      // Nothing was published: the sender's retry must not be taken for a copy.
      await replay.release().catch(() => undefined);
      if (err instanceof PublishRateError) {
        const reason = `subscriber rate limit: more than ${err.perSecond} events per second`;
        return {
          status: 429,
          outcome: 'rejected',
          reason,
          json: { error: { code: err.code, message: err.message } },
          headers: err.headers,
        };
      }
      if (err instanceof StoredBytesRefusal)
        return {
          status: err.status,
          outcome: 'rejected',
          reason: `subscriber storage quota: ${err.message}`.slice(0, 300),
          json: { error: { code: err.code, message: err.message } },
          headers: err.headers,
        };
      if (err instanceof AppError && (err.code === 'batch_too_large' || err.code === 'payload_too_large'))
        return {
          status: 413,
          outcome: 'rejected',
          reason: err.message.slice(0, 300),
          json: { error: { code: err.code, message: err.message } },
        };
      throw err;
    }
    const eventId = eventIds[0];
    if (eventId) {
      await replay
        .confirm(eventId)
        .catch((err: unknown) => deps.logger.warn({ err: (err as Error).message, sourceId: source.id }, 'source.replay_confirm_failed'));
    }
    if (eventIds.length === 1 && skipped.length === 0)
      return { status: 202, outcome: 'published', eventId, json: { status: 'published', eventId } };
    const reason = skipped.length
      ? `published ${eventIds.length} of ${eventIds.length + skipped.length} events; first ignored: ${skipped[0]}`.slice(0, 300)
      : undefined;
    return { status: 202, outcome: 'published', eventId, eventIds, reason, json: { status: 'published', eventId, eventIds } };
  }

  const bodiesPerSource = sourceBodiesPerSource(deps.sourceBodiesInFlight);

  /**
   * Reserves the body bytes this request may bring against its subscriber's bound
   * (sourceBodiesInFlight) and its source's (half of that) before its body is read. The caller
   * frees them once it has handled the request, however that ended: answered, cut off by the
   * request timeout (408), its connection closed mid-body or before. Not on the response's 'close':
   * a request pipelined behind another on a connection that then closes never gets one, and one
   * whose sender left is still being verified and published, its body in memory. Over a bound, the
   * refusal (429, Retry-After) to answer instead, the body unread.
   */
  function reserveBody(req: Request, source: Source, limit: number): { release: () => void } | { refusal: IngestAnswer } {
    const bytes = bodyBytesOnTheWay(req, limit);
    if (bytes === 0) return { release: () => undefined };
    let releaseSubscriber: (() => void) | undefined;
    try {
      releaseSubscriber = deps.sourceBodiesInFlight.take(source.subscriberId, 'body', bytes);
      const releaseSource = bodiesPerSource.take(source.id, 'body', bytes);
      const fromSubscriber = releaseSubscriber;
      return {
        release: () => {
          releaseSource();
          fromSubscriber();
        },
      };
    } catch (err) {
      releaseSubscriber?.();
      if (!(err instanceof AppError)) throw err;
      // Recorded each time, as every request the rate limits let through is: they bound how many
      // there are. The subscriber's history then shows its senders refused while the bound is full.
      return {
        refusal: {
          status: err.status,
          outcome: 'rejected',
          reason: `bodies in flight: ${err.message}`,
          json: { error: { code: err.code, message: err.message } },
          headers: err.headers,
        },
      };
    }
  }

  router.all('/in/:token', async (req: Request, res: Response, next: NextFunction) => {
    const source = await store.sources.findByToken<Source>(String(req.params.token));
    if (!source) throw new NotFoundError('source');
    // Every request counts, whatever its method, before it is verified: against the source's limit
    // and, once that admits it, its subscriber's across all of its sources. Only a window's first
    // refusal is recorded (history and log): a flood of refused requests would otherwise be a Redis
    // write and a log line each.
    const limits = await deps.subscriberLimits.of(source.subscriberId);
    const limited = await store.sources.hitRateLimit(source, source.rateLimit, {
      perSecond: limits.sourceRequestsPerSecond,
      perMinute: limits.sourceRequestsPerMinute,
    });
    if (limited) {
      const message =
        limited.scope === 'source'
          ? `more than ${limited.limit} requests per ${limited.window}`
          : `more than ${limited.limit} requests per ${limited.window} to the subscriber's sources together`;
      const refusal: IngestAnswer = {
        status: 429,
        outcome: 'rejected',
        reason:
          limited.scope === 'source'
            ? `rate limit: ${message} (later refusals in this ${limited.window} are not recorded)`
            : `subscriber's source rate limit: ${message} (later refusals in this ${limited.window}, at any of its sources, are not recorded)`,
        json: { error: { code: 'rate_limited', message } },
        headers: { 'retry-after': String(limited.retryAfterSeconds) },
      };
      return answer(req, res, source, refusal, limited.first);
    }
    if (req.method !== 'POST' && req.method !== 'GET') {
      return answer(req, res, source, {
        status: 405,
        outcome: 'rejected',
        reason: `method ${req.method}`,
        json: { error: { code: 'method_not_allowed', message: 'send POST' } },
        headers: { allow: 'GET, POST' },
      });
    }
    const reading = bodyReadingOf(source, req);
    const reserved = reserveBody(req, source, reading.limit);
    if ('refusal' in reserved) return answer(req, res, source, reserved.refusal);
    try {
      await new Promise<void>((resolve) => {
        reading.read(req, res, (err?: unknown) => {
          handleRead(req, res, source, reading, err).catch(next).finally(resolve);
        });
      });
    } finally {
      reserved.release();
    }
  });

  /** Once body-parser is done with the request's body (or gave up on it): verify, publish, answer. */
  async function handleRead(req: Request, res: Response, source: Source, reading: BodyReading, err: unknown): Promise<void> {
    if (err) return answer(req, res, source, unreadableBody(err, reading));
    // A sender that closed before its body was read: body-parser then reads nothing and says
    // nothing (it takes a finished request as one already read), and the empty body would be
    // verified and, for a source whose check does not cover the body, published as an event
    // nobody sent.
    if (!Buffer.isBuffer(req.body) && !req.complete) {
      const reason = 'the sender closed the connection before its body arrived';
      return answer(req, res, source, {
        status: 400,
        outcome: 'rejected',
        reason,
        json: { error: { code: 'invalid_body', message: reason } },
      });
    }
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    return answer(req, res, source, await handleInbound(req, source, body));
  }

  return router;
}
