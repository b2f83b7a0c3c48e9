import { request, type Dispatcher } from 'undici';
import { RESPONSE_BODY_KEEP_BYTES, type AttemptErrorKind } from '@hookrelay/contracts';

export interface OutboundRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

export type SendResult =
  | { kind: 'response'; statusCode: number; headers: Record<string, string | string[] | undefined>; bodyPreview: string; durationMs: number }
  | { kind: 'error'; errorKind: AttemptErrorKind; message: string; durationMs: number };

/**
 * POSTs once. The whole exchange (connect, headers, body) shares one deadline; redirects are not
 * followed; the response body is read up to RESPONSE_BODY_KEEP_BYTES and the rest is dropped with
 * the connection, so a receiver answering with 100 MB costs us 4 KB.
 */
export async function sendRequest(dispatcher: Dispatcher, req: OutboundRequest, clock: () => number = Date.now): Promise<SendResult> {
  const started = clock();
  // One deadline for connect, headers and body. A plain timer cleared on completion costs less than
  // AbortSignal.timeout, whose timers outlive the request.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException('delivery timed out', 'TimeoutError')), req.timeoutMs);
  const signal = controller.signal;
  try {
    const res = await request(req.url, {
      method: 'POST',
      headers: req.headers,
      body: req.body,
      dispatcher,
      signal,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
    });
    const bodyPreview = await readPreview(res.body);
    return { kind: 'response', statusCode: res.statusCode, headers: res.headers, bodyPreview, durationMs: clock() - started };
  } catch (err) {
    return { kind: 'error', errorKind: errorKindOf(err, signal), message: describe(err), durationMs: clock() - started };
  } finally {
    clearTimeout(timer);
  }
}

async function readPreview(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    chunks.push(buf);
    size += buf.length;
    if (size > RESPONSE_BODY_KEEP_BYTES) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, RESPONSE_BODY_KEEP_BYTES).toString('utf8');
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
