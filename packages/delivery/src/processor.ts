import type {
  AdmittedDeliveryRef,
  AttemptErrorKind,
  AttemptRecord,
  DeliveryRecord,
  DeliveryState,
  EarlierVersionJobData,
  Endpoint,
  StoredEvent,
} from '@hookrelay/contracts';
import { statusClass, type HookrelayMetrics, type Logger } from '@hookrelay/observability';
import { deliveryIdOf, type DeliveryJob } from '@hookrelay/queue';
import { SecretUnreadableError } from '@hookrelay/secrets';
import type { AttemptScheduling, LaneClass, LaneMove, Store } from '@hookrelay/store';
import type { Dispatcher } from 'undici';
import { sendAttempt } from './attempt-send';
import type { AuthenticatedSender } from './auth/authenticated-send';
import { authSecretHeaderNames } from './auth/static-auth';
import { classifyResponse, type Classification } from './classify';
import type { EndpointGuard } from './endpoint-guard';
import type { EndpointSource } from './endpoint-cache';
import { redactHeaders } from './prepare';
import { retryDelayMs } from './retry-delay';
import type { AddressSlots } from './scheduling/address-slots';
import type { Slots } from './scheduling/slots';
import type { ParsedEvents } from './parsed-events';
import type { SchemeBodies } from './scheme-bodies';
import type { SendResult } from './send';
import type { TlsHandshakeBudget } from './ssrf/tls-handshake-budget';

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
  /** The shortest wait between two automatic attempts of a delivery (retry-delay.ts). @defaultValue DEFAULT_MIN_RETRY_INTERVAL_MS */
  minRetryIntervalMs?: number;
  /** Keeps endpoint health and disables endpoints that are gone or keep failing. */
  guard?: EndpointGuard;
  /** Caps attempts in flight per receiver address; over the cap the delivery is parked in its lane. */
  addressSlots?: AddressSlots;
  /** The lane whose jobs this processor runs. @defaultValue 'fast' */
  lane?: LaneClass;
  /** Deliveries sending at once in this lane of this worker; unbounded when not given. */
  slots?: Slots;
  /** Pace rules: an attempt that times out or takes this long counts as slow. @defaultValue 3000 */
  slowAttemptMs?: number;
  /** The longest a parked endpoint sleeps if the worker that parked it never wakes it. @defaultValue 30000 */
  parkMs?: number;
  /** Bodies made once per event (re-serialised for x-signature, large payloads as bytes; shared by the worker's lanes). */
  bodies?: SchemeBodies;
  /**
   * The per-subscriber bound on failed TLS handshakes in this process (told by the dispatcher how
   * each handshake ended); none: not bounded.
   */
  tlsHandshakes?: TlsHandshakeBudget;
  /** Events read for earlier attempts (shared by the worker's lanes): a fan-out's event is read from Redis once. */
  events?: ParsedEvents;
}

/** Where one attempt left the delivery. */
type Decision = { state: 'delivered' } | { state: 'retrying'; delayMs: number } | { state: 'failed'; reason: string };

/** A job as the processor reads it. */
type ProcessedJob = Pick<DeliveryJob, 'id' | 'data' | 'timestamp'>;

/**
 * Runs a job: one attempt of each delivery in it (one endpoint's turn in the fair order), side by
 * side: prepareDelivery -> sendRequest -> classifyResponse -> recordAttempt, which also moves each
 * delivery on in the scheduler (out of it, or into the due set for its next attempt). A job always
 * completes, whatever the attempts' outcomes. Before sending, a delivery whose ticket is no longer
 * the job's (BullMQ handed the job out again after the delivery had moved on) is left alone, and
 * one whose receiver address is at this worker's cap is parked back in its lane without an attempt.
 * Only a failure outside the attempts (Redis unreachable) throws, for BullMQ to run the job again:
 * the deliveries recorded meanwhile have new tickets and are not sent twice.
 */
