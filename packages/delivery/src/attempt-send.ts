import type { DeliveryRecord, Endpoint, StoredEvent } from '@hookrelay/contracts';
import { endpointSleeper } from '@hookrelay/store';
import type { AuthenticatedSend, ReceiverSlot } from './auth/authenticated-send';
import { prepareDelivery } from './prepare';
import type { ProcessorDeps } from './processor';
import type { AddressSlots } from './scheduling/address-slots';
import type { ReleaseSlot } from './scheduling/in-flight-cap';
import { urlsConnectedTo, type TlsHandshakeBudget, type TlsPass, type TlsSendOutcome } from './ssrf/tls-handshake-budget';
import { failedSend, tlsOutcomeOf, type OutboundRequest, type SendResult } from './send';

type SendAttemptDeps = Pick<
  ProcessorDeps,
  'auth' | 'slots' | 'addressSlots' | 'store' | 'metrics' | 'logger' | 'now' | 'userAgent' | 'bodies' | 'parkMs' | 'tlsHandshakes'
>;

export interface SendAttemptInput {
  endpoint: Endpoint;
  event: StoredEvent;
  delivery: DeliveryRecord;
  attempt: number;
  /** The scheduler ticket and job the attempt was admitted under; without them (a test send) no address slot is taken. */
  ticket?: number;
  jobId?: string;
}

/** An attempt's send as it is recorded: when it began, the request sent last and what came back. */
export interface SentAttempt extends AuthenticatedSend {
  startedAt: number;
}

/**
 * The send step of an attempt, and what it holds while it waits (docs/delivery-scheduling.md):
 *
 * 1. a slot of its lane;
 * 2. the endpoint's credentials: its OAuth token, at once when cached, else fetched (with its host's
 *    DNS), holding nothing of the receiver. A token URL is the subscriber's choice and may take the
 *    token request's whole deadline: fetched in the receiver's address slot, as it was, 100
 *    endpoints of one subscriber with a token URL that never answered held every slot of a receiver
 *    other subscribers use, and their deliveries waited 48-99 s (an audit's measurement);
 * 3. a slot on the receiver's address, or the delivery is parked ('parked': no attempt);
 * 4. its rate limit's turn, then the request, signed just before it goes.
 *
 * Before all of these, a subscriber whose sends failed too many TLS handshakes lately
 * (TlsHandshakeBudget: a certificate chain that does not verify costs the worker's event loop up
 * to ~227 ms) waits before a send to a host that has not verified here: the delivery is parked
 * until its subscriber has room again, holding nothing ('parked'; a test send, which cannot wait,
 * fails as `tls` unsent). A handshake its attempt or its token request fails is its subscriber's.
 *
 * Its payload's bytes were counted against its subscriber's bound at admission (admit.lua), across
 * all workers, so an attempt never waits nor parks for them here.
 *
 * The token's wait is part of the attempt: in its duration (so a token host that keeps it waiting
 * moves the endpoint to the slow lane, as a slow receiver would) and its outcome (a token that
 * could not be had is an `auth` failure, retried by the endpoint's policy, and nothing is sent).
 */
export async function sendAttempt(deps: SendAttemptDeps, input: SendAttemptInput): Promise<SentAttempt | 'parked'> {
  const pass = deps.tlsHandshakes ? await tlsPass(deps.tlsHandshakes, deps.auth, input.endpoint) : undefined;
  if (pass && 'waitMs' in pass) return holdForTls(deps, input, pass.waitMs);
  let sent: SentAttempt | 'parked' | undefined;
  try {
    sent = await sendInSlots(deps, input);
    return sent;
  } finally {
    pass?.settle(outcomeOf(sent));
  }
}

/** The endpoint's pass: at once when nothing is to be waited for (every plain-HTTP attempt). */
function tlsPass(
  budget: TlsHandshakeBudget,
  auth: SendAttemptDeps['auth'],
  endpoint: Endpoint,
): TlsPass | Promise<TlsPass | { waitMs: number }> {
  const urls = urlsConnectedTo(endpoint);
  const untried = endpoint.auth?.type === 'oauth2-client-credentials' && auth.hasToken(endpoint) ? [endpoint.auth.tokenUrl] : [];
  return budget.passNow(endpoint.subscriberId, urls) ?? budget.pass(endpoint.subscriberId, urls, untried);
}

