// Bench child: the baseline worker. A bare BullMQ Worker that POSTs each job's JSON to the sink
// through an undici Pool: no signing, no records, no metrics, no logs. What the stack itself allows.
import { Worker, type Job } from 'bullmq';
import Redis from 'ioredis';
import { Pool } from 'undici';
import { serveCommands } from './child-serve';
import type { BareJobData } from './bare';

export interface BaselineWorkerStartArgs {
  redisUrl: string;
  queueName: string;
  prefix: string;
  concurrency: number;
  connections: number;
  sinkOrigin: string;
}

let running: { worker: Worker<BareJobData>; pool: Pool; connection: Redis } | undefined;

serveCommands(
  {
    start: async (args: BaselineWorkerStartArgs) => {
      if (running) throw new Error('already started');
      const connection = new Redis(args.redisUrl, { maxRetriesPerRequest: null });
      const pool = new Pool(args.sinkOrigin, { connections: args.connections });
      const worker = new Worker<BareJobData>(
        args.queueName,
        async (job: Job<BareJobData>) => {
          const res = await pool.request({
            method: 'POST',
            path: job.data.path,
            headers: { 'content-type': 'application/json', 'x-bench-id': job.data.id },
            body: JSON.stringify(job.data.payload),
          });
          await res.body.dump();
          if (res.statusCode !== 200) throw new Error(`sink answered ${res.statusCode}`);
        },
        { connection, prefix: args.prefix, concurrency: args.concurrency },
      );
      await worker.waitUntilReady();
      running = { worker, pool, connection };
      return null;
    },
    stop: close,
  },
  close,
);

async function close(): Promise<void> {
  if (!running) return;
  const { worker, pool, connection } = running;
  running = undefined;
  await worker.close();
  await pool.close();
  connection.disconnect();
}
