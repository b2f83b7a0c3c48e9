import { EXPRESS_NO_OP_PATH, EXPRESS_QUEUE_ADD_PATH } from '../bare';
import { CATALOG_EVENT_TYPE, catalogPayload, catalogSchema } from '../catalog-type';
import { startCpuMeter } from '../cpu-meter';
import { batchSender, cleanSlate, publishSender, subscriberWithEndpoint, type BenchContext, type PhaseResult } from '../context';
import type { ClosedLoopArgs, PayloadKind, PublishTarget } from '../load-generator';
import { atLeastRatio, info, type Row } from '../report';

interface IngestRun {
  events: number;
  perS: number;
  /** CPU microseconds per event of the process serving the requests (none for bare queue.add), of the load generator and of Redis. */
  serverCpuUs: number;
  loadCpuUs: number;
  redisCpuUs: number;
}

/**
 * Runs one ingest stretch from the load generator, after a warm-up through the same path, and
 * checks the queue then holds `expected` more jobs (`events` unless said otherwise). `server` is
 * the pid of the process answering, if any.
 */
async function measured(
  ctx: BenchContext,
  args: ClosedLoopArgs,
  server: number | undefined,
  queueCount: () => Promise<number>,
  expected = args.total,
): Promise<IngestRun> {
  await ctx.load.closedLoop({ ...args, total: ctx.config.warmUpEvents, offset: 1_000_000 });
  const before = await queueCount();
  const cpu = startCpuMeter({ ...(server ? { server } : {}), load: ctx.load.pid, redis: ctx.redisPid });
  const { elapsedMs } = await ctx.load.closedLoop(args);
  const used = cpu.finish();
  const added = (await queueCount()) - before;
  if (added !== expected)
    throw new Error(`ingest: ${args.total} events sent but the queue holds ${added} more jobs (expected ${expected})`);
  const per = (ms: number | undefined) => ((ms ?? Number.NaN) * 1000) / args.total;
  return {
    events: args.total,
    perS: (args.total / elapsedMs) * 1000,
    serverCpuUs: per(used.server),
    loadCpuUs: per(used.load),
    redisCpuUs: per(used.redis),
  };
}

/** What each stretch publishes: `custom.bench` with today's payload, or (BENCH_CATALOG_TYPE=1) the 20-property type with its payload on every side. */
function ingestEvent(ctx: BenchContext): { type: string; label: string; payload: PayloadKind } {
  return ctx.config.catalogType
    ? { type: CATALOG_EVENT_TYPE, label: `, ${CATALOG_EVENT_TYPE} (20-property schema)`, payload: 'catalog' }
    : { type: 'custom.bench', label: '', payload: 'bench' };
}

async function hookrelayTarget(ctx: BenchContext): Promise<PublishTarget> {
  const deployment = ctx.hookrelay.split;
  const target = await subscriberWithEndpoint(deployment, ctx, 'bench-ingest');
  // Defined after cleanSlate's FLUSHDB, like everything else, through the API that will validate against it.
  if (ctx.config.catalogType)
    await deployment.client.defineEventType({ type: CATALOG_EVENT_TYPE, schema: catalogSchema(), examples: [catalogPayload(0)] });
  return target;
}

/**
 * (3) Ingest alone: no worker runs, so every event stays queued. Single POSTs from 64 concurrent
 * clients of the load generator to (b)'s API, against the express baseline's route that parses the
 * JSON and calls `queue.add` (its own process, the same clients), bare `queue.add` from 64 loops
 * of the load generator (no HTTP), and the express route that does nothing (the HTTP ceiling).
 * The batch route against bare `addBulk`, with the same batch size and requests in flight.
 */
