import createClient from 'openapi-fetch';
import { HookrelayError } from './errors';
import type { paths } from './generated/openapi';
import { retryingFetch, type RetryOptions } from './retrying-fetch';
import type * as T from './types';

export interface HookrelayClientOptions {
  /** Where Hookrelay's API is, e.g. `https://hooks.example.com` (no `/v1`). */
  baseUrl: string;
  /** The admin key, a publisher key (`hr_pub_...`), a subscriber key (`hr_sub_...`) or a portal session token. */
  apiKey: string;
  /** Retries of 429 and 503 answers; `false` for none. @defaultValue `{ maxRetries: 3, baseDelayMs: 500, maxDelayMs: 30000 }` */
  retry?: RetryOptions | false;
  /** Time allowed for each attempt. @defaultValue 30000 */
  timeoutMs?: number;
  /** The fetch to use. @defaultValue globalThis.fetch */
  fetch?: (input: Request, init?: RequestInit) => Promise<Response>;
}

type Result<D> = { data?: D; error?: unknown; response: Response };

/** The data of a successful answer; anything else becomes a HookrelayError carrying the API's {code, message, details}. */
async function answer<D>(call: Promise<Result<D>>): Promise<D> {
  const { data, error, response } = await call;
  if (!response.ok) throw HookrelayError.fromResponse(response, error);
  return data as D;
}

/**
 * A client for Hookrelay's API, typed from its OpenAPI document. Every method throws a
 * HookrelayError for an answer that is not a success.
 *
 * @example
 * const hookrelay = createHookrelayClient({ baseUrl: 'http://localhost:3000', apiKey: process.env.HOOKRELAY_KEY });
 * await hookrelay.publish(subscriberId, { type: 'incident.triggered', payload, idempotencyKey: 'incident-60' });
 */
