// The API's request and response shapes, named from the types generated out of Hookrelay's OpenAPI
// document (generated/openapi.ts, `npm run generate -w @hookrelay/client`).
import type { components, operations } from './generated/openapi';

type Schemas = components['schemas'];
type Json<Op extends keyof operations, Status extends number> =
  operations[Op]['responses'] extends Record<Status, { content: { 'application/json': infer T } }> ? T : never;
type Query<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;

export type EventInput = Schemas['EventInput'];
export type EventAccepted = Schemas['EventAccepted'];
export type CreateEndpointRequest = Schemas['CreateEndpointRequest'];
export type UpdateEndpointRequest = Schemas['UpdateEndpointRequest'];
export type RotateSecretRequest = Schemas['RotateSecretRequest'];
export type RecoverRequest = Schemas['RecoverRequest'];
export type TestEventRequest = Schemas['TestEventRequest'];
export type ReplayRequest = Schemas['ReplayRequest'];
export type CreatePortalSessionRequest = Schemas['CreatePortalSessionRequest'];
export type Endpoint = Schemas['EndpointWithHealth'];
export type EndpointWithSecret = Schemas['EndpointWithSecret'];
export type UpdatedEndpoint = Schemas['UpdatedEndpoint'];
export type EndpointSecrets = Schemas['EndpointSecrets'];
export type RecoverAccepted = Schemas['RecoverAccepted'];
export type EndpointStats = Schemas['EndpointStats'];
export type TestSendResult = Schemas['TestSendResult'];
export type Delivery = Schemas['Delivery'];
export type DeliveryDetail = Schemas['DeliveryDetail'];
export type RetryAccepted = Schemas['RetryAccepted'];
export type EventSummary = Schemas['EventSummary'];
export type EventDetail = Schemas['EventDetail'];
export type ReplayAccepted = Schemas['ReplayAccepted'];
export type PortalSession = Schemas['PortalSession'];
export type Subscriber = Schemas['Subscriber'];
export type CreatedSubscriber = Json<'createSubscriber', 201>;
export type EventTypeInfo = Json<'listEventTypes', 200>['data'][number];
export type WhoAmI = Json<'whoAmI', 200>;

export type EndpointListQuery = Query<'listEndpoints'>;
export type DeliveryListQuery = Query<'listDeliveries'>;
export type EndpointStatsQuery = Query<'getEndpointStats'>;
export type EventListQuery = Query<'listEvents'>;

/** One page of a listing; pass `nextCursor` back as `cursor` for the next, until it is null. */
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export type { components, operations, paths } from './generated/openapi';