export function createDeliveryProcessor(deps: ProcessorDeps) {
  const attemptDelivery = createAttempter(deps);

  async function processOne(ref: AdmittedDeliveryRef, endpointId: string, createdAt: number): Promise<void> {
    const { id, ticket } = ref;
    const held = deps.events?.get(ref.eventId);
    const { delivery, event, entry, endpointVersion } = await deps.store.deliveries.loadForAttempt({
      deliveryId: id,
      eventId: ref.eventId,
      endpointId,
      createdAt,
      heldEvent: held,
    });
    if (event && !held) deps.events?.keep(event);
    if (entry?.ticket !== ticket) return;
    if (!delivery) {
      // Neither a record nor the event: both outlived their retention while the delivery waited.
      // info: a subscriber's own configuration makes these (a rate limit far below its backlog,
      // deliveries held over its storage quota), one a delivery, and they page no one.
      deps.logger.info({ deliveryId: id }, 'delivery.expired');
      await deps.store.lanes.forget(id, ticket);
      return;
    }
    // A delivery that ended while this job waited (its endpoint was disabled) is not sent again;
    // only a person's explicit retry may.
    if (!ref.manual && (delivery.state === 'delivered' || delivery.state === 'failed')) {
      await deps.store.lanes.forget(id, ticket);
      return;
    }
    // Never a copy older than the endpoint as this attempt's own read saw it (a change made before it).
    const endpoint = await deps.endpoints
      .get(endpointId, endpointVersion)
      .catch<typeof UNREADABLE>((err: unknown) => unreadableOrThrow(deps, endpointId, err));
    await attemptDelivery({ delivery, event, endpoint, manual: ref.manual === true, ticket, jobId: `${id}-${ticket}` });
  }

  return async function processJob(job: ProcessedJob): Promise<void> {
    const data = job.data;
    if (!('deliveries' in data)) return adoptQueuedByEarlierVersion(deps, { ...job, data });
    const results = await Promise.allSettled(data.deliveries.map((ref) => processOne(ref, data.endpointId, job.timestamp)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
}

export interface AttemptInput {
  delivery: DeliveryRecord;
  event: StoredEvent | null;
  endpoint: Endpoint | null | typeof UNREADABLE;
  /** A person's retry (or a test send): one attempt, whatever the retry policy says. */
  manual: boolean;
  /** The scheduler ticket and job the attempt was admitted under; absent for a send made on the spot. */
  ticket?: number;
  jobId?: string;
}

/**
 * One attempt, recorded: prepareDelivery -> sendRequest -> classifyResponse -> recordAttempt.
 * With a ticket the attempt moves the delivery on in the scheduler and first takes a slot on the
 * receiver's address (or parks the delivery when this worker has none free; sendAttempt says what
 * it holds when); without one (a test send) it only records.
 */
export function createAttempter(deps: ProcessorDeps): (input: AttemptInput) => Promise<void> {
  // The per-attempt line carries ids and numbers only; skipping the redaction pass saves ~20 us a delivery.
  const attemptLog = deps.logger.child({}, { redact: [] });
  const slowAttemptMs = deps.slowAttemptMs ?? 3000;
  return async ({ delivery, event, endpoint, manual, ticket, jobId }) => {
    const attempt = delivery.attempts + 1;
    const blocker = blockerOf(event, endpoint);
    if (blocker) return finishWithoutSending(deps, delivery, attempt, blocker, ticket);
    const live = endpoint as Endpoint;
    const liveEvent = event as StoredEvent;

    const sending = await sendAttempt(deps, { endpoint: live, event: liveEvent, delivery, attempt, ticket, jobId });
    if (sending === 'parked') return;
    const { result, request: sent, startedAt } = sending;
    const classification = classifyResult(result, deps.now());
    const decision = decide(classification, live, attempt, manual, deps);

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
    const { streak, laneMove, countedElsewhere, retryDropped } = await deps.store.deliveries.recordAttempt(
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
      ticket === undefined ? undefined : { ticket, lane: deps.lane ?? 'fast', pace: paceOf(result, slowAttemptMs) },
    );
    // A retry asked for after the delivery had ended is not made: counted and logged as the history keeps it.
    observe(
      deps,
      attemptLog,
      liveEvent,
      delivery,
      retryDropped ? { ...record, outcome: 'failed' } : record,
      decision,
      result,
      countedElsewhere,
    );
    if (laneMove) reportLaneMove(deps, live, laneMove, result);
    if (deps.guard && (record.statusCode === 410 || streak.consecutiveFailures > 0)) {
      // Disabling is bookkeeping: a failure here must not turn a recorded outcome into a retry.
      await deps.guard
        .afterAttempt(live, { statusCode: record.statusCode, final, streak })
        .catch((err: unknown) => deps.logger.error({ err, endpointId: live.id }, 'endpoint.guard_failed'));
    }
  };
}

/** 'slow' counts towards the slow lane, 'prompt' back towards the fast one; our own failures count for neither. */
function paceOf(result: SendResult, slowAttemptMs: number): AttemptScheduling['pace'] {
  if (result.kind === 'error' && result.errorKind === 'internal') return '';
  if (result.kind === 'error' && (result.errorKind === 'timeout' || result.timedOut)) return 'slow';
  // A name that kept its lookup waiting is slow; a failure answered from the cache says nothing of
  // the endpoint's pace (counted as prompt, it would move a silent name back to the fast lane), nor
  // does the time its lookup waited for a place behind other subscribers' lookups (dnsQueuedMs):
  // counted, two subscribers' silent names moved a third's prompt receiver to the slow lane. The
  // same for its OAuth token host's lookup, which fails the attempt as an auth failure.
  if (result.kind === 'error' && (result.errorKind === 'dns' || result.dnsQueuedMs !== undefined))
    return result.durationMs - (result.dnsQueuedMs ?? 0) >= slowAttemptMs ? 'slow' : '';
  return result.durationMs >= slowAttemptMs ? 'slow' : 'prompt';
}

function reportLaneMove(deps: ProcessorDeps, endpoint: Endpoint, move: NonNullable<LaneMove>, result: SendResult): void {
  const lane = move === 'to_slow' ? 'slow' : 'fast';
  deps.metrics.laneChanges.inc({ lane });
  const fields = {
    endpointId: endpoint.id,
    subscriberId: endpoint.subscriberId,
    lane,
    lastDurationMs: result.durationMs,
    lastErrorKind: result.kind === 'error' ? result.errorKind : null,
  };
  if (lane === 'slow') deps.logger.warn(fields, 'endpoint.lane_changed');
  else deps.logger.info(fields, 'endpoint.lane_changed');
}

/**
 * A job queued by a version before the scheduler (no ticket): its delivery joins its endpoint's
 * lane, unless it has ended, and the job completes. The scheduler attempts it from there.
 */
async function adoptQueuedByEarlierVersion(
  deps: ProcessorDeps,
  job: Pick<ProcessedJob, 'timestamp'> & { data: EarlierVersionJobData },
): Promise<void> {
  const id = deliveryIdOf(job.data);
  const { delivery } = await deps.store.deliveries.loadForAttempt({
    deliveryId: id,
    eventId: job.data.eventId,
    endpointId: job.data.endpointId,
    createdAt: job.timestamp,
  });
  if (!delivery) return;
  if (!job.data.manual && (delivery.state === 'delivered' || delivery.state === 'failed')) return;
  await deps.store.lanes.adopt(delivery, job.data.manual === true);
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
  deps.logger.error(
    { endpointId, field: err.context.field, keyId: err.keyId, reason: err.reason, err: err.message },
    'endpoint.secret_unreadable',
  );
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

function decide(
  c: Classification,
  endpoint: Endpoint,
  attempt: number,
  manual: boolean,
  deps: Pick<ProcessorDeps, 'random' | 'minRetryIntervalMs'>,
): Decision {
  if (c.kind === 'delivered') return { state: 'delivered' };
  if (c.kind === 'permanent') return { state: 'failed', reason: c.reason };
  // A retry asked for by a person is one attempt; the policy's budget is for automatic retries.
  if (manual || attempt > endpoint.retry.maxRetries) return { state: 'failed', reason: `gave up after ${attempt} attempts` };
  return {
    state: 'retrying',
    delayMs: retryDelayMs(endpoint.retry, attempt + 1, c.retryAfterMs, deps.random, deps.minRetryIntervalMs),
  };
}

/** An attempt that could not be made (endpoint gone or disabled, event expired) still ends the delivery visibly. */
async function finishWithoutSending(
  deps: ProcessorDeps,
  delivery: DeliveryRecord,
  attempt: number,
  kind: AttemptErrorKind,
  ticket: number | undefined,
): Promise<void> {
  const record: AttemptRecord = { attempt, startedAt: deps.now(), durationMs: 0, outcome: 'failed', errorKind: kind, requestHeaders: {} };
  const scheduling = ticket === undefined ? undefined : ({ ticket, lane: deps.lane ?? 'fast', pace: '' } as const);
  const { countedElsewhere } = await deps.store.deliveries.recordAttempt(
    delivery,
    record,
    { state: 'failed', attempts: attempt, lastErrorKind: kind, failureReason: kind },
    undefined,
    scheduling,
  );
  // A disable may have ended it (and counted it) while this ran: its endpoint is disabled.
  if (!countedElsewhere) deps.metrics.deliveries.inc({ outcome: kind === 'endpoint_disabled' ? 'disabled' : 'failed' });
  deps.logger.info(
    { deliveryId: delivery.id, eventId: delivery.eventId, endpointId: delivery.endpointId, reason: kind },
    'delivery.abandoned',
  );
}

function observe(
  deps: ProcessorDeps,
  attemptLog: Logger,
  event: StoredEvent,
  delivery: DeliveryRecord,
  record: AttemptRecord,
  decision: Decision,
  result: SendResult,
  /** The delivery's end was counted by whoever ended it meanwhile or recorded this attempt first: the attempt counts, not an end. */
  countedElsewhere: boolean,
): void {
  const state: DeliveryState = decision.state;
  const errorKind = result.kind === 'error' ? result.errorKind : undefined;
  deps.metrics.deliveryAttempts.inc({ outcome: record.outcome, status_class: statusClass(record.statusCode, errorKind) });
  deps.metrics.attemptDuration.observe(result.durationMs / 1000);
  // An end already counted by the disable that made it (EndpointGuard) or by the job that recorded this attempt first is not counted again.
  if (!countedElsewhere && state === 'delivered') {
    deps.metrics.deliveries.inc({ outcome: 'delivered' });
    deps.metrics.endToEnd.observe(Math.max(deps.now() - event.createdAt, 0) / 1000);
  } else if (!countedElsewhere && state === 'failed') {
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
