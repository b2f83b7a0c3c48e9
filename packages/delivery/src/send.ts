import type { Dispatcher } from 'undici';
import { RESPONSE_BODY_KEEP_BYTES, type AttemptErrorKind } from '@hookrelay/contracts';
import { ResponseLimitError } from './response-limit-error';
import { dnsQueuedMsOf } from './ssrf/host-resolver';
import { handshakeFailureOf, type TlsSendOutcome } from './ssrf/tls-handshake-budget';

export interface OutboundRequest {
  url: string;
  headers: Record<string, string>;
  /** Text (sent as UTF-8) or its bytes: a large payload is encoded once per event (SchemeBodies), not per attempt. */
  body: string | Buffer;
  timeoutMs: number;
}

type SendResponseHeaders = Record<string, string | string[] | undefined>;

export type SendResult =
  | { kind: 'response'; statusCode: number; headers: SendResponseHeaders; bodyPreview: string; durationMs: number }
  | {
      kind: 'error';
      errorKind: AttemptErrorKind;
      message: string;
      durationMs: number;
      /**
       * Of durationMs, the time a DNS lookup (the receiver's, or its OAuth token host's) waited for
       * a place in the worker's resolver (HostResolver), which says nothing of the endpoint: not
       * counted towards its pace.
       */
      dnsQueuedMs?: number;
      /**
       * The attempt ended at a deadline before its send's own: its OAuth token request timed out.
       * Slow, as a send that timed out is, whatever durationMs reads: a timer can fire a
       * millisecond or more before Date.now() shows its whole delay (libuv arms it from the time
       * its loop cached), so a 3,000 ms token timeout was recorded as 2,999 ms.
       */
      timedOut?: true;
      /**
       * Its connection (or its OAuth token request's) failed its TLS handshake: ended between TCP's
       * connect and TLS's, whatever errorKind says (`tls`, `auth`, a reset). The error the
       * dispatcher marked (markHandshakeFailed): sends that waited on one connection share it.
       */
      handshakeFailed?: object;
      /** Its OAuth token request was decided by its deadline before its connection ended: how that ends. */
      handshakeFailedLater?: Promise<object | undefined>;
    };

/**
 * The most interim (1xx) responses a request takes before its final one; the next fails the
 * attempt (`network`). 103 Early Hints and 102 Processing are legitimate, but a receiver has no
 * reason to send more than one or two, and each restarts undici's 16 KiB header limit: a receiver
 * streaming 103s until just before its deadline kept the worker parsing for the whole attempt (one
 * such connection cut another receiver's sendRequest throughput by 82%). 5 leaves room for a proxy
 * or two on the way adding their own. (An unrequested 100 Continue never gets here: undici 7 fails
 * it as a bad response.)
 */
export const MAX_INTERIM_RESPONSES = 5;

/**
 * POSTs once. The whole exchange (waiting for a connection, connecting, headers, body) shares one
 * deadline; redirects are not followed; the response body is read up to RESPONSE_BODY_KEEP_BYTES
 * and the rest is dropped with the connection, so a receiver answering with 100 MB costs us 4 KB.
 * At most MAX_INTERIM_RESPONSES interim responses are taken, and never recorded as the status.
 * (What is read in all, chunk framing included, is bounded by the dispatcher: createGuardedAgent.)
 *
 * Written on undici's `dispatch` (a handler of callbacks) rather than its `request`, which wraps
 * the same call in a body stream, an AbortSignal and a URL parse: the handler costs ~35 us less
 * per delivery, a tenth of the worker's CPU (measured with bench/README.md's profile).
 */