export async function runIngest(ctx: BenchContext): Promise<PhaseResult> {
  const { singleIngestEvents: single, batchIngestEvents: batched, ingestClients: clients, batchConcurrency } = ctx.config;
  const api = ctx.hookrelay.split;
  const apiPid = api.pids().api;
  const bareCount = () => ctx.bareQueue.count();
  const event = ingestEvent(ctx);

  await cleanSlate(ctx);
  const bareSingle = await measured(
    ctx,
    { sender: { kind: 'queue-add', idPrefix: 's', payload: event.payload }, total: single, clients },
    undefined,
    bareCount,
  );
  await cleanSlate(ctx);
  const expressSingle = await measured(
    ctx,
    { sender: { kind: 'post', origin: ctx.express.origin, path: EXPRESS_QUEUE_ADD_PATH, payload: event.payload }, total: single, clients },
    ctx.express.pid,
    bareCount,
  );
  await cleanSlate(ctx);
  const noOp = await measured(
    ctx,
    { sender: { kind: 'post', origin: ctx.express.origin, path: EXPRESS_NO_OP_PATH, payload: event.payload }, total: single, clients },
    ctx.express.pid,
    bareCount,
    0,
  );

  await cleanSlate(ctx);
  let target = await hookrelayTarget(ctx);
  const hookrelaySingle = await measured(
    ctx,
    { sender: publishSender(api, [target], event.type, event.payload), total: single, clients },
    apiPid,
    () => ctx.queued(),
  );
  ctx.log(
    `ingest single: hookrelay ${hookrelaySingle.perS.toFixed(0)}/s, express + queue.add ${expressSingle.perS.toFixed(0)}/s, ` +
      `bare queue.add ${bareSingle.perS.toFixed(0)}/s, express no-op ${noOp.perS.toFixed(0)}/s`,
  );

  await cleanSlate(ctx);
  const bareBatch = await measured(
    ctx,
    {
      sender: { kind: 'queue-add-bulk', idPrefix: 'b', payload: event.payload, batchSize: ctx.config.batchSize },
      total: batched,
      clients: batchConcurrency,
    },
    undefined,
    bareCount,
  );
  await cleanSlate(ctx);
  target = await hookrelayTarget(ctx);
  const hookrelayBatch = await measured(
    ctx,
    { sender: batchSender(ctx, api, [target], event.type, event.payload), total: batched, clients: batchConcurrency },
    apiPid,
    () => ctx.queued(),
  );
  ctx.log(`ingest batch: hookrelay ${hookrelayBatch.perS.toFixed(0)}/s, bare addBulk ${bareBatch.perS.toFixed(0)}/s`);
  await cleanSlate(ctx);

  const phase = '3 ingest';
  const rows: Row[] = [
    atLeastRatio(
      phase,
      `single POST, ${clients} clients (${single})${event.label}: vs express + queue.add`,
      '/s',
      hookrelaySingle.perS,
      expressSingle.perS,
      0.6,
    ),
    info(phase, `single POST vs bare queue.add (${clients} loops, no HTTP)`, '/s', hookrelaySingle.perS, bareSingle.perS),
    info(phase, 'single POST vs express no-op route (HTTP ceiling)', '/s', hookrelaySingle.perS, noOp.perS),
    info(
      phase,
      'single: server CPU per event (us; API vs express + queue.add)',
      '',
      hookrelaySingle.serverCpuUs,
      expressSingle.serverCpuUs,
    ),
    info(
      phase,
      'single: load generator CPU per event (us; vs express + queue.add)',
      '',
      hookrelaySingle.loadCpuUs,
      expressSingle.loadCpuUs,
    ),
    info(phase, 'single: Redis CPU per event (us; vs express + queue.add)', '', hookrelaySingle.redisCpuUs, expressSingle.redisCpuUs),
    atLeastRatio(
      phase,
      `batch of ${ctx.config.batchSize}, ${batchConcurrency} in flight (${batched})${event.label}`,
      '/s',
      hookrelayBatch.perS,
      bareBatch.perS,
      0.5,
    ),
    info(phase, 'batch: API CPU per event (us; bare: addBulk producer)', '', hookrelayBatch.serverCpuUs, bareBatch.loadCpuUs),
    info(phase, 'batch: Redis CPU per event (us)', '', hookrelayBatch.redisCpuUs, bareBatch.redisCpuUs),
  ];
  return {
    rows,
    details: {
      clients,
      batchSize: ctx.config.batchSize,
      batchConcurrency,
      single: { hookrelay: hookrelaySingle, expressQueueAdd: expressSingle, bareQueueAdd: bareSingle, expressNoOp: noOp },
      batch: { hookrelay: hookrelayBatch, bare: bareBatch },
    },
    problems: [],
  };
}
