/**
 * Every Redis key Hookrelay writes, in one place. The prefix may carry a `{hash tag}` so that, on
 * Redis Cluster, all of a deployment's keys share one slot (BullMQ needs the same of its queue).
 */
export function createKeys(prefix: string) {
  return {
    endpoint: (id: string) => `${prefix}:ep:${id}`,
    subscriberEndpoints: (subscriberId: string) => `${prefix}:sub:${subscriberId}:eps`,
    /** Bumped by every change to a subscriber's endpoints: says whether a process's cached fan-out set is current. */
    subscriberEndpointsVersion: (subscriberId: string) => `${prefix}:sub:${subscriberId}:eps-version`,
    /** Endpoints deleted within the retention period (sorted set by deletion time): their deliveries are still history. */
    subscriberEndpointsDeleted: (subscriberId: string) => `${prefix}:sub:${subscriberId}:eps-deleted`,
    event: (id: string) => `${prefix}:ev:${id}`,
    delivery: (id: string) => `${prefix}:dl:${id}`,
    deliveryAttempts: (id: string) => `${prefix}:dl:${id}:at`,
    /**
     * BullMQ's job hash for a delivery's automatic attempts (packages/queue: `bullPrefix`, queue
     * `deliveries`, job id = delivery id; a test holds the two in step): a delivery not attempted
     * yet has no record of its own, only this job.
     */
    deliveryJob: (id: string) => `${prefix}:bull:deliveries:${id}`,
    /** History logs (streams, see history-log.ts): a subscriber's deliveries, an endpoint's, a subscriber's events. */
    subscriberDeliveries: (subscriberId: string) => `${prefix}:sub:${subscriberId}:dl-log`,
    endpointDeliveries: (endpointId: string) => `${prefix}:ep:${endpointId}:dl-log`,
    subscriberEvents: (subscriberId: string) => `${prefix}:sub:${subscriberId}:ev-log`,
    /** An endpoint's health counters (hash) and its last 100 attempt outcomes (list of 1/0). */
    endpointHealth: (endpointId: string) => `${prefix}:ep:${endpointId}:health`,
    endpointOutcomes: (endpointId: string) => `${prefix}:ep:${endpointId}:outcomes`,
    /** Inbound sources: the record, a subscriber's index, the ingest token lookup (by SHA-256), the verified mark. */
    source: (id: string) => `${prefix}:src:${id}`,
    subscriberSources: (subscriberId: string) => `${prefix}:sub:${subscriberId}:src`,
    sourceToken: (tokenHash: string) => `${prefix}:src-token:${tokenHash}`,
    sourceVerified: (id: string) => `${prefix}:src:${id}:verified`,
    /** A source's inbound request history (sorted set by time) and its rate-limit counters. */
    sourceRequests: (id: string) => `${prefix}:src:${id}:req`,
    sourceRate: (id: string, window: string) => `${prefix}:src:${id}:rl:${window}`,
    subscriber: (id: string) => `${prefix}:sub:${id}`,
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
    /** Pub/sub channel announcing endpoint changes, so worker caches drop stale copies. */
    endpointChanges: () => `${prefix}:ep-changed`,
  };
}

export type Keys = ReturnType<typeof createKeys>;

export const DEFAULT_KEY_PREFIX = 'hookrelay';
