import { DEFAULT_EVENT_TYPE_LIMITS, DEFAULT_RETENTION_MS, type StoreOptions } from './store-options';
import { createKeys, DEFAULT_KEY_PREFIX, type Keys } from './keys';
import { EndpointStore } from './endpoint-store';
import { EventStore } from './event-store';
import { DeliveryStore } from './delivery-store';
import { SubscriberStore } from './subscriber-store';
import { IdempotencyStore } from './idempotency-store';
import { SourceStore } from './source-store';
import { HistoryStore } from './history-store';
import { PublishRateLimiter } from './publish-rate-limiter';
import { WorkBudgets } from './work-budget';
import { StoredBytes } from './stored-bytes';
import { EndpointHealthStore } from './endpoint-health-store';
import { EndpointHourlyCounts } from './endpoint-hourly-counts';
import { LaneStore } from './lanes/lane-store';
import { EventTypeStore } from './event-type-store';
import { QueuedDeliveries } from '@hookrelay/queue';
import { SecretBox } from '@hookrelay/secrets';
import { PortalSessionStore } from './portal-session-store';

export * from './keys';
export * from './store-options';
export { EndpointStore, type EndpointChanges } from './endpoint-store';
export { ConcurrentChangeError } from './concurrent-change-error';
export { isCreationOrderCursor, type Page } from './creation-order-page';
export * from './rekey';
export { EventStore, type EventSummary } from './event-store';
export * from './subscriber-store';
export * from './idempotency-store';
export * from './source-store';
export * from './history-store';
export * from './endpoint-health-store';
export * from './endpoint-hourly-counts';
export * from './publish-rate-limiter';
export * from './work-budget';
export { StoredBytes, storedBytesHoldAt, type StoredBytesUsage } from './stored-bytes';
export { ATTEMPT_LIMITS, OMITTED_HEADERS_KEY } from './attempt-bounds';
export * from './event-type-store';
export * from './portal-session-store';
export { isCursor, type NewestFirstPage, type PageOptions, type TimeWindow } from './history-log';
export {
  DeliveryStore,
  defineDeliveryCommands,
  pendingDelivery,
  REOPENED_PER_CALL,
  type AttemptScheduling,
  type LaneMove,
  type LaneMoveOptions,
  type DeliveryStatePatch,
  type FailureStreak,
} from './delivery-store';
export type { EventToWrite, EventWrite, NewDelivery } from './event-writes';
export * from './lanes/lane-store';
export { moveDueSetsBack, type DueSetsBackReport } from './lanes/due-sets-back';

export interface Store {
  keys: Keys;
  endpoints: EndpointStore;
  events: EventStore;
  deliveries: DeliveryStore;
  subscribers: SubscriberStore;
  idempotency: IdempotencyStore;
  sources: SourceStore;
  history: HistoryStore;
  health: EndpointHealthStore;
  hourlyCounts: EndpointHourlyCounts;
  lanes: LaneStore;
  publishRate: PublishRateLimiter;
  workBudgets: WorkBudgets;
  storedBytes: StoredBytes;
  eventTypes: EventTypeStore;
  portalSessions: PortalSessionStore;
}

export function createStore(options: StoreOptions): Store {
  const prefix = options.prefix ?? DEFAULT_KEY_PREFIX;
  const keys = createKeys(prefix);
  const now = options.now ?? Date.now;
  const secrets = options.secrets ?? new SecretBox();
  const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
  const events = new EventStore(options.redis, keys);
  const deliveries = new DeliveryStore(options.redis, keys, new QueuedDeliveries(prefix), events, retentionMs, now, options.laneMoves);
  const lanes = new LaneStore(options.redis, keys, now, retentionMs);
  const health = new EndpointHealthStore(options.redis, keys);
  const hourlyCounts = new EndpointHourlyCounts(options.redis, keys);
  const endpoints = new EndpointStore(options.redis, keys, lanes, health, hourlyCounts, retentionMs, now, secrets);
  return {
    keys,
    endpoints,
    events,
    deliveries,
    history: new HistoryStore(options.redis, keys, deliveries, events, endpoints, retentionMs),
    health,
    hourlyCounts,
    lanes,
    subscribers: new SubscriberStore(options.redis, keys, now),
    portalSessions: new PortalSessionStore(options.redis, keys),
    idempotency: new IdempotencyStore(keys, retentionMs),
    sources: new SourceStore(options.redis, keys, retentionMs, now, secrets),
    publishRate: new PublishRateLimiter(options.redis, keys),
    workBudgets: new WorkBudgets(options.redis, keys),
    storedBytes: new StoredBytes(options.redis, keys, retentionMs),
    eventTypes: new EventTypeStore(options.redis, keys, { ...DEFAULT_EVENT_TYPE_LIMITS, ...options.eventTypeLimits }),
  };
}