/** The send once its subscriber may make it: steps 1 to 4 above. */
async function sendInSlots(deps: SendAttemptDeps, input: SendAttemptInput): Promise<SentAttempt | 'parked'> {
  const { endpoint, ticket, jobId } = input;
  const releaseLaneSlot = deps.slots ? await deps.slots.take() : undefined;
  let address: AddressSlot = NO_ADDRESS_SLOT;
  try {
    const obtained = deps.auth.credentials(endpoint);
    // No await when nothing has to be fetched (no OAuth, or its token cached): every attempt's path.
    const credentials = obtained instanceof Promise ? await obtained : obtained;
    if (credentials.kind === 'failed') {
      const failed = credentials.result;
      return sentWithout(deps, input, failed, deps.now(), deps.now() - failed.durationMs);
    }
    if (jobId !== undefined) address = await takeAddressSlot(deps, endpoint, jobId);
    if ('parked' in address) return 'parked';
    if (endpoint.rateLimit && ticket !== undefined && jobId !== undefined && !('dnsError' in address)) {
      if ((await keepToRateLimit(deps, endpoint, jobId)) === 'parked') return 'parked';
    }
    const tokenWaitMs = credentials.kind === 'token' ? (credentials.waitedMs ?? 0) : 0;
    if ('dnsError' in address) {
      // A name that did not resolve (or not in time) fails the attempt as its connection would:
      // sending would only wait on the same lookup again (AuthenticatedSender looks names up too).
      const failed = failedSend(address.dnsError, tokenWaitMs + address.waitedMs);
      return sentWithout(deps, input, failed, address.askedAt, address.askedAt - tokenWaitMs);
    }
    const preparedAt = deps.now();
    const startedAt = preparedAt - tokenWaitMs;
    try {
      const request = prepare(deps, input, preparedAt);
      const sent = await deps.auth.send(endpoint, request, { credentials, receiverSlot: address.slot });
      const result = tokenWaitMs > 0 ? { ...sent.result, durationMs: sent.result.durationMs + tokenWaitMs } : sent.result;
      return { startedAt, request: sent.request, result };
    } catch (err) {
      return internalFailure(deps, input, err, startedAt);
    }
  } finally {
    if ('slot' in address) address.slot?.release();
    releaseLaneSlot?.();
  }
}

/** How a send ended, as its subscriber's TlsHandshakeBudget pass is told. */
function outcomeOf(sent: SentAttempt | 'parked' | undefined): TlsSendOutcome {
  return sent === undefined || sent === 'parked' ? { kind: 'other' } : tlsOutcomeOf(sent.result);
}

/**
 * An attempt whose subscriber must wait `waitMs` before another handshake that may fail: parked
 * until then, its endpoint asleep; a send outside the scheduler (a test send) fails unsent.
 */
async function holdForTls(deps: SendAttemptDeps, input: SendAttemptInput, waitMs: number): Promise<SentAttempt | 'parked'> {
  const { jobId, endpoint } = input;
  if (jobId !== undefined) {
    const sleepMs = deps.tlsHandshakes?.sleepMs(endpoint.subscriberId, endpoint.id, waitMs) ?? waitMs;
    if (await deps.store.lanes.park(jobId, deps.now() + sleepMs, 'tls')) deps.metrics.parked.inc({ reason: 'tls' });
    return 'parked';
  }
  const now = deps.now();
  const message = `not sent: this subscriber's TLS handshakes failed too often lately; hosts not verified lately wait ${Math.ceil(waitMs / 1000)} s`;
  return sentWithout(deps, input, { kind: 'error', errorKind: 'tls', message, durationMs: 0 }, now, now);
}

/** An attempt that ended before its request went out (no token, no address): `result`, with the request as prepared. */
function sentWithout(
  deps: SendAttemptDeps,
  input: SendAttemptInput,
  result: SendResult,
  preparedAt: number,
  startedAt: number,
): SentAttempt {
  try {
    return { startedAt, request: prepare(deps, input, preparedAt), result };
  } catch (err) {
    return internalFailure(deps, input, err, startedAt);
  }
}

function prepare(deps: SendAttemptDeps, { endpoint, event, delivery, attempt }: SendAttemptInput, nowMs: number): OutboundRequest {
  return prepareDelivery(endpoint, event, delivery, attempt, { userAgent: deps.userAgent, nowMs, bodies: deps.bodies });
}

/**
 * Our own failure (a bug, a payload the serializer cannot take): an attempt like any other,
 * retried by the endpoint's policy, so it ends instead of looping unseen.
 */
function internalFailure(deps: SendAttemptDeps, { endpoint, delivery }: SendAttemptInput, err: unknown, startedAt: number): SentAttempt {
  deps.metrics.internalErrors.inc({ stage: 'attempt' });
  deps.logger.error({ err, deliveryId: delivery.id, endpointId: endpoint.id }, 'delivery.internal_error');
  const result: SendResult = { kind: 'error', errorKind: 'internal', message: internalReason(err), durationMs: deps.now() - startedAt };
  return { startedAt, result, request: { url: endpoint.url, headers: {}, body: '', timeoutMs: endpoint.timeoutMs } };
}

