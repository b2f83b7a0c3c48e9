import { randomBytes } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import { USER_AGENT, type Endpoint, type StoredEvent } from '@hookrelay/contracts';
import {
  errorKindOf,
  prepareDelivery,
  staticAuthHeaders,
  handshakeFailureOf,
  tlsOutcomeOf,
  urlsConnectedTo,
  type AuthenticatedSender,
  type TlsHandshakeBudget,
  type TlsSendOutcome,
} from '@hookrelay/delivery';

export type VerifyMode = 'none' | 'post' | 'get' | 'challenge';

export type VerifyResult = { ok: true } | { ok: false; answered: string };

type Outbound = { dispatcher: Dispatcher; auth: Pick<AuthenticatedSender, 'send'>; tlsHandshakes?: TlsHandshakeBudget };

/**
 * The longest a verification takes, all of it (HOOKRELAY_VERIFICATION_TIMEOUT_MS's default), below
 * an endpoint's own `timeoutMs` (up to 60 s, for deliveries): the client's request and one of the subscriber's places for requests that
 * wait on receivers (receiverWaitsPerSubscriber) are held meanwhile. Webex Connect, whose test call
 * `post` is, allows any call 10 s; Web1on1 says nothing of time; 10 s is also the default timeoutMs.
 */
export const VERIFICATION_MAX_WAIT_MS = 10_000;

/**
 * Proves an endpoint is there and willing before it is stored:
 * - post: a signed test event must get a 2xx (Webex Connect's test call),
 * - get: a GET must get a 200,
 * - challenge: `GET <url>?type=subscribe&challenge=<random>` must answer exactly the challenge (Web1on1).
 * `candidate` is the endpoint to be stored (or with its new URL).
 *
 * One deadline for the whole of it, its timeoutMs but at most `maxWaitMs`: the answer comes by then
 * whatever step is running. Before, only the request had it: an OAuth token fetch ran first on its
 * own 10 s, and a connection whose TLS handshake stalled was waited for until undici's connect
 * timeout (10 s), which no abort signal reaches. Work the deadline cannot stop (a token request or
 * a connection still pending) runs on until it lets go, and `onSettled` is called then: the caller
 * keeps the subscriber's place for it until that moment, so hung verifications cannot pile up
 * beyond the places (receiverWaitsPerSubscriber). Nothing is sent to the receiver after the deadline.
 */
