// Bench child: the receiver every delivery goes to. Answers 200 to everything (after reading the
// body, as a real receiver would) and counts arrivals by one header, so the orchestrator can check
// that each delivery arrived exactly once and when.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveCommands } from './child-serve';
import { epochMs } from './clock';

export interface SinkResetArgs {
  /** Header that names one delivery: x-hookrelay-event-id, x-hookrelay-delivery-id or x-bench-id. */
  keyHeader: string;
  /** A header every request must carry (the signature); requests without it are counted. */
  requireHeader?: string;
}

export interface SinkWaitArgs {
  count: number;
  timeoutMs: number;
  /** Keep counting this long after the count is reached, to catch late duplicates. */
  settleMs: number;
  /** Return each key's first arrival time (for latency). */
  withTimes?: boolean;
}

export interface SinkStats {
  reached: boolean;
  arrivals: number;
  distinct: number;
  duplicates: number;
  missingKey: number;
  missingRequired: number;
  /** Epoch ms of the first arrival and of the last arrival of a key not seen before. */
  firstAt: number;
  lastAt: number;
  times?: Array<[string, number]>;
}

/** Ports the sink listens on (the first is the usual one). */
const SINK_PORTS = 4;

let keyHeader = 'x-bench-id';
let requireHeader: string | undefined;
let firstAt = new Map<string, number>();
let arrivals = 0;
let missingKey = 0;
let missingRequired = 0;
let first = 0;
let last = 0;
let waiter: { count: number; resolve: () => void } | undefined;

const handle = (req: IncomingMessage, res: ServerResponse): void => {
  const at = epochMs();
  arrivals++;
  const raw = req.headers[keyHeader];
  const key = Array.isArray(raw) ? raw[0] : raw;
  if (requireHeader && req.headers[requireHeader] === undefined) missingRequired++;
  if (key === undefined) missingKey++;
  else if (!firstAt.has(key)) {
    firstAt.set(key, at);
    if (first === 0) first = at;
    last = at;
    if (waiter && firstAt.size >= waiter.count) waiter.resolve();
  }
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-length': '0' });
    res.end();
  });
};

/**
 * One receiver per port, all counted together: the scheduler caps attempts per receiver address
 * (IP and port), so endpoints that stand for different customers' receivers get ports of their own.
 */
const servers = Array.from({ length: SINK_PORTS }, () => {
  const server = createServer(handle);
  server.keepAliveTimeout = 60_000;
  return server;
});

function stats(reached: boolean, withTimes: boolean): SinkStats {
  return {
    reached,
    arrivals,
    distinct: firstAt.size,
    duplicates: arrivals - firstAt.size - missingKey,
    missingKey,
    missingRequired,
    firstAt: first,
    lastAt: last,
    ...(withTimes ? { times: [...firstAt] } : {}),
  };
}

void Promise.all(
  servers.map(
    (server) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))),
  ),
).then((ports) => {
  serveCommands(
    {
      reset: (args: SinkResetArgs) => {
        keyHeader = args.keyHeader.toLowerCase();
        requireHeader = args.requireHeader?.toLowerCase();
        firstAt = new Map();
        arrivals = missingKey = missingRequired = first = last = 0;
        waiter = undefined;
        return null;
      },
      /** Distinct keys arrived so far. */
      count: () => firstAt.size,
      wait: async (args: SinkWaitArgs) => {
        let reached = firstAt.size >= args.count;
        if (!reached) {
          reached = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), args.timeoutMs);
            waiter = {
              count: args.count,
              resolve: () => {
                clearTimeout(timer);
                resolve(true);
              },
            };
          });
          waiter = undefined;
        }
        await new Promise((r) => setTimeout(r, args.settleMs));
        return stats(reached, args.withTimes === true);
      },
    },
    async () => {
      for (const server of servers) {
        server.closeAllConnections();
        server.close();
      }
    },
    { port: ports[0], ports },
  );
});
