import { HOP_BY_HOP_HEADER_NAMES, signingSecrets, type DeliveryRecord, type Endpoint, type StoredEvent } from '@hookrelay/contracts';
import { bodyForScheme, signatureHeaders } from '@hookrelay/signing';
import { applyPreparedAuth } from './auth/request-auth';
import type { SchemeBodies } from './scheme-bodies';
import type { OutboundRequest } from './send';

export interface PrepareOptions {
  userAgent: string;
  nowMs: number;
  /** The worker's bodies (re-serialised for x-signature, large payloads as bytes), made once per event. @defaultValue made for this attempt */
  bodies?: SchemeBodies;
}

/** Header names whose values are credentials: kept out of stored history. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'x-amz-security-token']);

/**
 * Builds attempt `attempt` of a delivery: the body (re-serialized for Zenduty's scheme), our
 * metadata headers, the endpoint's custom headers, then the signature, which custom headers may
 * not override (the contracts schema refuses those names), then the endpoint's auth: static
 * headers (basic, api-key, bearer) or, last of all, the AWS SigV4 signature over the whole request.
 * OAuth and Digest need the network and are added by the send step (auth/authenticated-send.ts).
 */
export function prepareDelivery(
  endpoint: Endpoint,
  event: StoredEvent,
  delivery: Pick<DeliveryRecord, 'id'>,
  attempt: number,
  opts: PrepareOptions,
): OutboundRequest {
  const body = opts.bodies ? opts.bodies.bodyFor(endpoint.signature, event) : bodyForScheme(endpoint.signature, event.payload);
  const headers: Record<string, string> = {
    ...sendableCustomHeaders(endpoint.headers),
    'content-type': 'application/json',
    'user-agent': opts.userAgent,
    'x-hookrelay-event-id': event.id,
    'x-hookrelay-event-type': event.type,
    'x-hookrelay-delivery-id': delivery.id,
    'x-hookrelay-attempt': String(attempt),
  };
  const signed = signatureHeaders(endpoint.signature, {
    eventId: event.id,
    timestampSeconds: Math.floor(opts.nowMs / 1000),
    body,
    secrets: signingSecrets(endpoint, opts.nowMs),
  });
  const request = { url: endpoint.url, headers: { ...headers, ...signed }, body, timeoutMs: endpoint.timeoutMs };
  return applyPreparedAuth(request, endpoint, opts.nowMs);
}

/**
 * An endpoint's custom headers less hop-by-hop and framing ones, which registration refuses but an
 * endpoint stored before that rule may hold (an `Expect` made every attempt fail). The same object
 * when there is nothing to drop: this runs on every attempt.
 */
function sendableCustomHeaders(headers: Endpoint['headers']): Endpoint['headers'] {
  let out: Endpoint['headers'] | undefined;
  for (const name in headers) {
    if (!HOP_BY_HOP_HEADER_NAMES.has(name.toLowerCase())) continue;
    out ??= { ...headers };
    delete out[name];
  }
  return out ?? headers;
}

/** Request headers as they may be stored and shown: credentials replaced, the rest kept. */
export function redactHeaders(headers: Record<string, string>, extraSecretNames: readonly string[] = []): Record<string, string> {
  // Runs on every attempt: no Set built per call, names lowered once.
  const extra = extraSecretNames.length === 0 ? extraSecretNames : extraSecretNames.map((n) => n.toLowerCase());
  const out: Record<string, string> = {};
  for (const name in headers) {
    const lower = name.toLowerCase();
    out[name] = CREDENTIAL_HEADERS.has(lower) || extra.includes(lower) ? '[redacted]' : (headers[name] as string);
  }
  return out;
}
