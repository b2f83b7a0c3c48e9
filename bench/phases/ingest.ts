import { bareJob, benchPayload } from '../bare';
import { CATALOG_EVENT_TYPE, catalogPayload, catalogSchema } from '../catalog-type';
import { startCpuMeter } from '../cpu-meter';
import { chunks, cleanSlate, closedLoop, type BenchContext, type PhaseResult } from '../context';
import { expressNoOpRate } from '../http-ceiling';
import { atLeastRatio, info, type Row } from '../report';

interface IngestRun {
  events: number;
  perS: number;
  /** CPU microseconds per event: the orchestrator (client + API, or the bare producer) and Redis. */
  producerCpuUs: number;
  redisCpuUs: number;
}

/** Runs one ingest stretch and checks the queue then holds exactly `events` jobs. */
async function measured(ctx: BenchContext, events: number, queueCount: () => Promise<number>, work: () => Promise<number>): Promise<IngestRun> {
  const cpu = startCpuMeter({ producer: process.pid, redis: ctx.redisPid });
  const elapsedMs = await work();
  const used = cpu.finish();
  const held = await queueCount();
  if (held !== events) throw new Error(`ingest: ${events} events sent but the queue holds ${held} jobs`);
  const per = (ms: number | undefined) => ((ms ?? Number.NaN) * 1000) / events;
  return { events, perS: (events / elapsedMs) * 1000, producerCpuUs: per(used.producer), redisCpuUs: per(used.redis) };
}

async function hookrelayTarget(ctx: BenchContext): Promise<{ sid: string; publisherKey: string }> {
  const target = await ctx.api.client.createSubscriber('bench-ingest');
  await ctx.api.client.createEndpoint(target.sid, `${ctx.sinkOrigin}/hook`);
  // Defined after cleanSlate's FLUSHDB, like everything else; the API process sees it at once.
  if (ctx.config.catalogType) await ctx.api.client.defineEventType({ type: CATALOG_EVENT_TYPE, schema: catalogSchema(), examples: [catalogPayload(0)] });
  return target;
}

/** What each stretch publishes: `custom.bench` with today's payload, or (BENCH_CATALOG_TYPE=1) the 20-property type with its payload on both sides. */
function ingestEvent(ctx: BenchContext): { type: string; label: string; payload: (seq: number) => Record<string, unknown> } {
  return ctx.config.catalogType ? { type: CATALOG_EVENT_TYPE, label: `, ${CATALOG_EVENT_TYPE} (20-property schema)`, payload: catalogPayload } : { type: 'custom.bench', label: '', payload: benchPayload };
}

/**
 * (3) Ingest alone: no worker runs, so every event stays queued. Single POSTs from 64 concurrent
 * clients against 64 concurrent bare `queue.add` loops; the batch route against bare `addBulk`,
 * both with the same batch size and the same number of requests in flight. An express route that
 * does nothing shows the HTTP layer's own ceiling for single POSTs.
 */
export async function runIngest(ctx: BenchContext): Promise<PhaseResult> {
  const { singleIngestEvents: single, events: batched, ingestClients: clients, batchSize, batchConcurrency } = ctx.config;
  const { client } = ctx.api;
  const bareCount = () => ctx.bareQueue.count();
  const hookrelayCount = () => ctx.api.queued();
  const event = ingestEvent(ctx);

  await cleanSlate(ctx);
  const bareSingle = await measured(ctx, single, bareCount, () =>
    closedLoop(single, clients, async (i) => {
      const job = bareJob(`s${i}`, i, '/bare', event.payload(i));
      await ctx.bareQueue.add(job.name, job.data, job.opts);
    }),
  );

  await cleanSlate(ctx);
  let target = await hookrelayTarget(ctx);
  const hookrelaySingle = await measured(ctx, single, hookrelayCount, () =>
    closedLoop(single, clients, (i) => client.publish(target.sid, target.publisherKey, { type: event.type, payload: event.payload(i) })),
  );

  await cleanSlate(ctx);
  const noOp = await expressNoOpRate(single, clients);
  ctx.log(`ingest single: hookrelay ${hookrelaySingle.perS.toFixed(0)}/s, bare queue.add ${bareSingle.perS.toFixed(0)}/s, express no-op ${noOp.toFixed(0)}/s`);

  const ranges = chunks(batched, batchSize);
  const bareBatch = await measured(ctx, batched, bareCount, () =>
    closedLoop(ranges.length, batchConcurrency, async (b) => {
      const [from, to] = ranges[b] as [number, number];
      await ctx.bareQueue.addBulk(Array.from({ length: to - from }, (_, i) => bareJob(`b${from + i}`, from + i, '/bare', event.payload(from + i))));
    }),
  );

  await cleanSlate(ctx);
  target = await hookrelayTarget(ctx);
  const hookrelayBatch = await measured(ctx, batched, hookrelayCount, () =>
    closedLoop(ranges.length, batchConcurrency, async (b) => {
      const [from, to] = ranges[b] as [number, number];
      await client.publishBatch(
        target.sid,
        target.publisherKey,
        Array.from({ length: to - from }, (_, i) => ({ type: event.type, payload: event.payload(from + i) })),
      );
    }),
  );
  ctx.log(`ingest batch: hookrelay ${hookrelayBatch.perS.toFixed(0)}/s, bare addBulk ${bareBatch.perS.toFixed(0)}/s`);
  await cleanSlate(ctx);

  const rows: Row[] = [
    atLeastRatio('3 ingest', `single POST, ${clients} clients (${single})${event.label}`, '/s', hookrelaySingle.perS, bareSingle.perS, 0.5),
    info('3 ingest', `(ceiling) express no-op POST, ${clients} clients`, '/s', noOp, bareSingle.perS),
    info('3 ingest', 'single: API+client vs producer CPU per event (us)', '', hookrelaySingle.producerCpuUs, bareSingle.producerCpuUs),
    info('3 ingest', 'single: Redis CPU per event (us)', '', hookrelaySingle.redisCpuUs, bareSingle.redisCpuUs),
    atLeastRatio('3 ingest', `batch of ${batchSize}, ${batchConcurrency} in flight (${batched})${event.label}`, '/s', hookrelayBatch.perS, bareBatch.perS, 0.7),
    info('3 ingest', 'batch: API+client vs producer CPU per event (us)', '', hookrelayBatch.producerCpuUs, bareBatch.producerCpuUs),
    info('3 ingest', 'batch: Redis CPU per event (us)', '', hookrelayBatch.redisCpuUs, bareBatch.redisCpuUs),
  ];
  return {
    rows,
    details: { clients, batchSize, batchConcurrency, expressNoOpPerS: noOp, single: { hookrelay: hookrelaySingle, bare: bareSingle }, batch: { hookrelay: hookrelayBatch, bare: bareBatch } },
    problems: [],
  };
}
