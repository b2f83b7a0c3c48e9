import { systemResolve } from './guarded-lookup';
import type { LookupFn, ResolvedAddress } from './types';

export interface HostResolverOptions {
  /** Where answers come from (tests inject fakes). @defaultValue the system resolver: getaddrinfo on libuv's thread pool */
  resolve?: LookupFn;
  /** How long an answer is kept. @defaultValue 30000 */
  cacheMs?: number;
  /** How long a failure (no such host, or no answer in time) is kept. @defaultValue 10000 */
  failureCacheMs?: number;
  /** A caller waits at most this long for an answer, queued or resolving; the lookup itself runs on. @defaultValue 5000 */
  timeoutMs?: number;
  /** Lookups running at once. @defaultValue 3: libuv's pool has 4 threads, which fs, zlib and crypto share */
  maxLookups?: number;
  /** Lookups running at once on behalf of one caller (a subscriber). @defaultValue maxLookups - 1, at least 1 */
  maxLookupsPerCaller?: number;
  now?: () => number;
}

type Cached = { until: number; addresses: ResolvedAddress[] } | { until: number; error: Error };

/** A hostname's lookup, running or waiting for its turn, shared by every caller asking for it meanwhile. */
interface Lookup {
  answer: Promise<ResolvedAddress[]>;
  /** Callers still waiting for it: a queued lookup nobody waits for any more is dropped unstarted. */
  waiters: number;
}

/** Hostnames kept at once; past this the cache starts over (a bound, not an LRU). */
const CACHE_ENTRIES = 10_000;

/**
 * A process's DNS. In the worker, one resolver for the address caps (AddressSlots) and for every
 * connection the guarded agent opens, so both see the same answer and a hostname costs one lookup
 * per `cacheMs`; in the API, for checking endpoint URLs and for its own connections.
 *
 * It exists for isolation. getaddrinfo runs on libuv's thread pool (4 threads per process), and a
 * name whose nameserver never answers holds a thread for the resolver's whole timeout (glibc: 5 s
 * per try, two tries). Unguarded, a subscriber with a few such hostnames and a stream of events
 * occupied every thread, and every other subscriber's new connections waited behind them. So:
 * - lookups of one name share one call, and a failure is kept for `failureCacheMs` too;
 * - at most `maxLookups` calls run at once, and one caller (the subscriber the delivery is for)
 *   never holds more than `maxLookupsPerCaller` of them; when a call ends, the next goes to the
 *   waiting caller with the fewest running, so another subscriber's lookup starts as soon as any
 *   call ends, however many a busy caller has waiting;
 * - a caller gives up after `timeoutMs` (EAI_AGAIN, which the attempt records as a DNS error); a
 *   call already running runs on and its answer is kept, since the thread cannot be taken back; a
 *   call still waiting for its turn when every caller has given up is not made (kept as EAI_AGAIN).
 */
export class HostResolver {
  private readonly cache = new Map<string, Cached>();
  private readonly lookups = new Map<string, Lookup>();
  /** Callers with lookups waiting to start, in turn order, each with its own queue. */
  private readonly queued = new Map<string, Array<() => void>>();
  private readonly runningBy = new Map<string, number>();
  private running = 0;
  private readonly resolve: LookupFn;
  private readonly now: () => number;
  private readonly cacheMs: number;
  private readonly failureCacheMs: number;
  private readonly timeoutMs: number;
  private readonly maxLookups: number;
  private readonly maxPerCaller: number;

  constructor(options: HostResolverOptions = {}) {
    this.resolve = options.resolve ?? systemResolve;
    this.now = options.now ?? Date.now;
    this.cacheMs = options.cacheMs ?? 30_000;
    this.failureCacheMs = options.failureCacheMs ?? 10_000;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxLookups = Math.max(1, options.maxLookups ?? 3);
    this.maxPerCaller = Math.min(this.maxLookups, Math.max(1, options.maxLookupsPerCaller ?? this.maxLookups - 1));
  }

  /** Every address `hostname` resolves to; `caller` names whose turn a lookup it starts takes. */
  lookup(hostname: string, caller = ''): Promise<ResolvedAddress[]> {
    const host = hostname.toLowerCase();
    const hit = this.cache.get(host);
    if (hit && hit.until > this.now()) return 'error' in hit ? Promise.reject(copyOf(hit.error)) : Promise.resolve(hit.addresses);
    let lookup = this.lookups.get(host);
    if (!lookup) {
      lookup = this.startLookup(host, caller);
      this.lookups.set(host, lookup);
    }
    return this.waitFor(host, lookup);
  }

