import type { MetricsJson } from '@hookrelay/observability';

/** What DeliveryThread hands its thread at start. */
export interface DeliveryThreadData {
  loggerName: string;
  pretty: boolean;
}

/** Host to thread. */
export type HostMessage = { type: 'metrics'; id: number } | { type: 'close'; deadlineMs: number };

/** Thread to host. */
export type ThreadMessage =
  { type: 'started' } | { type: 'metrics'; id: number; json: MetricsJson; error?: string } | { type: 'closed'; error?: string };
