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
  /** A secret of the endpoint cannot be decrypted (its key was removed, or the ciphertext altered): nothing was sent. */
  | 'secret_unreadable'
  | 'event_expired';

/** What BullMQ carries for one delivery: ids only; the payload is stored once per event. */
export interface DeliveryJobData {
  /**
   * Left out of new jobs: the delivery id derives from the event and the endpoint (`deliveryId`),
   * and 48 bytes a pending delivery add up. Jobs queued by earlier versions carry it.
   */
  deliveryId?: string;
  eventId: string;
  endpointId: string;
  /** Set on a retry asked for by a person: deliver even if the delivery already ended. */
  manual?: boolean;
}

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