export function sendRequest(dispatcher: Dispatcher, req: OutboundRequest, clock: () => number = Date.now): Promise<SendResult> {
  const started = clock();
  return new Promise<SendResult>((resolve) => {
    let decided: SendResult | undefined;
    let resolved = false;
    let controller: Dispatcher.DispatchController | undefined;
    let timedOutWith: DOMException | undefined;
    let releaseTimer: NodeJS.Timeout | undefined;
    let interimResponses = 0;
    let statusCode = 0;
    let headers: SendResponseHeaders = {};
    const chunks: Buffer[] = [];
    let size = 0;

    const done = (): void => {
      if (resolved || !decided) return;
      resolved = true;
      clearTimeout(timer);
      clearTimeout(releaseTimer);
      resolve(decided);
    };
    const settle = (result: SendResult): void => {
      decided ??= result;
      done();
    };
    const fail = (err: unknown): void => {
      // Decided by the deadline while its connection was still being made: a handshake that then
      // failed is still the attempt's (TlsHandshakeBudget charges it).
      const handshakeFailed = handshakeFailureOf(err);
      if (decided?.kind === 'error' && handshakeFailed && !decided.handshakeFailed) decided = { ...decided, handshakeFailed };
      settle(failedSend(err, clock() - started));
    };
    const answer = (): void =>
      settle({
        kind: 'response',
        statusCode,
        headers,
        bodyPreview: Buffer.concat(chunks).subarray(0, RESPONSE_BODY_KEEP_BYTES).toString('utf8'),
        durationMs: clock() - started,
      });

    // The deadline decides the result at once, even while the request still waits for a socket
    // (undici is told to drop it when it gets one, onRequestStart: until then there is nothing to
    // abort). But the promise resolves only once undici has let go of the request (its end or
    // error callback): at once for a request on a socket, when its connection attempt fails for
    // one still queued (undici's connect timeout, 10 s). The caller holds its slots until then, so
    // a receiver whose connections stall cannot pile up queued requests, bodies and all, behind
    // attempts that have ended: a review measured a worker's heap growing by ~100 MB/s that way.
    const timer = setTimeout(() => {
      timedOutWith = new DOMException('delivery timed out', 'TimeoutError');
      decided ??= failedSend(timedOutWith, clock() - started);
      releaseTimer = setTimeout(done, RELEASE_WAIT_MS);
      controller?.abort(timedOutWith);
    }, req.timeoutMs);

    let target: URL;
    try {
      target = new URL(req.url);
    } catch (err) {
      fail(err);
      return;
    }
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (timedOutWith) c.abort(timedOutWith);
      },
      onResponseStart(c, status, responseHeaders) {
        if (status < 200) {
          if (++interimResponses > MAX_INTERIM_RESPONSES) {
            c.abort(new ResponseLimitError(`receiver sent more than ${MAX_INTERIM_RESPONSES} interim (1xx) responses`));
          }
          return;
        }
        statusCode = status;
        headers = responseHeaders;
      },
      onResponseData(c, chunk) {
        chunks.push(chunk);
        size += chunk.length;
        if (size > RESPONSE_BODY_KEEP_BYTES) {
          // Enough kept: answer now and let the connection go with the rest of the body.
          answer();
          c.abort(new Error('response body past the kept preview'));
        }
      },
      onResponseEnd: answer,
      onResponseError: (_c, err) => fail(err),
    };
    try {
      dispatcher.dispatch(
        {
          origin: target.origin,
          path: target.pathname + target.search,
          method: 'POST',
          headers: req.headers,
          body: req.body,
          headersTimeout: req.timeoutMs,
          bodyTimeout: req.timeoutMs,
        },
        handler,
      );
    } catch (err) {
      // Refused before dispatch (a header undici would refuse: SendableHeadersAgent; a closed
      // dispatcher): undici holds nothing.
      fail(err);
    }
  });
}

/**
 * How long past its deadline a send waits for undici to let go of its request at most: undici's
 * connect timeout (10 s) ends any wait for a connection well before, so this only guards against
 * a callback that never comes.
 */
const RELEASE_WAIT_MS = 15_000;

/** How a send ended, as its subscriber's TlsHandshakeBudget pass is told. */
export function tlsOutcomeOf(result: SendResult): TlsSendOutcome {
  if (result.kind === 'response') return { kind: 'answered' };
  if (result.handshakeFailed) return { kind: 'handshake_failed', failure: result.handshakeFailed };
  if (result.handshakeFailedLater) {
    const later = result.handshakeFailedLater.then((failure): TlsSendOutcome =>
      failure ? { kind: 'handshake_failed', failure } : { kind: 'other' },
    );
    return { kind: 'pending', later };
  }
  return { kind: 'other' };
}

const TLS_CODES = /^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|UNABLE_TO_|SELF_SIGNED|HOSTNAME_MISMATCH|ERR_OSSL)/;

function codeChain(err: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current && depth < 5; depth++) {
    const e = current as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof e.code === 'string') codes.push(e.code);
    if (typeof e.name === 'string') codes.push(e.name);
    current = e.cause;
  }
  return codes;
}

/** A send that ended in `err` after `durationMs`, with no response: classified, its message cut to 300 characters. */
export function failedSend(err: unknown, durationMs: number): SendResult {
  const dnsQueuedMs = dnsQueuedMsOf(err);
  const handshakeFailed = handshakeFailureOf(err);
  const result: SendResult = {
    kind: 'error',
    errorKind: errorKindOf(err),
    message: describe(err),
    durationMs,
    ...(handshakeFailed ? { handshakeFailed } : {}),
  };
  return dnsQueuedMs > 0 ? { ...result, dnsQueuedMs: Math.min(dnsQueuedMs, durationMs) } : result;
}

export function errorKindOf(err: unknown, signal?: AbortSignal): AttemptErrorKind {
  const codes = codeChain(err);
  if (codes.includes('ESSRFBLOCKED')) return 'ssrf_blocked';
  if (signal?.aborted || codes.some((c) => c === 'TimeoutError' || c.endsWith('_TIMEOUT') || c === 'ETIMEDOUT')) return 'timeout';
  if (codes.includes('ECONNREFUSED')) return 'connection_refused';
  if (codes.some((c) => c === 'ENOTFOUND' || c === 'EAI_AGAIN' || c === 'EAI_NONAME' || c === 'EAI_FAIL')) return 'dns';
  if (codes.some((c) => TLS_CODES.test(c))) return 'tls';
  if (codes.some((c) => c === 'ECONNRESET' || c === 'EPIPE' || c === 'UND_ERR_SOCKET' || c === 'UND_ERR_CLOSED')) return 'connection_reset';
  return 'network';
}

function describe(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string } };
  const message = e?.cause?.message ?? e?.message ?? String(err);
  return message.slice(0, 300);
}
