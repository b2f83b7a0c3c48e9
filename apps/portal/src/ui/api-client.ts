import type {
  ApiErrorBody,
  Delivery,
  DeliveryWithAttempts,
  Endpoint,
  EndpointStats,
  EventSummary,
  EventTypeInfo,
  Page,
  Source,
  SourceRequest,
  StoredEventView,
  Subscriber,
  SubscriberDetail,
  TestSendResult,
  WhoAmI,
} from '../lib/api-types';
import { busyRetryDelayMs } from '../lib/busy-retry';
import { RefusedReads } from '../lib/refused-reads';

/** An error answered by the API, kept in its own words: message, code and each detail's path. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Array<{ path: string; message: string }> = [],
    /** The answer's Retry-After header, when it had one. */
    readonly retryAfter: string | null = null,
  ) {
    super(message);
  }
}

export interface DeliveryFilter {
  endpointId?: string;
  eventType?: string;
  status?: string;
  since?: number;
  until?: number;
  cursor?: string;
  limit?: number;
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * Told when a signed-in key or session is answered 401: the portal then shows the expiry page (a
 * session link) or signs out, instead of an API error on every view.
 */
let onUnauthorized: ((key: string) => void) | null = null;

export function setUnauthorizedHandler(handler: ((key: string) => void) | null): void {
  onUnauthorized = handler;
}

/** Reads refused for the subscriber's spent work budget, held back until their Retry-After. */
const refusedReads = new RefusedReads<ApiError>();

/**
 * Every call goes to the public /v1 API on this origin with the key in the Authorization header. A
 * read refused because the subscriber's heavy listings are all running is asked again shortly
 * (busyRetryDelayMs); one refused because its work budget is spent is not asked again until the
 * API's Retry-After (RefusedReads): its polls get that refusal without a request.
 */
export async function apiRequest<T>(key: string, method: string, path: string, body?: unknown): Promise<T> {
  const held = refusedReads.heldBack(method, `${key} ${path}`, Date.now());
  if (held) throw held;
  for (let tries = 1; ; tries++) {
    try {
      return await apiRequestOnce<T>(key, method, path, body);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      refusedReads.note(
        { method, path: `${key} ${path}`, status: err.status, code: err.code, retryAfter: err.retryAfter },
        err,
        Date.now(),
      );
      const delayMs = busyRetryDelayMs({ method, status: err.status, code: err.code, retryAfter: err.retryAfter }, tries);
      if (delayMs === null) throw err;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

async function apiRequestOnce<T>(key: string, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      cache: 'no-store',
    });
  } catch (err) {
    throw new ApiError(0, 'network', `could not reach the API: ${(err as Error).message}`);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (res.status === 401) onUnauthorized?.(key);
  if (!res.ok) {
    const error = (json as ApiErrorBody | undefined)?.error;
    if (error?.message) throw new ApiError(res.status, error.code, error.message, error.details ?? [], res.headers.get('retry-after'));
    throw new ApiError(res.status, 'http_error', `the API answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
  }
  return json as T;
}

export type Api = ReturnType<typeof createApi>;

/** The calls the portal makes, for one key and one subscriber. */
export function createApi(key: string, subscriberId: string) {
  const call = <T>(method: string, path: string, body?: unknown) => apiRequest<T>(key, method, path, body);
  const sub = `/subscribers/${encodeURIComponent(subscriberId)}`;
  const ep = (eid: string) => `${sub}/endpoints/${encodeURIComponent(eid)}`;
  return {
    subscriberId,
    /** Its limits and what it uses of them: one small read. */
    getSubscriber: () => call<SubscriberDetail>('GET', sub),
    eventTypes: () => call<{ data: EventTypeInfo[] }>('GET', '/event-types'),
    listEndpoints: (cursor?: string) => call<Page<Endpoint>>('GET', `${sub}/endpoints${query({ limit: 100, cursor })}`),
    getEndpoint: (eid: string) => call<Endpoint>('GET', ep(eid)),
    createEndpoint: (body: unknown) => call<Endpoint & { secret: string }>('POST', `${sub}/endpoints`, body),
    updateEndpoint: (eid: string, body: unknown) => call<Endpoint & { secret?: string }>('PATCH', ep(eid), body),
    deleteEndpoint: (eid: string) => call<void>('DELETE', ep(eid)),
    revealSecret: (eid: string) =>
      call<{ secret: string; previousSecrets: Array<{ secret: string; expiresAt: number }> }>('GET', `${ep(eid)}/secret`),
    rotateSecret: (eid: string, graceMs: number) =>
      call<{ secret: string; previousSecrets: Array<{ secret: string; expiresAt: number }> }>('POST', `${ep(eid)}/secret/rotate`, {
        graceMs,
      }),
    /** The last 24 hours of the endpoint's attempts, counted by the API: one small read. */
    endpointStats: (eid: string) => call<EndpointStats>('GET', `${ep(eid)}/stats`),
    sendTest: (eid: string, type?: string) => call<TestSendResult>('POST', `${ep(eid)}/test`, type ? { type } : {}),
    /** `cursor`: a previous answer's `nextCursor` for the same `since`, to go on where its scan stopped. */
    recover: (eid: string, since: number, cursor?: string) =>
      call<{ endpointId: string; recovered: number; complete: boolean; nextCursor: string | null }>('POST', `${ep(eid)}/recover`, {
        since,
        ...(cursor ? { cursor } : {}),
      }),
    listDeliveries: (filter: DeliveryFilter) => call<Page<Delivery>>('GET', `${sub}/deliveries${query({ limit: 50, ...filter })}`),
    getDelivery: (did: string) => call<DeliveryWithAttempts>('GET', `${sub}/deliveries/${encodeURIComponent(did)}`),
    retryDelivery: (did: string) =>
      call<{ id: string; state: string; queued: boolean }>('POST', `${sub}/deliveries/${encodeURIComponent(did)}/retry`),
    getEvent: (evid: string) => call<StoredEventView>('GET', `${sub}/events/${encodeURIComponent(evid)}`),
    listEvents: (filter: { type?: string; cursor?: string }) =>
      call<Page<EventSummary>>('GET', `${sub}/events${query({ include: 'outcomes', limit: 25, ...filter })}`),
    replayEvent: (evid: string) =>
      call<{ id: string; created: string[]; requeued: string[] }>('POST', `${sub}/events/${encodeURIComponent(evid)}/replay`, {}),
    listSources: (cursor?: string) => call<Page<Source>>('GET', `${sub}/sources${query({ limit: 100, cursor })}`),
    getSource: (id: string) => call<Source>('GET', `${sub}/sources/${encodeURIComponent(id)}`),
    createSource: (body: unknown) => call<Source>('POST', `${sub}/sources`, body),
    deleteSource: (id: string) => call<void>('DELETE', `${sub}/sources/${encodeURIComponent(id)}`),
    listSourceRequests: (id: string, filter: { outcome?: string; cursor?: string }) =>
      call<Page<SourceRequest>>('GET', `${sub}/sources/${encodeURIComponent(id)}/requests${query({ limit: 50, ...filter })}`),
    /** Ends a portal session (signing out of a link): the token is worthless from then on. */
    endSession: (sessionId: string) => call<void>('DELETE', `${sub}/portal-sessions/${encodeURIComponent(sessionId)}`),
  };
}

/** Admin only: the subscribers to choose from. */
export function listSubscribers(key: string): Promise<{ data: Subscriber[] }> {
  return apiRequest<{ data: Subscriber[] }>(key, 'GET', '/subscribers');
}

/** Who a key or session token is (any key may ask): how sign-in tells an admin from a subscriber without trying an admin route. */
export function whoAmI(key: string): Promise<WhoAmI> {
  return apiRequest<WhoAmI>(key, 'GET', '/whoami');
}

/** What the operator configured for the portal; public (no key), so the expiry page can name the platform. */
export async function portalConfig(): Promise<{ platformName: string | null }> {
  try {
    const res = await fetch('/portal/config.json', { cache: 'no-store' });
    const json = (await res.json()) as { platformName?: unknown };
    return { platformName: typeof json.platformName === 'string' ? json.platformName : null };
  } catch {
    return { platformName: null };
  }
}