  /** Lookups running now (tests, and a sign of a resolver that stopped answering). */
  get inFlight(): number {
    return this.running;
  }

  private startLookup(host: string, caller: string): Lookup {
    const lookup: Lookup = { waiters: 0, answer: Promise.resolve([]) };
    lookup.answer = this.turn(caller)
      .then(async () => {
        try {
          // Everyone who asked gave up while it waited for its turn: the thread goes to someone else.
          // Kept as a failure like any other, or the delivery's connection, asking next, would
          // start it again at once under no subscriber's share.
          if (lookup.waiters === 0) {
            const error = noAnswer(host, this.timeoutMs);
            this.keep(host, { until: this.now() + this.failureCacheMs, error });
            throw error;
          }
          return await this.resolveAndKeep(host);
        } finally {
          this.release(caller);
        }
      })
      .finally(() => {
        if (this.lookups.get(host) === lookup) this.lookups.delete(host);
      });
    // Callers that gave up have stopped listening; the outcome is in the cache.
    lookup.answer.catch(() => undefined);
    return lookup;
  }

  private async resolveAndKeep(host: string): Promise<ResolvedAddress[]> {
    try {
      const addresses = await this.resolve(host);
      this.keep(host, { until: this.now() + this.cacheMs, addresses });
      return addresses;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.keep(host, { until: this.now() + this.failureCacheMs, error });
      throw error;
    }
  }

  private waitFor(host: string, lookup: Lookup): Promise<ResolvedAddress[]> {
    lookup.waiters++;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(noAnswer(host, this.timeoutMs)), this.timeoutMs);
      timer.unref();
    });
    return Promise.race([lookup.answer, late]).finally(() => {
      clearTimeout(timer);
      lookup.waiters--;
    });
  }

  /** Resolves when `caller` may start a call; the caller then owes a `release`. */
  private turn(caller: string): Promise<void> {
    return new Promise((start) => {
      const queue = this.queued.get(caller);
      if (queue) queue.push(start);
      else this.queued.set(caller, [start]);
      this.startNext();
    });
  }

  private release(caller: string): void {
    this.running--;
    const mine = (this.runningBy.get(caller) ?? 1) - 1;
    if (mine > 0) this.runningBy.set(caller, mine);
    else this.runningBy.delete(caller);
    this.startNext();
  }

  /**
   * Starts waiting lookups while there is room: each time for the waiting caller with the fewest
   * calls running (the first in turn order among equals), never one at its share.
   */
  private startNext(): void {
    while (this.running < this.maxLookups) {
      let next: { caller: string; queue: Array<() => void>; running: number } | undefined;
      for (const [caller, queue] of this.queued) {
        const running = this.runningBy.get(caller) ?? 0;
        if (running < this.maxPerCaller && (!next || running < next.running)) next = { caller, queue, running };
      }
      if (!next) return;
      const { caller, queue } = next;
      // To the back of the turn order, with whatever it has left.
      this.queued.delete(caller);
      const start = queue.shift() as () => void;
      if (queue.length > 0) this.queued.set(caller, queue);
      this.running++;
      this.runningBy.set(caller, next.running + 1);
      start();
    }
  }

  private keep(host: string, entry: Cached): void {
    if (this.cache.size >= CACHE_ENTRIES) this.cache.clear();
    this.cache.set(host, entry);
  }
}

function noAnswer(hostname: string, timeoutMs: number): NodeJS.ErrnoException {
  // dns.lookup's code for "try again later": send.ts records the attempt as a DNS error.
  return Object.assign(new Error(`getaddrinfo EAI_AGAIN ${hostname} (no answer within ${timeoutMs} ms)`), {
    code: 'EAI_AGAIN',
    hostname,
  });
}

/** A kept failure, new for each caller: whoever receives it may add to it (net, undici). */
function copyOf(error: Error): Error {
  const { code, hostname } = error as NodeJS.ErrnoException & { hostname?: string };
  return Object.assign(new Error(error.message), code === undefined ? {} : { code }, hostname === undefined ? {} : { hostname });
}