export function createHookrelayClient(options: HookrelayClientOptions) {
  if (!options.baseUrl) throw new TypeError('createHookrelayClient: baseUrl is required');
  if (!options.apiKey) throw new TypeError('createHookrelayClient: apiKey is required');
  const fetch = retryingFetch(options.retry ?? {}, {
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    timeoutMs: options.timeoutMs ?? 30_000,
  });
  const api = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    fetch,
    headers: { authorization: `Bearer ${options.apiKey}` },
  });
  const sub = (sid: string) => ({ path: { sid } });

  return {
    /**
     * Publishes one event to a subscriber: answered once its deliveries are durably queued. Pass
     * `idempotencyKey` so that a retried call (yours, or this client's after a 503) cannot publish twice.
     */
    publish: (sid: string, event: T.EventInput): Promise<T.EventAccepted> =>
      answer(api.POST('/v1/subscribers/{sid}/events', { params: sub(sid), body: event })),

    /** Publishes up to 1000 events at once, all or none: one invalid event refuses the batch (400 naming it). */
    publishBatch: async (sid: string, events: T.EventInput[]): Promise<T.EventAccepted[]> =>
      (await answer(api.POST('/v1/subscribers/{sid}/events/batch', { params: sub(sid), body: { events } }))).events,

    endpoints: {
      list: (sid: string, query: T.EndpointListQuery = {}): Promise<T.Page<T.Endpoint>> =>
        answer(api.GET('/v1/subscribers/{sid}/endpoints', { params: { ...sub(sid), query } })),
      /** The answer carries the signing `secret`. */
      create: (sid: string, endpoint: T.CreateEndpointRequest): Promise<T.EndpointWithSecret> =>
        answer(api.POST('/v1/subscribers/{sid}/endpoints', { params: sub(sid), body: endpoint })),
      get: (sid: string, eid: string): Promise<T.Endpoint> =>
        answer(api.GET('/v1/subscribers/{sid}/endpoints/{eid}', { params: { path: { sid, eid } } })),
      update: (sid: string, eid: string, patch: T.UpdateEndpointRequest): Promise<T.UpdatedEndpoint> =>
        answer(api.PATCH('/v1/subscribers/{sid}/endpoints/{eid}', { params: { path: { sid, eid } }, body: patch })),
      delete: async (sid: string, eid: string): Promise<void> => {
        await answer(api.DELETE('/v1/subscribers/{sid}/endpoints/{eid}', { params: { path: { sid, eid } } }));
      },
      getSecret: (sid: string, eid: string): Promise<T.EndpointSecrets> =>
        answer(api.GET('/v1/subscribers/{sid}/endpoints/{eid}/secret', { params: { path: { sid, eid } } })),
      rotateSecret: (sid: string, eid: string, body: T.RotateSecretRequest = {}): Promise<T.EndpointSecrets> =>
        answer(api.POST('/v1/subscribers/{sid}/endpoints/{eid}/secret/rotate', { params: { path: { sid, eid } }, body })),
      /** Sends a signed test event now (`hookrelay.test`, or a type you name) and returns the attempt. */
      test: (sid: string, eid: string, body: T.TestEventRequest = {}): Promise<T.TestSendResult> =>
        answer(api.POST('/v1/subscribers/{sid}/endpoints/{eid}/test', { params: { path: { sid, eid } }, body })),
      /** Attempts per hour, delivered and failed: the last 24 hours unless `since`/`until` say otherwise (48 are kept). */
      stats: (sid: string, eid: string, query: T.EndpointStatsQuery = {}): Promise<T.EndpointStats> =>
        answer(api.GET('/v1/subscribers/{sid}/endpoints/{eid}/stats', { params: { path: { sid, eid }, query } })),
      /** Queues every failed delivery to the endpoint since `since` again. */
      recover: (sid: string, eid: string, body: T.RecoverRequest): Promise<T.RecoverAccepted> =>
        answer(api.POST('/v1/subscribers/{sid}/endpoints/{eid}/recover', { params: { path: { sid, eid } }, body })),
    },

    deliveries: {
      list: (sid: string, query: T.DeliveryListQuery = {}): Promise<T.Page<T.Delivery>> =>
        answer(api.GET('/v1/subscribers/{sid}/deliveries', { params: { ...sub(sid), query } })),
      /** The delivery with every attempt. */
      get: (sid: string, did: string): Promise<T.DeliveryDetail> =>
        answer(api.GET('/v1/subscribers/{sid}/deliveries/{did}', { params: { path: { sid, did } } })),
      retry: (sid: string, did: string): Promise<T.RetryAccepted> =>
        answer(api.POST('/v1/subscribers/{sid}/deliveries/{did}/retry', { params: { path: { sid, did } } })),
    },

    events: {
      list: (sid: string, query: T.EventListQuery = {}): Promise<T.Page<T.EventSummary>> =>
        answer(api.GET('/v1/subscribers/{sid}/events', { params: { ...sub(sid), query } })),
      get: (sid: string, eventId: string): Promise<T.EventDetail> =>
        answer(api.GET('/v1/subscribers/{sid}/events/{eid}', { params: { path: { sid, eid: eventId } } })),
      replay: (sid: string, eventId: string, body: T.ReplayRequest = {}): Promise<T.ReplayAccepted> =>
        answer(api.POST('/v1/subscribers/{sid}/events/{eid}/replay', { params: { path: { sid, eid: eventId } }, body })),
    },

    /** Admin key only. */
    subscribers: {
      /** The answer carries the subscriber's key (`apiKey`), shown once. */
      create: (name: string): Promise<T.CreatedSubscriber> => answer(api.POST('/v1/subscribers', { body: { name } })),
      list: async (): Promise<T.Subscriber[]> => (await answer(api.GET('/v1/subscribers'))).data,
    },

    /** Admin or publisher key: magic links into the subscriber portal. */
    portalSessions: {
      create: (sid: string, body: T.CreatePortalSessionRequest = {}): Promise<T.PortalSession> =>
        answer(api.POST('/v1/subscribers/{sid}/portal-sessions', { params: sub(sid), body })),
      revoke: async (sid: string, id: string): Promise<void> => {
        await answer(api.DELETE('/v1/subscribers/{sid}/portal-sessions/{id}', { params: { path: { sid, id } } }));
      },
    },

    /** The event catalog: every built-in type with its JSON Schema and an example. */
    eventTypes: async (): Promise<T.EventTypeInfo[]> => (await answer(api.GET('/v1/event-types'))).data,
    /** Who the key is. */
    whoami: (): Promise<T.WhoAmI> => answer(api.GET('/v1/whoami')),
  };
}

export type HookrelayClient = ReturnType<typeof createHookrelayClient>;
