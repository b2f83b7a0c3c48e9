import {
  AggregatorRegistry,
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';
import { droppedLogLines } from './logger';

export { Registry } from 'prom-client';

/** A registry's metrics as data (`registry.getMetricsAsJSON()`): what a thread hands to the one that serves /metrics. */
export type MetricsJson = Array<MetricObjectWithValues<MetricValue<string>>>;

/**
 * One exposition of a registry and the metrics other threads of the process keep in registries of
 * the same families (npm start's worker thread): each family they share summed across them, as
 * prom-client aggregates cluster workers, and the registry's own families (the process metrics) as
 * they are. Aggregating those too would drop some: prom-client omits `process_start_time_seconds`
 * from any aggregate, since cluster workers start at different times.
 */
export async function exposeWithThreads(
  registry: Registry,
  threads: readonly MetricsJson[],
): Promise<{ contentType: string; text: string }> {
  const own = await registry.getMetricsAsJSON();
  const shared = new Set(threads.flatMap((metrics) => metrics.map((m) => m.name)));
  const merged = AggregatorRegistry.aggregate([own.filter((m) => shared.has(m.name)), ...threads]);
  const alone = await Promise.all(own.filter((m) => !shared.has(m.name)).map((m) => registry.getSingleMetricAsString(m.name)));
  return { contentType: registry.contentType, text: `${[...alone, (await merged.metrics()).trimEnd()].join('\n\n')}\n` };
}

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
  internalErrors: Counter<'stage'>;
  parked: Counter<'reason'>;
  laneChanges: Counter<'lane'>;
  slowLaneEndpoints: Gauge<string>;
  sleeping: Gauge<string>;
  logLinesDropped: Counter<string>;
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
  let droppedReported = 0;
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
      help: 'Deliveries not ended, by where they are: waiting (for a worker), delayed (for a retry), active, failed (jobs given up on) (sampled).',
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
      help: 'Age of the oldest delivery waiting for a worker (sampled, over at most 1000 lanes).',
      registers,
    }),
    internalErrors: new Counter({
      name: 'hookrelay_delivery_internal_errors_total',
      help: "Hookrelay's own failures: while preparing, signing or sending an attempt (stage=attempt, recorded as error kind internal) or outside one (stage=job, the job runs again).",
      labelNames: ['stage'],
      registers,
    }),
    parked: new Counter({
      name: 'hookrelay_deliveries_parked_total',
      help: "Deliveries put back in their lane without an attempt: reason=address, the receiver's address had its share of a worker's slots; reason=bytes, the subscriber had its bound of payload bytes in flight on the worker; reason=rate_limit, the endpoint's rate limit (lowered after they were admitted) puts their turn more than a second away; reason=tls, the subscriber's sends failed too many TLS handshakes on the worker lately and the receiver (or token host) has not verified there.",
      labelNames: ['reason'],
      registers,
    }),
    laneChanges: new Counter({
      name: 'hookrelay_endpoint_lane_changes_total',
      help: 'Endpoints moved to the slow lane (lane=slow) or back (lane=fast) by the pace of their attempts.',
      labelNames: ['lane'],
      registers,
    }),
    slowLaneEndpoints: new Gauge({
      name: 'hookrelay_slow_lane_endpoints',
      help: 'Endpoints in the slow lane (sampled).',
      registers,
    }),
    sleeping: new Gauge({
      name: 'hookrelay_scheduler_sleeping',
      help: 'Endpoints and subscribers held back by their in-flight cap, a rate limit or a full receiver address (sampled).',
      registers,
    }),
    logLinesDropped: new Counter({
      name: 'hookrelay_log_lines_dropped_total',
      help: 'Log lines dropped because stdout was not read fast enough (more than LOG_BUFFER_MAX_BYTES of lines waiting).',
      registers,
      collect() {
        // The writer counts drops itself (it may exist before any registry): report what is new.
        const dropped = droppedLogLines();
        if (dropped > droppedReported) this.inc(dropped - droppedReported);
        droppedReported = dropped;
      },
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
