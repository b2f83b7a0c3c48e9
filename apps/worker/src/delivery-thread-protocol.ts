import type { MetricsJson } from '@hookrelay/observability';

/** What DeliveryThread hands its thread at start. */
export interface DeliveryThreadData {
  loggerName: string;
  pretty: boolean;
  /** The count of log characters handed to the host and not yet written (LogHandOver's buffer). */
  logHandOver: SharedArrayBuffer;
}

/** Host to thread. */
export type HostMessage = { type: 'metrics'; id: number } | { type: 'close'; deadlineMs: number };

/**
 * Thread to host. `log` is lines of the thread's log (those of one turn of its event loop), which
 * the host writes to stdout with its own (one writer per process: createLogger's stdoutLogDestination); on the same port as `closed`,
 * so every line logged before the thread closed reaches the host before it ends the thread.
 */
export type ThreadMessage =
  | { type: 'started' }
  | { type: 'metrics'; id: number; json: MetricsJson; error?: string }
  | { type: 'closed'; error?: string }
  | { type: 'log'; lines: string };
