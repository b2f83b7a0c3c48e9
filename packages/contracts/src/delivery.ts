export type DeliveryState = 'pending' | 'retrying' | 'delivered' | 'failed';

/** Why an attempt did not get an HTTP status, in the words the history and metrics use. */
export type AttemptErrorKind =
  | 'timeout'
  | 'connection_refused'
  | 'connection_reset'
  | 'dns'
  | 'tls'
  | 'ssrf_blocked'
  | 'auth'
  | 'network'
  | 'endpoint_disabled'
  | 'endpoint_deleted'
  | 'event_expired'
  /** A secret of the endpoint cannot be decrypted (its key was removed, or the ciphertext altered): nothing was sent. */
  | 'secret_unreadable'
  /** Hookrelay's own failure while preparing, signing or sending (a bug, a payload it cannot serialize). */
  | 'internal';

/** One delivery admitted into a job: an attempt is made only while `ticket` is still the delivery's. */
export interface AdmittedDeliveryRef {
  id: string;
  eventId: string;
  ticket: number;
  /** A retry asked for by a person: deliver even if the delivery already ended. */
  manual?: true;
}

/**
 * What BullMQ carries for one job: ids only (the payload is stored once per event). A job is one
 * turn of the fair order (docs/delivery-scheduling.md): one endpoint's deliveries admitted
 * together, one attempt each. Its id is its first delivery's `<deliveryId>-<ticket>`.
 */
export interface AdmittedJobData {
  endpointId: string;
  deliveries: AdmittedDeliveryRef[];
}

/**
 * A job queued by a version before the scheduler: one delivery, no ticket. The worker hands it to
 * the scheduler.
 */
export interface EarlierVersionJobData {
  /** Left out by most: the delivery id derives from the event and the endpoint (`deliveryId`). */
  deliveryId?: string;
  eventId: string;
  endpointId: string;
  /** Set on a retry asked for by a person: deliver even if the delivery already ended. */
  manual?: boolean;
}

export type DeliveryJobData = AdmittedJobData | EarlierVersionJobData;

export interface AttemptRecord {
  attempt: number;
  /** Epoch ms when the request started. */
  startedAt: number;
  durationMs: number;
  outcome: 'delivered' | 'retry' | 'failed';
  statusCode?: number;
  errorKind?: AttemptErrorKind;
  errorMessage?: string;
  /** Request headers as sent, with secrets and authorization redacted. */
  requestHeaders: Record<string, string>;
  /** First 4 KB of the response body, as text. */
  responseBody?: string;
}

export interface DeliveryRecord {
  id: string;
  eventId: string;
  eventType: string;
  endpointId: string;
  subscriberId: string;
  state: DeliveryState;
  attempts: number;
  createdAt: number;
  updatedAt: number;
  nextAttemptAt?: number;
  lastStatusCode?: number;
  lastErrorKind?: AttemptErrorKind;
  failureReason?: string;
}

/** The first this many bytes of a response body are kept with the attempt. */
export const RESPONSE_BODY_KEEP_BYTES = 4096;