export async function verifyEndpoint(
  mode: VerifyMode,
  candidate: Endpoint,
  outbound: Outbound,
  nowMs: number,
  maxWaitMs = VERIFICATION_MAX_WAIT_MS,
  onSettled: () => void = () => undefined,
): Promise<VerifyResult> {
  if (mode === 'none') {
    onSettled();
    return { ok: true };
  }
  const waitMs = Math.min(candidate.timeoutMs, maxWaitMs);
  const deadline = AbortSignal.timeout(waitMs);
  const work = verifyWhenLet(mode, candidate, outbound, nowMs, waitMs, deadline);
  void work.then(onSettled, onSettled);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<VerifyResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, answered: 'no answer (timeout)' }), waitMs);
  });
  try {
    return await Promise.race([
      work.catch((err: unknown) => ({ ok: false, answered: `no answer (${errorKindOf(err, deadline)})` }) as const),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The verification once its subscriber may make it, within the same deadline: a subscriber whose
 * sends failed too many TLS handshakes lately (TlsHandshakeBudget) is not let near a host that has
 * not verified here, as each such handshake can cost this process's event loop ~227 ms.
 */
async function verifyWhenLet(
  mode: Exclude<VerifyMode, 'none'>,
  candidate: Endpoint,
  outbound: Outbound,
  nowMs: number,
  waitMs: number,
  deadline: AbortSignal,
): Promise<VerifyResult> {
  const asked = outbound.tlsHandshakes?.pass(candidate.subscriberId, urlsConnectedTo(candidate));
  // The wait for a pass (behind the subscriber's own sends) is bounded by the deadline too.
  const pass = asked ? await Promise.race([asked, untilAborted(deadline)]) : undefined;
  if (pass === 'aborted') {
    void asked?.then((late) => ('settle' in late ? late.settle({ kind: 'other' }) : undefined));
    return { ok: false, answered: 'no answer (timeout)' };
  }
  if (pass && 'waitMs' in pass) {
    const inS = Math.ceil(pass.waitMs / 1000);
    return { ok: false, answered: `not tried: this subscriber's TLS handshakes failed too often lately; try again in ${inS} s` };
  }
  let outcome: TlsSendOutcome = { kind: 'other' };
  try {
    // Waiting for the pass (behind the subscriber's own send to the same host) took from the deadline.
    if (deadline.aborted) return { ok: false, answered: 'no answer (timeout)' };
    const verified = await verifyWithin(mode, candidate, outbound, nowMs, waitMs, deadline);
    outcome = verified.outcome;
    return verified.result;
  } finally {
    pass?.settle(outcome);
  }
}

/** Resolves 'aborted' once `signal` aborts (never before). */
function untilAborted(signal: AbortSignal): Promise<'aborted'> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve('aborted');
    else signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
}

/** The verification's steps, each given what is left of `waitMs` once `deadline` has started running. */
async function verifyWithin(
  mode: Exclude<VerifyMode, 'none'>,
  candidate: Endpoint,
  outbound: Outbound,
  nowMs: number,
  waitMs: number,
  deadline: AbortSignal,
): Promise<{ result: VerifyResult; outcome: TlsSendOutcome }> {
  const { dispatcher } = outbound;
  // The candidate as it is called: every timeout below comes from its timeoutMs.
  const endpoint = { ...candidate, timeoutMs: waitMs };
  if (mode === 'post') {
    const event: StoredEvent = {
      id: `evt_verify_${randomBytes(8).toString('hex')}`,
      subscriberId: endpoint.subscriberId,
      type: 'hookrelay.verification',
      payload: JSON.stringify({ type: 'hookrelay.verification', endpointId: endpoint.id }),
      createdAt: nowMs,
    };
    const req = prepareDelivery(endpoint, event, { id: 'dlv_verification' }, 1, { userAgent: USER_AGENT, nowMs });
    // Through the endpoint's auth, OAuth and Digest included: the test call is answered like a
    // delivery. Each send gets what is left of the deadline, and none starts after it.
    const { result } = await outbound.auth.send(endpoint, req, { deadlineAt: nowMs + waitMs });
    if (result.kind === 'error') {
      return { result: { ok: false, answered: `no answer (${result.errorKind}: ${result.message})` }, outcome: tlsOutcomeOf(result) };
    }
    const answered = tlsOutcomeOf(result);
    if (result.statusCode >= 200 && result.statusCode < 300) return { result: { ok: true }, outcome: answered };
    return { result: { ok: false, answered: `HTTP ${result.statusCode} to the signed test event (a 2xx is needed)` }, outcome: answered };
  }
  const challenge = randomBytes(16).toString('hex');
  const url = new URL(endpoint.url);
  if (mode === 'challenge') {
    url.searchParams.set('type', 'subscribe');
    url.searchParams.set('challenge', challenge);
  }
  try {
    // A receiver behind basic, api-key or bearer auth checks the GET too (Web1on1 allows credentials in the URL).
    const res = await request(url, {
      method: 'GET',
      dispatcher,
      headers: { ...staticAuthHeaders(endpoint.auth), 'user-agent': USER_AGENT },
      signal: deadline,
    });
    if (mode === 'get') {
      // Only the status matters: a big or streaming body must not hold the API request open.
      discard(res.body);
      const result: VerifyResult =
        res.statusCode === 200 ? { ok: true } : { ok: false, answered: `HTTP ${res.statusCode} to GET (a 200 is needed)` };
      return { result, outcome: { kind: 'answered' } };
    }
    const body = await readAtMost(res.body, CHALLENGE_BODY_MAX_BYTES);
    if (res.statusCode === 200 && body?.trim() === challenge) return { result: { ok: true }, outcome: { kind: 'answered' } };
    return {
      result: { ok: false, answered: `HTTP ${res.statusCode} with a body that is not the challenge` },
      outcome: { kind: 'answered' },
    };
  } catch (err) {
    const result: VerifyResult = { ok: false, answered: `no answer (${errorKindOf(err, deadline)})` };
    const failure = handshakeFailureOf(err);
    return { result, outcome: failure ? { kind: 'handshake_failed', failure } : { kind: 'other' } };
  }
}

/** An echoed challenge is 32 hex characters; a body much longer than that is not one, however it ends. */
const CHALLENGE_BODY_MAX_BYTES = 1024;

/** The body as text, or null once it passes `limit` bytes (the rest is dropped with the connection). */
async function readAtMost(body: Dispatcher.ResponseData['body'], limit: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      discard(body);
      return null;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Drops a body unread with its connection. undici reports that as an 'error' event, which is expected here. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined).destroy();
}
