import type {
  ApiErrorBody,
  Delivery,
  DeliveryWithAttempts,
  Endpoint,
  EventTypeInfo,
  Page,
  StoredEventView,
  Subscriber,
  TestSendResult,
} from '../lib/api-types';

/** An error answered by the API, kept in its own words: message, code and each detail's path. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Array<{ path: string; message: string }> = [],
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

/** Every call goes to the public /v1 API on this origin with the key in the Authorization header. */
export async function apiRequest<T>(key: string, method: string, path: string, body?: unknown): Promise<T> {
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
  if (!res.ok) {
    const error = (json as ApiErrorBody | undefined)?.error;
    if (error?.message) throw new ApiError(res.status, error.code, error.message, error.details ?? []);
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
    eventTypes: () => call<{ data: EventTypeInfo[] }>('GET', '/event-types'),
    listEndpoints: (cursor?: string) => call<Page<Endpoint>>('GET', `${sub}/endpoints${query({ limit: 100, cursor })}`),
    getEndpoint: (eid: string) => call<Endpoint>('GET', ep(eid)),
    createEndpoint: (body: unknown) => call<Endpoint & { secret: string }>('POST', `${sub}/endpoints`, body),
    updateEndpoint: (eid: string, body: unknown) => call<Endpoint & { secret?: string }>('PATCH', ep(eid), body),
    deleteEndpoint: (eid: string) => call<void>('DELETE', ep(eid)),
    revealSecret: (eid: string) => call<{ secret: string; previousSecrets: Array<{ secret: string; expiresAt: number }> }>('GET', `${ep(eid)}/secret`),
    rotateSecret: (eid: string, graceMs: number) =>
      call<{ secret: string; previousSecrets: Array<{ secret: string; expiresAt: number }> }>('POST', `${ep(eid)}/secret/rotate`, { graceMs }),
    sendTest: (eid: string, type?: string) => call<TestSendResult>('POST', `${ep(eid)}/test`, type ? { type } : {}),
    recover: (eid: string, since: number) => call<{ endpointId: string; recovered: number }>('POST', `${ep(eid)}/recover`, { since }),
    listDeliveries: (filter: DeliveryFilter) => call<Page<Delivery>>('GET', `${sub}/deliveries${query({ limit: 50, ...filter })}`),
    getDelivery: (did: string) => call<DeliveryWithAttempts>('GET', `${sub}/deliveries/${encodeURIComponent(did)}`),
    retryDelivery: (did: string) => call<{ id: string; state: string; queued: boolean }>('POST', `${sub}/deliveries/${encodeURIComponent(did)}/retry`),
    getEvent: (evid: string) => call<StoredEventView>('GET', `${sub}/events/${encodeURIComponent(evid)}`),
  };
}

/** Admin only: the subscribers to choose from. A 403 here means the key is not the admin key. */
export function listSubscribers(key: string): Promise<{ data: Subscriber[] }> {
  return apiRequest<{ data: Subscriber[] }>(key, 'GET', '/subscribers');
}
