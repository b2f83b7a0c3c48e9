import { UnrecoverableError, type Job } from 'bullmq';
import type { AttemptErrorKind, AttemptRecord, DeliveryJobData, DeliveryRecord, DeliveryState, Endpoint, StoredEvent } from '@hookrelay/contracts';
import { statusClass, type HookrelayMetrics, type Logger } from '@hookrelay/observability';
import { deliveryIdOf } from '@hookrelay/queue';
import { SecretUnreadableError } from '@hookrelay/secrets';
import type { Store } from '@hookrelay/store';
import type { Dispatcher } from 'undici';
import type { AuthenticatedSender } from './auth/authenticated-send';
import { authSecretHeaderNames } from './auth/static-auth';
import { classifyResponse, type Classification } from './classify';
import type { EndpointGuard } from './endpoint-guard';
import type { EndpointSource } from './endpoint-cache';
import { OriginBusyError, RetryLaterError } from './errors';
import { originOf, type OriginSlots } from './origin-slots';
import { prepareDelivery, redactHeaders } from './prepare';
import { retryDelayMs } from './retry-delay';
import type { SendResult } from './send';

export interface ProcessorDeps {
  store: Store;
  endpoints: EndpointSource;
  dispatcher: Dispatcher;
  /** Sends an attempt with the endpoint's auth; OAuth tokens and Digest nonces live in it. */
  auth: AuthenticatedSender;
  logger: Logger;
  metrics: HookrelayMetrics;
  userAgent: string;
  now: () => number;
  random?: () => number;
  /** Keeps endpoint health and disables endpoints that are gone or keep failing. */
  guard?: EndpointGuard;
  /** Caps attempts in flight per receiver origin; over the cap the job is deferred (OriginBusyError). */
  originSlots?: OriginSlots;
}

/** A deferred job comes back after about a second (0.5 to 1.5 s, so deferred jobs spread out). */
const DEFER_MS = 1000;

/** Where one attempt left the delivery. */
type Decision =
  | { state: 'delivered' }
  | { state: 'retrying'; delayMs: number }
  | { state: 'failed'; reason: string };

/**
 * Runs one attempt of one delivery: prepareDelivery -> sendRequest -> classifyResponse ->
 * recordAttempt, then tells BullMQ what comes next by returning (delivered), throwing
 * RetryLaterError (another attempt after a delay) or UnrecoverableError (failed for good).
 * OriginBusyError means no attempt was made: the receiver's origin is at its in-flight cap.
 */
export function createDeliveryProcessor(deps: ProcessorDeps) {
  // The per-attempt line carries ids and numbers only; skipping the redaction pass saves ~20 us a delivery.
  const attemptLog = deps.logger.child({}, { redact: [] });
  return async function processDelivery(job: Pick<Job<DeliveryJobData>, 'data' | 'timestamp'> & { id?: string }): Promise<void> {
    const data = job.data;
    // An automatic job's id is its delivery's (deliveryJob); a manual one's is `<id>-m<n>`. Reading
    // it spares a SHA-256 per attempt.
    const id = !data.manual && job.id ? job.id : deliveryIdOf(data);
    const { delivery, event } = await deps.store.deliveries.loadForAttempt({ deliveryId: id, eventId: data.eventId, endpointId: data.endpointId, createdAt: job.timestamp });
    if (!delivery) {
      // Neither a record nor the event: both outlived their retention while the job waited.
      deps.logger.warn({ deliveryId: id }, 'delivery.expired');
      return;
    }
    // A second job for a delivery that already ended (a duplicate add after the
    // first job was removed) must not send again; only a person's explicit retry may.
    if (!data.manual && (delivery.state === 'delivered' || delivery.state === 'failed')) return;

    const endpoint = await deps.endpoints.get(data.endpointId).catch<typeof UNREADABLE>((err: unknown) => unreadableOrThrow(deps, data.endpointId, err));
    const attempt = delivery.attempts + 1;
    const blocker = blockerOf(event, endpoint);
    if (blocker) {
      await finishWithoutSending(deps, delivery, attempt, blocker);
      throw new UnrecoverableError(blocker);
    }
    const live = endpoint as Endpoint;
    const liveEvent = event as StoredEvent;

    const origin = originOf(live.url);
    const release = deps.originSlots ? await deps.originSlots.acquire(origin) : () => undefined;
    if (!release) throw new OriginBusyError(origin, Math.round(DEFER_MS * (0.5 + (deps.random ?? Math.random)())));
    const startedAt = deps.now();
    let sending;
    try {
      const request = prepareDelivery(live, liveEvent, delivery, attempt, { userAgent: deps.userAgent, nowMs: startedAt });
      sending = await deps.auth.send(live, request);
    } finally {
      release();
    }
    const { result, request: sent } = sending;
    const classification = classifyResult(result, deps.now());
    const decision = decide(classification, live, attempt, data.manual === true, deps.random);

    const record: AttemptRecord = {
      attempt,
      startedAt,
      durationMs: result.durationMs,
      outcome: decision.state === 'delivered' ? 'delivered' : decision.state === 'retrying' ? 'retry' : 'failed',
      requestHeaders: redactHeaders(sent.headers, authSecretHeaderNames(live.auth)),
      ...(result.kind === 'response'
        ? { statusCode: result.statusCode, responseBody: result.bodyPreview }
        : { errorKind: result.errorKind, errorMessage: result.message }),
    };
    const final = decision.state === 'retrying' ? 'none' : decision.state;
    const { streak } = await deps.store.deliveries.recordAttempt(
      delivery,
      record,
      {
        state: decision.state,
        attempts: attempt,
        nextAttemptAt: decision.state === 'retrying' ? deps.now() + decision.delayMs : undefined,
        lastStatusCode: result.kind === 'response' ? result.statusCode : undefined,
        lastErrorKind: result.kind === 'error' ? result.errorKind : undefined,
        failureReason: decision.state === 'failed' ? decision.reason : undefined,
      },
      { endpointId: live.id, ok: decision.state === 'delivered', final },
    );
    observe(deps, attemptLog, liveEvent, delivery, record, decision, result);
    if (deps.guard && (record.statusCode === 410 || streak.consecutiveFailures > 0)) {
      // Disabling is bookkeeping: a failure here must not turn a recorded outcome into a retry.
      await deps.guard
        .afterAttempt(live, { statusCode: record.statusCode, final, streak })
        .catch((err: unknown) => deps.logger.error({ err, endpointId: live.id }, 'endpoint.guard_failed'));
    }

    if (decision.state === 'retrying') throw new RetryLaterError(decision.delayMs, `attempt ${attempt} failed; retrying`);
    if (decision.state === 'failed') throw new UnrecoverableError(decision.reason);
  };
}

