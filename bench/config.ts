import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Sizes and limits of one bench run; `BENCH_QUICK=1` shrinks them for a CI smoke run. */
export interface BenchConfig {
  quick: boolean;
  /** Events in the pipeline and memory phases. */
  events: number;
  /** Events in the batch-ingest stretch. */
  batchIngestEvents: number;
  /** Events in the single-POST ingest phase. */
  singleIngestEvents: number;
  /** Concurrent clients (and connections) in the single-POST ingest phase. */
  ingestClients: number;
  /** Events per batch request / addBulk call. */
  batchSize: number;
  /** Batch requests in flight at once in the batch-ingest phase. */
  batchConcurrency: number;
  /** Publish rates of the latency phase's steps, lowest first. */
  latencyRatesPerS: readonly number[];
  /** Seconds each latency step sends for. */
  latencySeconds: number;
  /** Seconds each latency step sends at its rate before its measured seconds, reported apart. */
  latencyRampSeconds: number;
  /** Publishes before a latency measurement starts, to warm the path (JIT, pools, caches). */
  warmUpEvents: number;
  /** Deliveries the isolation phase's attacker has queued before the victim publishes again. */
  hostileDeliveries: number;
  /** Worker processes of each step of the scale phase. */
  scaleWorkers: readonly number[];
  /** Events of each scale step. */
  scaleEvents: number;
  fanOutEndpoints: number;
  /** Jobs in flight per worker, the same for Hookrelay's worker and the bare one. */
  workerConcurrency: number;
  /** undici connections to the sink, the same for both workers. */
  connectionsPerOrigin: number;
  /** Phases to run (BENCH_PHASES=pipeline,latency,...); all by default. */
  phases: ReadonlySet<PhaseName>;
  /** BENCH_PROFILE=1: each worker child writes a V8 CPU profile here (BENCH_PROFILE_DIR, else a temp folder). */
  cpuProfDir?: string;
  /** BENCH_REDIS_PROFILE=1: Redis logs every command (SLOWLOG) and the pipeline phase reports its time by call. */
  redisProfile: boolean;
  /** BENCH_CATALOG_TYPE=1: the ingest phase publishes a type with a 20-property JSON Schema (catalog-type.ts). */
  catalogType: boolean;
  /** Where the JSON results go (BENCH_RESULTS_FILE; the test suite's smoke run keeps the repo clean). */
  resultsFile: string;
  /**
   * BENCH_WORKER_SETTINGS=WORKER_ENDPOINT_SHARE=1,...: worker settings Hookrelay's processes get
   * instead of their defaults, for experiments (what a cap costs); the table says they were changed.
   */
  workerSettings: Readonly<Record<string, string>>;
}

export const PHASES = ['pipeline', 'latency', 'fanout', 'ingest', 'memory', 'isolation', 'scale'] as const;
export type PhaseName = (typeof PHASES)[number];

export function loadBenchConfig(env: NodeJS.ProcessEnv): BenchConfig {
  const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const requested = (env.BENCH_PHASES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const p of requested)
    if (!(PHASES as readonly string[]).includes(p)) throw new Error(`BENCH_PHASES: unknown phase "${p}" (known: ${PHASES.join(', ')})`);
  return {
    quick,
    events: quick ? 1_000 : 20_000,
    batchIngestEvents: quick ? 2_000 : 20_000,
    singleIngestEvents: quick ? 1_000 : 10_000,
    ingestClients: 64,
    batchSize: 1_000,
    batchConcurrency: 2,
    latencyRatesPerS: latencyRates(env.BENCH_LATENCY_RATES) ?? (quick ? [500, 1_000] : [500, 1_000, 2_000, 3_000]),
    latencySeconds: quick ? 2 : 10,
    latencyRampSeconds: quick ? 1 : 2,
    warmUpEvents: quick ? 100 : 500,
    hostileDeliveries: quick ? 2_000 : 10_000,
    scaleWorkers: [1, 2, 4],
    scaleEvents: quick ? 500 : 10_000,
    fanOutEndpoints: 1_000,
    workerConcurrency: 100,
    connectionsPerOrigin: 64,
    phases: new Set((requested.length ? requested : PHASES) as PhaseName[]),
    redisProfile: env.BENCH_REDIS_PROFILE === '1',
    catalogType: env.BENCH_CATALOG_TYPE === '1' || env.BENCH_CATALOG_TYPE === 'true',
    resultsFile: env.BENCH_RESULTS_FILE ?? join(__dirname, 'results', 'latest.json'),
    workerSettings: workerSettings(env.BENCH_WORKER_SETTINGS),
    ...(env.BENCH_PROFILE === '1' ? { cpuProfDir: env.BENCH_PROFILE_DIR ?? join(tmpdir(), 'hookrelay-bench-profiles') } : {}),
  };
}

/** BENCH_LATENCY_RATES=50,200: the latency phase's steps instead of the default ones. */
function latencyRates(value: string | undefined): number[] | undefined {
  if (!value) return undefined;
  const rates = value.split(',').map((s) => Number(s.trim()));
  if (rates.some((r) => !Number.isInteger(r) || r <= 0 || r > 20_000))
    throw new Error(`BENCH_LATENCY_RATES: "${value}" is not a list of whole rates per second (1-20000)`);
  return rates.sort((a, b) => a - b);
}

/**
 * BENCH_WORKER_SETTINGS=WORKER_ENDPOINT_SHARE=1,WORKER_ADDRESS_SHARE=0.5: only WORKER_* names (the
 * worker's scheduling and concurrency, apps/worker/src/worker-settings.ts, which validates the
 * values when the process starts), so an experiment cannot change what else is measured.
 */
function workerSettings(value: string | undefined): Record<string, string> {
  const settings: Record<string, string> = {};
  const pairs = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const pair of pairs) {
    const match = /^(WORKER_[A-Z_]+)=([^=\s]+)$/.exec(pair);
    if (!match) throw new Error(`BENCH_WORKER_SETTINGS: "${pair}" is not WORKER_<NAME>=<value>`);
    settings[match[1]!] = match[2]!;
  }
  return settings;
}

/**
 * Hard limit for a phase that must move `items` through the system: generous (a floor of 200
 * items/s plus 15 s), so only a stuck phase hits it.
 */
export function phaseTimeoutMs(items: number): number {
  return 15_000 + Math.ceil((items / 200) * 1000);
}