/** What an attempt holds on its receiver's address before it sends. */
type AddressSlot = { slot?: ReceiverSlot } | { parked: true } | { dnsError: Error; askedAt: number; waitedMs: number; slot?: undefined };

const NO_ADDRESS_SLOT: AddressSlot = Object.freeze({});

/**
 * A slot on the endpoint's receiver address; the DNS failure when its name did not resolve (or
 * not in time: the attempt fails with it, unsent); or, when this worker has the address's share in
 * flight, `parked` after parking the delivery: back at the head of its lane, its endpoint asleep
 * until a slot frees here (or `parkMs` at the latest).
 */
async function takeAddressSlot(deps: SendAttemptDeps, endpoint: Endpoint, jobId: string): Promise<AddressSlot> {
  const slots = deps.addressSlots;
  if (!slots) return NO_ADDRESS_SLOT;
  let looked: Awaited<ReturnType<AddressSlots['lookUpReceiver']>>;
  const asked = deps.now();
  try {
    looked = await slots.lookUpReceiver(new URL(endpoint.url), endpoint.subscriberId);
  } catch {
    return NO_ADDRESS_SLOT;
  }
  // The wait is the attempt's duration: a name that never answers counts as slow (the slow lane).
  if (looked.dnsError) return { dnsError: looked.dnsError, askedAt: asked, waitedMs: deps.now() - asked };
  const release = slots.tryAcquire(looked.receiver, endpoint.subscriberId);
  if (release) return { slot: receiverSlot(slots, looked.receiver, endpoint.subscriberId, release) };
  await parkOnWorkerCap(deps, jobId, () => slots.parked(looked.receiver, endpointSleeper(endpoint.id, endpoint.subscriberId)));
  return { parked: true };
}

/**
 * Parks the delivery behind this worker's cap on its receiver's address: back at the head of its
 * lane, its endpoint asleep (`sleep` registers the wake-up with the cap) until the worker frees a
 * slot there, or `parkMs` at the latest. Nothing is registered when the delivery had moved on.
 */
async function parkOnWorkerCap(deps: SendAttemptDeps, jobId: string, sleep: () => void): Promise<void> {
  if (await deps.store.lanes.park(jobId, deps.now() + (deps.parkMs ?? 30_000))) {
    deps.metrics.parked.inc({ reason: 'address' });
    sleep();
  }
}

/** The held slot on `receiver`, which the send may give up while it waits for a fresh token and take again. */
function receiverSlot(slots: AddressSlots, receiver: string, subscriber: string, release: ReleaseSlot): ReceiverSlot {
  let held = release;
  return {
    // A ReleaseSlot called twice does nothing: the attempt's own release after a refused retake is harmless.
    release: () => held(),
    retake: () => {
      // Whatever its share: it is the same attempt. The release before its token fetch may have
      // woken another subscriber's endpoint, which finds the slot taken again and parks anew.
      const again = slots.retake(receiver, subscriber);
      if (again) held = again;
      return again !== null;
    },
  };
}

/**
 * Admission spaced a rate-limited endpoint's deliveries; this spaces their sends, which the path
 * from admission to here (queue, worker) can bunch by its jitter. The wait is that jitter: a few
 * milliseconds, held in the delivery's slot. A longer one means the limit was lowered after these
 * deliveries were admitted (to 0.01/s, 25 admitted deliveries would wait up to 40 minutes, each
 * holding a slot of the lane and of its receiver's address, which other subscribers' endpoints
 * may share): the delivery is parked until its turn instead, its endpoint asleep, holding nothing.
 */
async function keepToRateLimit(deps: SendAttemptDeps, endpoint: Endpoint, jobId: string): Promise<'send' | 'parked'> {
  const waitMs = await deps.store.lanes.sendWaitMs(endpoint.id, MAX_RATE_LIMIT_WAIT_MS);
  if (waitMs > MAX_RATE_LIMIT_WAIT_MS) {
    if (await deps.store.lanes.park(jobId, deps.now() + waitMs, 'rate')) deps.metrics.parked.inc({ reason: 'rate_limit' });
    return 'parked';
  }
  if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  return 'send';
}

/** The longest a send waits in its slot for its rate limit's turn (the path's jitter); a longer wait parks the delivery. */
export const MAX_RATE_LIMIT_WAIT_MS = 1000;

/** A short reason for an internal failure: its kind and message, never a stack or a payload. */
function internalReason(err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  return `${e.name}: ${e.message}`.slice(0, 200);
}
