import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export { Registry } from 'prom-client';

/**
 * Hookrelay's metric families. Labels are bounded sets only: no endpoint id, URL or subscriber id,
 * which would grow a series per customer in the operator's Prometheus.
 */
export interface HookrelayMetrics {
  registry: Registry;
  eventsPublished: Counter<'type'>;
  deliveries: Counter<'outcome'>;
  deliveryAttempts: Counter<'outcome' | 'status_class'>;
  attemptDuration: Histogram<string>;
  endToEnd: Histogram<string>;
  queueJobs: Gauge<'state'>;
  endpoints: Gauge<'status'>;
  oldestPending: Gauge<string>;
}

export interface MetricsOptions {
  /** Registry to register in; one process registers each family once. @defaultValue a new Registry */
  registry?: Registry;
  /** Include prom-client's process metrics. @defaultValue true */
  processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): HookrelayMetrics {
  const registry = options.registry ?? new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    eventsPublished: new Counter({
      name: 'hookrelay_events_published_total',
      help: 'Events accepted for delivery, by catalog type (custom types folded into "custom").',
      labelNames: ['type'],
      registers,
    }),
    deliveries: new Counter({
      name: 'hookrelay_deliveries_total',
      help: 'Deliveries that reached a final state.',
      labelNames: ['outcome'],
      registers,
    }),
    deliveryAttempts: new Counter({
      name: 'hookrelay_delivery_attempts_total',
      help: 'HTTP attempts, by outcome and response class or error kind.',
      labelNames: ['outcome', 'status_class'],
      registers,
    }),
    attemptDuration: new Histogram({
      name: 'hookrelay_delivery_attempt_duration_seconds',
      help: 'Time from sending a delivery request to reading its response.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    endToEnd: new Histogram({
      name: 'hookrelay_end_to_end_seconds',
      help: 'Time from an event being accepted to its delivery succeeding.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 60, 300, 900, 3600],
      registers,
    }),
    queueJobs: new Gauge({
      name: 'hookrelay_queue_jobs',
      help: 'Delivery jobs in the queue, by BullMQ state (sampled).',
      labelNames: ['state'],
      registers,
    }),
    endpoints: new Gauge({
      name: 'hookrelay_endpoints',
      help: 'Registered endpoints, by status (sampled).',
      labelNames: ['status'],
      registers,
    }),
    oldestPending: new Gauge({
      name: 'hookrelay_oldest_pending_seconds',
      help: 'Age of the oldest delivery job still waiting (sampled).',
      registers,
    }),
  };
}

/** The status_class label for an HTTP status or an attempt error kind. */
export function statusClass(statusCode: number | undefined, errorKind: string | undefined): string {
  if (statusCode !== undefined) return `${Math.floor(statusCode / 100)}xx`;
  if (errorKind === 'timeout') return 'timeout';
  if (errorKind === 'ssrf_blocked') return 'ssrf';
  if (errorKind === 'auth') return 'auth';
  return 'network';
}
