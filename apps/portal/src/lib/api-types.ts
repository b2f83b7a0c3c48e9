// The public /v1 API's JSON as the portal reads it. Declared here rather than imported from
// @hookrelay/contracts: the portal is a client of the wire format, like any subscriber's own code,
// and must keep working against what the API sends, not against the server's internal types.

export type EndpointStatus = 'active' | 'disabled';
export type DeliveryState = 'pending' | 'retrying' | 'delivered' | 'failed';
export type VerifyMode = 'none' | 'post' | 'get' | 'challenge';
export type SignatureScheme = 'x-hub-signature' | 'x-signature' | 'standard-webhooks' | 'none';
export type AuthType = 'none' | 'basic' | 'api-key' | 'bearer' | 'oauth2-client-credentials' | 'digest' | 'aws-sigv4';

export interface ApiErrorBody {
  error: { code: string; message: string; details?: Array<{ path: string; message: string }> };
}

export interface Subscriber {
  id: string;
  name: string;
  createdAt: number;
}

/** GET /v1/subscribers/:sid: the parts of its limits and usage the portal shows. */
export interface SubscriberDetail extends Subscriber {
  limits: { maxStoredBytes: number };
  usage: { storedBytes: number; deliveriesHeld: boolean };
}

export interface EventTypeInfo {
  type: string;
  description: string;
  example?: unknown;
  /** JSON Schema of the payload (draft 2020-12). */
  schema?: unknown;
  examples?: unknown[];
  deprecated?: boolean;
  archived?: boolean;
  builtIn?: boolean;
}

export type SignatureConfig =
  | { scheme: 'x-hub-signature'; algorithm: 'sha256' | 'sha512' | 'sha1'; prefix: boolean }
  | { scheme: 'x-signature' }
  | { scheme: 'standard-webhooks' }
  | { scheme: 'none' };

export interface RetryPolicy {
  maxRetries: number;
  intervalMs: number;
  backoff: 'fixed' | 'exponential';
}

export interface EndpointHealth {
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  consecutiveFailures: number;
  failingSince: number | null;
  /** Share of the last (up to) 100 attempts that succeeded; null before the first. */
  successRate: number | null;
  sampleSize: number;
}

/** What the API shows of an endpoint's auth: the scheme and its non-secret fields. */
export interface PublicAuth {
  type: AuthType;
  username?: string;
  header?: string;
  tokenUrl?: string;
  clientId?: string;
  scope?: string;
  audience?: string;
  clientAuth?: 'body' | 'basic';
  accessKeyId?: string;
  region?: string;
  service?: string;
  hasSessionToken?: boolean;
  configured?: boolean;
}

export interface Endpoint {
  id: string;
  subscriberId: string;
  url: string;
  description: string;
  eventTypes: string[];
  signature: SignatureConfig;
  headers: Record<string, string>;
  auth: PublicAuth;
  retry: RetryPolicy;
  timeoutMs: number;
  /** At most this many deliveries a second; null for no limit. */
  rateLimit: { perSecond: number } | null;
  status: EndpointStatus;
  disabledReason?: string;
  disabledAt?: number;
  verify: VerifyMode;
  health?: EndpointHealth;
  secretRotation: { retiringUntil: number } | null;
  createdAt: number;
  updatedAt: number;
}

/** GET .../endpoints/:eid/stats: attempts per hour in which they ended, oldest first. */
export interface EndpointStats {
  endpointId: string;
  since: number;
  until: number;
  hours: Array<{ start: number; delivered: number; failed: number }>;
}

export interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  endpointId: string;
  subscriberId: string;
  state: DeliveryState;
  attempts: number;
  createdAt: number;
  updatedAt: number;
  nextAttemptAt?: number | null;
  lastStatusCode?: number;
  lastErrorKind?: string;
  failureReason?: string;
}

export interface Attempt {
  attempt: number;
  startedAt: number;
  durationMs: number;
  outcome: 'delivered' | 'retry' | 'failed';
  statusCode?: number;
  errorKind?: string;
  errorMessage?: string;
  /** As sent, with secrets and authorization already redacted by the server. */
  requestHeaders: Record<string, string>;
  responseBody?: string;
}

/** GET .../deliveries/:did: the record plus every attempt (the field `attempts` is the list there). */
export type DeliveryWithAttempts = Omit<Delivery, 'attempts'> & {
  endpoint: { id: string; url: string; status: EndpointStatus } | null;
  /** The newest 60 at most; `attemptCount` counts every one made. */
  attempts: Attempt[];
  attemptCount: number;
};

export interface StoredEventView {
  id: string;
  type: string;
  createdAt: number;
  payload: unknown;
  deliveries?: Delivery[];
}

export interface EventSummary {
  id: string;
  type: string;
  createdAt: number;
  /** With include=outcomes: the event's deliveries by state. */
  outcomes?: Record<DeliveryState, number>;
}

export interface WhoAmI {
  role: 'admin' | 'subscriber' | 'publisher' | 'session';
  keyId?: string;
  subscriberId?: string;
  subscriberName?: string | null;
  session?: { id: string; readOnly: boolean; expiresAt: number };
  platformName?: string;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export interface TestSendResult {
  eventId: string;
  deliveryId: string;
  attempt: Attempt | null;
}

/** A source's verification as the API shows it: its type and non-secret settings (secrets are write-only). */
export interface SourceVerificationView {
  type: string;
  configured?: boolean;
  headerNames?: string[];
  header?: string;
  algorithm?: string;
  encoding?: string;
  prefix?: string;
  username?: string;
  toleranceSeconds?: number;
  publicKey?: string;
  splitEvents?: boolean;
}

export interface Source {
  id: string;
  name: string;
  status: 'verified' | 'unverified';
  verifiedAt: number | null;
  /** `/in/<token>`: the sender needs only this, so it is as secret as a password. Null in a list when the token cannot be decrypted, and for a read-only session. */
  ingestUrl: string | null;
  /** A read-only session is not shown the ingest URL (it is a credential). */
  ingestUrlHidden?: boolean;
  /** In a list: some of the source's secrets cannot be decrypted (SECURITY.md); opening it answers secret_unreadable. */
  secretUnreadable?: boolean;
  eventType: string;
  verification: SourceVerificationView;
  matches: Record<string, unknown>;
  format: 'json' | 'form' | 'text';
  rateLimit: { perSecond: number; perMinute: number };
  dedupe: { header: string; windowSeconds: number } | null;
  createdAt: number;
  updatedAt: number;
}

export type SourceRequestOutcome = 'published' | 'ignored' | 'rejected' | 'duplicate';

export interface SourceRequest {
  id: string;
  at: number;
  method: string;
  status: number;
  outcome: SourceRequestOutcome;
  reason?: string;
  eventId?: string;
  eventIds?: string[];
  /** How many events the split body published, with eventIds (which holds the first 20). */
  eventCount?: number;
  bytes: number;
}
