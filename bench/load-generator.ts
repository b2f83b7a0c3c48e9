// Bench child: the load generator. Every measured publish, queue.add and POST of a run starts here,
// in a process of its own, so the load's own CPU never runs in a process under test (issue 22).
import type { Queue } from 'bullmq';
import Redis from 'ioredis';
import { Pool } from 'undici';
import { bareJob, benchPayload, createBareQueue, type BareJobData } from './bare';
import { catalogPayload } from './catalog-type';
import { serveCommands } from './child-serve';
import { epochMs } from './clock';
import { ApiClient, ApiCallError } from './hookrelay-api';
import { chunks, closedLoop, openLoop } from './loops';

/** The payload each event or job carries: `bench` (3 fields) or `catalog` (the 20-property type). */
export type PayloadKind = 'bench' | 'catalog';

export interface PublishTarget {
  sid: string;
  /** A publisher key of that subscriber. */
  key: string;
}

/** What one call of a loop does; a call's index numbers its event (or its batch, for the batch kinds). */
export type SenderSpec =
  /** POST .../events, one event a call, to the targets in turn. The sink's key: the event id. */
  | { kind: 'publish'; origin: string; targets: PublishTarget[]; eventType: string; payload: PayloadKind }
  /** POST .../events/batch of `batchSize` events, to the targets in turn. */
  | { kind: 'publish-batch'; origin: string; targets: PublishTarget[]; eventType: string; payload: PayloadKind; batchSize: number }
  /** A bare BullMQ `queue.add`. The sink's key: `<idPrefix><index>`. */
  | { kind: 'queue-add'; idPrefix: string; payload: PayloadKind }
  /** A bare `addBulk` of `batchSize` jobs; `fanOut` sends job i to the sink's path /fan/<i>. */
  | { kind: 'queue-add-bulk'; idPrefix: string; payload: PayloadKind; batchSize: number; fanOut?: boolean }
  /** POST a publish's body to a route of the express baseline. */
  | { kind: 'post'; origin: string; path: string; payload: PayloadKind };

export interface ClosedLoopArgs {
  sender: SenderSpec;
  /** Calls, or events for the batch kinds. */
  total: number;
  /** Calls in flight at once. */
  clients: number;
  /** Added to each index, so repeated loops make distinct events and job ids. */
  offset?: number;
}

export interface OpenLoopArgs {
  sender: SenderSpec;
  ratePerS: number;
  seconds: number;
  /** Seconds sent at the rate first, reported apart (loops.ts openLoop). @defaultValue 0 */
  rampSeconds?: number;
  offset?: number;
}

export interface LoadGeneratorInit {
  redisUrl: string;
}

/**
 * Connections per origin: enough that an open loop's pool never queues a publish (3,000/s with
 * answers of ~85 ms), so the time a publish waits is the server's, not the client's. A closed loop
 * opens as many as it has clients.
 */
const CONNECTIONS_PER_ORIGIN = 256;

let init: LoadGeneratorInit | undefined;
let bare: { queue: Queue<BareJobData>; redis: Redis } | undefined;
const pools = new Map<string, Pool>();

function pool(origin: string): Pool {
  let p = pools.get(origin);
  if (!p) {
    p = new Pool(origin, { connections: CONNECTIONS_PER_ORIGIN });
    pools.set(origin, p);
  }
  return p;
}

function bareQueue(): Queue<BareJobData> {
  if (!init) throw new Error('init first');
  if (!bare) {
    const redis = new Redis(init.redisUrl, { maxRetriesPerRequest: null });
    bare = { queue: createBareQueue(redis), redis };
  }
  return bare.queue;
}

const payloadOf = (kind: PayloadKind): ((seq: number) => Record<string, unknown>) => (kind === 'catalog' ? catalogPayload : benchPayload);

/** A call of the loop for a spec: takes the call's index, answers with the key the sink will see ('' for batches). */
function senderFor(spec: SenderSpec, total: number, offset: number): { calls: number; send: (index: number) => Promise<string> } {
  const payload = payloadOf(spec.payload);
  switch (spec.kind) {
    case 'publish': {
      const client = new ApiClient(pool(spec.origin), '');
      return {
        calls: total,
        send: (i) => {
          const t = spec.targets[i % spec.targets.length]!;
          return client.publish(t.sid, t.key, { type: spec.eventType, payload: payload(offset + i) });
        },
      };
    }
    case 'publish-batch': {
      const client = new ApiClient(pool(spec.origin), '');
      const ranges = chunks(total, spec.batchSize);
      return {
        calls: ranges.length,
        send: async (b) => {
          const [from, to] = ranges[b]!;
          const t = spec.targets[b % spec.targets.length]!;
          await client.publishBatch(
            t.sid,
            t.key,
            Array.from({ length: to - from }, (_, i) => ({ type: spec.eventType, payload: payload(offset + from + i) })),
          );
          return '';
        },
      };
    }
    case 'queue-add': {
      const queue = bareQueue();
      return {
        calls: total,
        send: async (i) => {
          const job = bareJob(`${spec.idPrefix}${offset + i}`, offset + i, '/bare', payload(offset + i));
          await queue.add(job.name, job.data, job.opts);
          return job.data.id;
        },
      };
    }
    case 'queue-add-bulk': {
      const queue = bareQueue();
      const ranges = chunks(total, spec.batchSize);
      return {
        calls: ranges.length,
        send: async (b) => {
          const [from, to] = ranges[b]!;
          const seqs = Array.from({ length: to - from }, (_, i) => offset + from + i);
          await queue.addBulk(
            seqs.map((s) => bareJob(`${spec.idPrefix}${s}`, s, spec.fanOut ? `/fan/${s - offset}` : '/bare', payload(s))),
          );
          return '';
        },
      };
    }
    case 'post': {
      const p = pool(spec.origin);
      return {
        calls: total,
        send: async (i) => {
          const res = await p.request({
            method: 'POST',
            path: spec.path,
            headers: { authorization: 'Bearer hr_pub_bench', 'content-type': 'application/json' },
            body: JSON.stringify({ type: 'custom.bench', payload: payload(offset + i) }),
          });
          const text = await res.body.text();
          if (res.statusCode !== 202) throw new ApiCallError(`POST ${spec.path} answered ${res.statusCode}: ${text.slice(0, 300)}`);
          return (JSON.parse(text) as { id: string }).id;
        },
      };
    }
  }
}

serveCommands(
  {
    init: (args: LoadGeneratorInit) => {
      init = args;
      return null;
    },
    closedLoop: async (args: ClosedLoopArgs) => {
      const { calls, send } = senderFor(args.sender, args.total, args.offset ?? 0);
      const startedAt = epochMs();
      const elapsedMs = await closedLoop(calls, args.clients, send);
      return { startedAt, elapsedMs };
    },
    openLoop: (args: OpenLoopArgs) => {
      const { send } = senderFor(args.sender, Math.round(args.ratePerS * (args.seconds + (args.rampSeconds ?? 0))), args.offset ?? 0);
      return openLoop(args.ratePerS, args.seconds, send, args.rampSeconds);
    },
  },
  async () => {
    await Promise.all([...pools.values()].map((p) => p.close()));
    if (bare) {
      await bare.queue.close();
      bare.redis.disconnect();
    }
  },
);