/** An endpoint whose secrets cannot be decrypted: its deliveries end at once with `secret_unreadable`. */
const UNREADABLE: unique symbol = Symbol('secret_unreadable');

/**
 * A secret that cannot be decrypted is never silent: logged at error with the endpoint id, and the
 * delivery ends with a recorded `secret_unreadable` attempt instead of being retried forever. Other
 * endpoints are not touched.
 */
function unreadableOrThrow(deps: ProcessorDeps, endpointId: string, err: unknown): typeof UNREADABLE {
  if (!(err instanceof SecretUnreadableError)) throw err;
  deps.logger.error({ endpointId, field: err.context.field, keyId: err.keyId, reason: err.reason, err: err.message }, 'endpoint.secret_unreadable');
  return UNREADABLE;
}

function blockerOf(event: StoredEvent | null, endpoint: Endpoint | null | typeof UNREADABLE): AttemptErrorKind | null {
  if (!event) return 'event_expired';
  if (!endpoint) return 'endpoint_deleted';
  if (endpoint === UNREADABLE) return 'secret_unreadable';
  if (endpoint.status === 'disabled') return 'endpoint_disabled';
  return null;
}

function classifyResult(result: SendResult, nowMs: number): Classification {
  if (result.kind === 'response') {
    const retryAfter = result.headers['retry-after'];
    return classifyResponse(result.statusCode, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, nowMs);
  }
  // Our own policy refused the address: trying again cannot help until an operator acts.
  if (result.errorKind === 'ssrf_blocked') return { kind: 'permanent', reason: 'target address not allowed (ssrf_blocked)' };
  return { kind: 'retry' };
}

function decide(c: Classification, endpoint: Endpoint, attempt: number, manual: boolean, random?: () => number): Decision {
  if (c.kind === 'delivered') return { state: 'delivered' };
  if (c.kind === 'permanent') return { state: 'failed', reason: c.reason };
  // A retry asked for by a person is one attempt; the policy's budget is for automatic retries.
  if (manual || attempt > endpoint.retry.maxRetries) return { state: 'failed', reason: `gave up after ${attempt} attempts` };
  return { state: 'retrying', delayMs: retryDelayMs(endpoint.retry, attempt + 1, c.retryAfterMs, random) };
}

/** An attempt that could not be made (endpoint gone or disabled, event expired) still ends the delivery visibly. */
async function finishWithoutSending(deps: ProcessorDeps, delivery: DeliveryRecord, attempt: number, kind: AttemptErrorKind): Promise<void> {
  const record: AttemptRecord = { attempt, startedAt: deps.now(), durationMs: 0, outcome: 'failed', errorKind: kind, requestHeaders: {} };
  await deps.store.deliveries.recordAttempt(delivery, record, { state: 'failed', attempts: attempt, lastErrorKind: kind, failureReason: kind });
  deps.metrics.deliveries.inc({ outcome: kind === 'endpoint_disabled' ? 'disabled' : 'failed' });
  deps.logger.info({ deliveryId: delivery.id, eventId: delivery.eventId, endpointId: delivery.endpointId, reason: kind }, 'delivery.abandoned');
}

function observe(deps: ProcessorDeps, attemptLog: Logger, event: StoredEvent, delivery: DeliveryRecord, record: AttemptRecord, decision: Decision, result: SendResult): void {
  const state: DeliveryState = decision.state;
  const errorKind = result.kind === 'error' ? result.errorKind : undefined;
  deps.metrics.deliveryAttempts.inc({ outcome: record.outcome, status_class: statusClass(record.statusCode, errorKind) });
  deps.metrics.attemptDuration.observe(result.durationMs / 1000);
  if (state === 'delivered') {
    deps.metrics.deliveries.inc({ outcome: 'delivered' });
    deps.metrics.endToEnd.observe(Math.max(deps.now() - event.createdAt, 0) / 1000);
  } else if (state === 'failed') {
    deps.metrics.deliveries.inc({ outcome: 'failed' });
  }
  attemptLog.info(
    {
      eventId: event.id,
      deliveryId: delivery.id,
      endpointId: delivery.endpointId,
      attempt: record.attempt,
      status: record.statusCode ?? null,
      durationMs: record.durationMs,
      outcome: record.outcome,
      errorKind: errorKind ?? null,
    },
    'delivery.attempted',
  );
}
