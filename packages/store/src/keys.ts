/**
 * Every Redis key Hookrelay writes, in one place (BullMQ's own, under `<prefix>:bull`, are
 * packages/queue's). The prefix may carry a `{hash tag}` so that, on Redis Cluster, all of a
 * deployment's keys share one slot (BullMQ needs the same of its queue).
 */
export function createKeys(prefix: string) {
  return {
    endpoint: (id: string) => `${prefix}:ep:${id}`,
    /** Bumped with every change to the endpoint (none before its first): a copy cached at an older version is stale. */
    endpointVersion: (id: string) => `${prefix}:ep:${id}:v`,
    subscriberEndpoints: (subscriberId: string) => `${prefix}:sub:${subscriberId}:eps`,
    /** Every live endpoint's id, and the disabled ones' (sets; endpoint-status-index.ts), and when they were last built. */
    endpointIds: () => `${prefix}:eps`,
    disabledEndpointIds: () => `${prefix}:eps:disabled`,
    endpointIdsBuilt: () => `${prefix}:eps:built`,
    /** Held by the worker building the endpoint index (string with an expiry). */
    endpointIdsBuildClaim: () => `${prefix}:eps:built:claim`,
    /** Bumped by every change to a subscriber's endpoints: says whether a process's cached fan-out set is current. */
    subscriberEndpointsVersion: (subscriberId: string) => `${prefix}:sub:${subscriberId}:eps-version`,
    /** Endpoints deleted within the retention period (sorted set by deletion time): their deliveries are still history. */
    subscriberEndpointsDeleted: (subscriberId: string) => `${prefix}:sub:${subscriberId}:eps-deleted`,
    event: (id: string) => `${prefix}:ev:${id}`,
    /** Endpoints created after the event that a replay (or a slow publish) sent it to (set; see HistoryStore.noteLateTargets). */
    eventLateEndpoints: (id: string) => `${prefix}:ev:${id}:late`,
    delivery: (id: string) => `${prefix}:dl:${id}`,
    deliveryAttempts: (id: string) => `${prefix}:dl:${id}:at`,
    /**
     * The delivery scheduler's keys start here (lanes/lanes.lua builds them: lanes, rings, the due
     * and sleep sets, caps, leases); these are the ones other code reads.
     */
    sched: () => `${prefix}:sched`,
    /** Live deliveries' scheduler entries (hash: delivery id -> lanes.lua's entry). */
    laneEntries: () => `${prefix}:sched:d`,
    /**
     * Publishers push here (and trim to one element) when deliveries join a lane of that class
     * (lanes.lua's L.signal); workers wait on both. The fast class's name is the one every version used.
     */
    laneSignal: (laneClass: 'fast' | 'slow') => (laneClass === 'slow' ? `${prefix}:sched:wake:slow` : `${prefix}:sched:wake`),
    /** An endpoint's scheduling settings and state (hash: sid, rate, lane, tat, streaks). */
    laneEndpoint: (endpointId: string) => `${prefix}:sched:ep:${endpointId}`,
    /** History logs (streams, see history-log.ts): a subscriber's deliveries, an endpoint's, a subscriber's events. */
    subscriberDeliveries: (subscriberId: string) => `${prefix}:sub:${subscriberId}:dl-log`,
    endpointDeliveries: (endpointId: string) => `${prefix}:ep:${endpointId}:dl-log`,
    subscriberEvents: (subscriberId: string) => `${prefix}:sub:${subscriberId}:ev-log`,
    /** An endpoint's health counters (hash) and its last 100 attempt outcomes (list of 1/0). */
    endpointHealth: (endpointId: string) => `${prefix}:ep:${endpointId}:health`,
    endpointOutcomes: (endpointId: string) => `${prefix}:ep:${endpointId}:outcomes`,
    /** An endpoint's attempts delivered and failed per hour, the last 48 hours (hash; endpoint-hourly-counts.ts). */
    endpointHourlyCounts: (endpointId: string) => `${prefix}:ep:${endpointId}:hourly`,
    /** Inbound sources: the record, a subscriber's index, the ingest token lookup (by SHA-256), the verified mark. */
    source: (id: string) => `${prefix}:src:${id}`,
    subscriberSources: (subscriberId: string) => `${prefix}:sub:${subscriberId}:src`,
    sourceToken: (tokenHash: string) => `${prefix}:src-token:${tokenHash}`,
    sourceVerified: (id: string) => `${prefix}:src:${id}:verified`,
    /** A source's inbound request history (sorted set by time) and its rate-limit counters. */
    sourceRequests: (id: string) => `${prefix}:src:${id}:req`,
    sourceRate: (id: string, window: string) => `${prefix}:src:${id}:rl:${window}`,
    /** A subscriber's ingest request counters, across all of its sources (take-ingest-rate-4.lua). */
    subscriberSourceRate: (subscriberId: string, window: string) => `${prefix}:sub:${subscriberId}:src-rl:${window}`,
    /** A replay claim (string, expiring with its window): the SHA-256 of a signature or dedupe key -> the event it published. */
    sourceReplay: (id: string, keyHash: string) => `${prefix}:src:${id}:rp:${keyHash}`,
    subscriber: (id: string) => `${prefix}:sub:${id}`,
    /** The admin's overrides of a subscriber's limits (hash: maxEndpoints, maxSources, eventsPerSecond, maxDeletedEndpoints). */
    subscriberLimits: (id: string) => `${prefix}:sub:${id}:limits`,
    /** The subscriber's publish-rate state (take-publish-rate-1.lua). */
    subscriberPublishRate: (id: string) => `${prefix}:sub:${id}:publish-rate`,
    /**
     * What the subscriber has written that is kept for the retention period, by window, and the
     * limit it was last published under (hash; stored-bytes.lua). Scripts build it from
     * `subscriberStoredBytesPrefix()`, the id and `:stored`.
     */
    subscriberStoredBytes: (id: string) => `${prefix}:sub:${id}:stored`,
    subscriberStoredBytesPrefix: () => `${prefix}:sub:`,
    /** The subscriber's work-budget state (charge-work-budget-1.lua). */
    subscriberWorkBudget: (id: string) => `${prefix}:sub:${id}:work-budget`,
    subscribers: () => `${prefix}:subs`,
    /** API keys by the SHA-256 of the key: the key itself is never stored. */
    apiKey: (hash: string) => `${prefix}:key:${hash}`,
    /** Key id -> the key's hash, so an admin can list and revoke keys by id. */
    apiKeysById: () => `${prefix}:keys-by-id`,
    /** A portal session by the SHA-256 of its token (the token itself is never stored); expires with the session. */
    portalSession: (tokenHash: string) => `${prefix}:psess:${tokenHash}`,
    /** A subscriber's live portal sessions (hash: session id -> token hash and expiry), for revoking by id. */
    subscriberPortalSessions: (subscriberId: string) => `${prefix}:sub:${subscriberId}:psess`,
    idempotency: (subscriberId: string, keyHash: string) => `${prefix}:idem:${subscriberId}:${keyHash}`,
    /**
     * Operator-defined event types: records (hash, type -> JSON), their small state (hash, type ->
     * revision, archived, deprecatedAt) that publishing reads, the catalog's version (bumped by every
     * change, so each API process knows when its copy is stale) and its size in bytes.
     */
    eventTypes: () => `${prefix}:evtypes`,
    eventTypeStates: () => `${prefix}:evtypes:state`,
    eventTypesVersion: () => `${prefix}:evtypes:version`,
    eventTypesBytes: () => `${prefix}:evtypes:bytes`,
    /** Pub/sub channel announcing endpoint changes, so worker caches drop stale copies. */
    endpointChanges: () => `${prefix}:ep-changed`,
  };
}

export type Keys = ReturnType<typeof createKeys>;

export const DEFAULT_KEY_PREFIX = 'hookrelay';
