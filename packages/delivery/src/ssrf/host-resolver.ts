import { isIP } from 'node:net';
import { blockedAddressReason } from './blocked-address';
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
  /** Names kept at once. @defaultValue 10000 */
  cacheEntries?: number;
}

type Cached = { until: number; addresses: ResolvedAddress[] } | { until: number; error: Error };

/**
 * A hostname's lookup, shared by every caller asking for it while it waits or runs. It waits in
 * the turn order of each caller that asked (so no caller's lookups wait behind another's share),
 * and runs at the first of those turns.
 */
interface Lookup {
  host: string;
  state: 'waiting' | 'running' | 'dropped';
  /** When it started running (this.now()): what its callers waited before that was for a place. */
  startedAt?: number;
  /** Callers still waiting for it: a waiting lookup nobody waits for any more is dropped. */
  waiters: number;
  /** The callers in whose turn order it waits. */
  callers: Set<string>;
  answer: Promise<ResolvedAddress[]>;
  settle: (outcome: Promise<ResolvedAddress[]>) => void;
}

/**
 * The caller of a lookup made for no subscriber: a connection whose name was not looked up for
 * its subscriber just before (AddressSlots does, for deliveries). It may run one lookup at a time.
 */
export const ANONYMOUS_CALLER = '';

/**
 * The property of a lookup's failure that says how many of the caller's milliseconds went waiting
 * for a place among the lookups running, before its name's lookup started (withQueueWait).
 */
const DNS_QUEUED_MS = 'dnsQueuedMs';

/** Of a failed lookup's wait, the milliseconds spent waiting for a place (0 for any other error). */
export function dnsQueuedMsOf(err: unknown): number {
  const queued = (err as Record<string, unknown> | null | undefined)?.[DNS_QUEUED_MS];
  return typeof queued === 'number' ? queued : 0;
}

/** How long past its expiry a connection may still use an answer (lookupForConnection). */
const CONNECTION_STALE_MS = 60_000;

/**
 * Addresses kept of one name's answer, per family (keptAddresses). A name in a wildcard zone can
 * answer hundreds of A records (~80 B each kept): a subscriber moving its endpoints through such
 * names held 81 MB of the worker for 5,000 names of 200 addresses (4.6 MB now:
 * scripts/probe-resolver-memory.ts), 160 MB at the 10,000 names the cache keeps. 8 of each
 * family leave a connection both families and several addresses of each to fall back on (Happy
 * Eyeballs, autoSelectFamily, tries the next after 250 ms).
 */
export const ADDRESSES_PER_FAMILY = 8;

/**
 * Run-out names dropped, at most, each time a name is kept (purgeRunOut): bounded work per
 * answer, more than the one name each answer adds, so what has run out drains.
 */
const PURGE_PER_KEEP = 8;

/**
 * A process's DNS. In the worker, one resolver for the address caps (AddressSlots), token URLs
 * (OAuthTokenCache) and every connection the guarded agent opens, so all see the same answer and a
 * hostname costs one lookup per `cacheMs`; in the API, for checking endpoint URLs and for its own
 * connections.
 *
 * It exists for isolation. getaddrinfo runs on libuv's thread pool (4 threads per process), and a
 * name whose nameserver never answers holds a thread for the resolver's whole timeout (glibc: 5 s
 * per try, two tries). Unguarded, a subscriber with a few such hostnames and a stream of events
 * occupied every thread, and every other subscriber's new connections waited behind them. So:
 * - lookups of one name share one call, and a failure is kept for `failureCacheMs` too;
 * - at most `maxLookups` calls run at once, and one caller (the subscriber the lookup is for)
 *   never holds more than `maxLookupsPerCaller` of them (ANONYMOUS_CALLER one); when a call ends,
 *   the next goes to the waiting caller with the fewest running, so another subscriber's lookup
 *   starts as soon as any call ends, however many a busy caller has waiting. A caller asking for a
 *   name another caller's lookup is waiting for queues it in its own turn order too: one
 *   subscriber cannot make another's name wait behind its own share;
 * - a caller gives up after `timeoutMs` (EAI_AGAIN, which an attempt records as a DNS error); a
 *   call already running runs on and its answer is kept, since the thread cannot be taken back; a
 *   lookup still waiting when every caller has given up is dropped, never made, and kept as
 *   nothing (the next caller starts it afresh).
 *
 * One subscriber cannot take every thread; several working together can hold their shares each.
 */
export class HostResolver {
  private readonly cache = new Map<string, Cached>();
  private readonly lookups = new Map<string, Lookup>();
  /** Callers with lookups waiting for their turn, in turn order, each with its own queue. */
  private readonly queued = new Map<string, Lookup[]>();
  private readonly runningBy = new Map<string, number>();
  private running = 0;
  private readonly resolve: LookupFn;
  private readonly now: () => number;
  private readonly cacheMs: number;
  private readonly failureCacheMs: number;
  private readonly timeoutMs: number;
  private readonly maxLookups: number;
  private readonly maxPerCaller: number;
  private readonly cacheEntries: number;

  constructor(options: HostResolverOptions = {}) {
    this.resolve = options.resolve ?? systemResolve;
    this.now = options.now ?? Date.now;
    this.cacheMs = options.cacheMs ?? 30_000;
    this.failureCacheMs = options.failureCacheMs ?? 10_000;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxLookups = Math.max(1, options.maxLookups ?? 3);
    this.maxPerCaller = Math.min(this.maxLookups, Math.max(1, options.maxLookupsPerCaller ?? this.maxLookups - 1));
    this.cacheEntries = Math.max(10, options.cacheEntries ?? 10_000);
  }

  /**
   * For a connection, which knows no subscriber: the name was looked up for its delivery's (or
   * token's) subscriber just before, so its answer is taken from the cache even if it ran out
   * since (within CONNECTION_STALE_MS: a request can wait for a connection that long and more).
   * Only a name not answered lately takes the one anonymous lookup at a time; before, a request
   * that waited past the answer's expiry took it, and one subscriber's late connections could hold
   * it along with their own share.
   */
  lookupForConnection(hostname: string): Promise<ResolvedAddress[]> {
    const hit = this.cache.get(hostname.toLowerCase());
    if (hit && !('error' in hit) && hit.until + CONNECTION_STALE_MS > this.now()) return Promise.resolve(hit.addresses);
    return this.lookup(hostname, ANONYMOUS_CALLER);
  }

  /**
   * Every address `hostname` resolves to; `caller` is whose turn and share the lookup takes. An IP
   * literal (unbracketed) is its own answer, as dns.lookup gives it, without a lookup.
   */
  lookup(hostname: string, caller: string = ANONYMOUS_CALLER): Promise<ResolvedAddress[]> {
    const family = isIP(hostname);
    if (family !== 0) return Promise.resolve([{ address: hostname, family: family === 6 ? 6 : 4 }]);
    const host = hostname.toLowerCase();
    const hit = this.cache.get(host);
    if (hit && hit.until > this.now()) {
      // Last in the map's order: eviction takes the names used least recently first.
      this.cache.delete(host);
      this.cache.set(host, hit);
      return 'error' in hit ? Promise.reject(copyOf(hit.error)) : Promise.resolve(hit.addresses);
    }
    let lookup = this.lookups.get(host);
    if (!lookup) {
      lookup = newLookup(host);
      this.lookups.set(host, lookup);
    }
    if (lookup.state === 'waiting' && !lookup.callers.has(caller)) {
      lookup.callers.add(caller);
      const queue = this.queued.get(caller);
      if (queue) queue.push(lookup);
      else this.queued.set(caller, [lookup]);
    }
    const answer = this.waitFor(lookup, caller);
    this.startNext();
    return answer;
  }

  /** Lookups running now (tests, and a sign of a resolver that stopped answering). */
  get inFlight(): number {
    return this.running;
  }

  /** Names cached now, answers and failures, run out or not (tests). */
  get cachedNames(): number {
    return this.cache.size;
  }

  private waitFor(lookup: Lookup, caller: string): Promise<ResolvedAddress[]> {
    lookup.waiters++;
    const askedAt = this.now();
    const shareFullAtAsk = this.shareFull(caller);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(noAnswer(lookup.host, this.timeoutMs)), this.timeoutMs);
      timer.unref();
    });
    const answer = Promise.race([lookup.answer, late]).catch((err: unknown) => {
      // A wait behind the caller's own lookups (its share full when it asked, or when it gave up)
      // is its own: ten silent names of one subscriber, two running, must still make its
      // endpoints slow. Only a wait for a place others held is left out of its pace.
      const ownWait = shareFullAtAsk || this.shareFull(caller);
      throw this.withQueueWait(err, lookup, ownWait ? undefined : askedAt);
    });
    return answer.finally(() => {
      clearTimeout(timer);
      lookup.waiters--;
      // Everyone who asked gave up while it waited for a turn: the thread goes to someone else.
      if (lookup.waiters === 0 && lookup.state === 'waiting') this.drop(lookup);
    });
  }

  /**
   * The caller's own copy of a failure, with how much of its wait was for a place among the
   * lookups running (DNS_QUEUED_MS) rather than for its name. The worker counts an attempt's wait
   * for DNS towards its endpoint's pace, and the wait for a place says nothing of the endpoint:
   * two subscribers' silent names holding every place made a third's receiver, which answers at
   * once, look slow and moved it to the slow lane.
   */
  private withQueueWait(err: unknown, lookup: Lookup, askedAt: number | undefined): Error {
    const now = this.now();
    const queuedMs = askedAt === undefined ? 0 : Math.max(0, Math.min(lookup.startedAt ?? now, now) - askedAt);
    return Object.assign(copyOf(err instanceof Error ? err : new Error(String(err))), { [DNS_QUEUED_MS]: queuedMs });
  }

  private drop(lookup: Lookup): void {
    lookup.state = 'dropped';
    this.forget(lookup);
    lookup.settle(Promise.reject(noAnswer(lookup.host, this.timeoutMs)));
  }

  /** Out of the lookups in progress and out of every caller's queue. */
  private forget(lookup: Lookup): void {
    if (this.lookups.get(lookup.host) === lookup) this.lookups.delete(lookup.host);
    for (const caller of lookup.callers) {
      const queue = this.queued.get(caller);
      if (!queue) continue;
      const at = queue.indexOf(lookup);
      if (at >= 0) queue.splice(at, 1);
      if (queue.length === 0) this.queued.delete(caller);
    }
  }

  private shareOf(caller: string): number {
    return caller === ANONYMOUS_CALLER ? 1 : this.maxPerCaller;
  }

  private shareFull(caller: string): boolean {
    return (this.runningBy.get(caller) ?? 0) >= this.shareOf(caller);
  }

  /**
   * Starts waiting lookups while there is room: each time for the waiting caller with the fewest
   * calls running (the first in turn order among equals), never one at its share.
   */
  private startNext(): void {
    while (this.running < this.maxLookups) {
      let next: { caller: string; queue: Lookup[]; running: number } | undefined;
      for (const [caller, queue] of this.queued) {
        const running = this.runningBy.get(caller) ?? 0;
        if (running < this.shareOf(caller) && (!next || running < next.running)) next = { caller, queue, running };
      }
      if (!next) return;
      const { caller, queue } = next;
      const lookup = queue[0] as Lookup;
      // Out of every queue it waited in; this caller to the back of the turn order.
      this.forget(lookup);
      this.lookups.set(lookup.host, lookup);
      const rest = this.queued.get(caller);
      if (rest) {
        this.queued.delete(caller);
        this.queued.set(caller, rest);
      }
      lookup.state = 'running';
      lookup.startedAt = this.now();
      this.running++;
      this.runningBy.set(caller, next.running + 1);
      lookup.settle(this.run(lookup, caller));
    }
  }

  private async run(lookup: Lookup, caller: string): Promise<ResolvedAddress[]> {
    try {
      const addresses = keptAddresses(await this.resolve(lookup.host));
      this.keep(lookup.host, { until: this.now() + this.cacheMs, addresses });
      return addresses;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.keep(lookup.host, { until: this.now() + this.failureCacheMs, error });
      throw error;
    } finally {
      if (this.lookups.get(lookup.host) === lookup) this.lookups.delete(lookup.host);
      this.running--;
      const mine = (this.runningBy.get(caller) ?? 1) - 1;
      if (mine > 0) this.runningBy.set(caller, mine);
      else this.runningBy.delete(caller);
      this.startNext();
    }
  }

  private keep(host: string, entry: Cached): void {
    this.cache.delete(host);
    this.purgeRunOut();
    if (this.cache.size >= this.cacheEntries) this.evict();
    this.cache.set(host, entry);
  }

  /**
   * Drops run-out names from the least recently used end, PURGE_PER_KEEP at most, stopping at the
   * first that has not run out. Before, they went only when the cache was full, so 5,000 names a
   * subscriber stopped using stayed until 5,000 more came. The map is in order of last use, and a name's answer
   * is never older than its last use, so every name unused for `cacheMs` and a minute is at that
   * end, behind only names as old: all are gone within a few answers of it.
   */
  private purgeRunOut(): void {
    const now = this.now();
    let looked = 0;
    for (const [host, cached] of this.cache) {
      if (looked++ === PURGE_PER_KEEP || !runOut(cached, now)) return;
      this.cache.delete(host);
    }
  }

  /**
   * Makes room: answers that have run out, then the names used least recently, down to 90%. Not
   * the whole cache at once (as before): a subscriber cycling through new names would otherwise
   * send every other subscriber's receivers back to DNS together.
   */
  private evict(): void {
    const now = this.now();
    for (const [host, cached] of this.cache) if (runOut(cached, now)) this.cache.delete(host);
    let excess = this.cache.size - Math.floor(this.cacheEntries * 0.9);
    for (const host of this.cache.keys()) {
      if (excess-- <= 0) break;
      this.cache.delete(host);
    }
  }
}

/** Past any use: a connection may take an answer up to CONNECTION_STALE_MS after it expired. */
function runOut(cached: Cached, now: number): boolean {
  return cached.until + CONNECTION_STALE_MS <= now;
}

/**
 * What is kept of an answer: the first ADDRESSES_PER_FAMILY of each family, in the order
 * getaddrinfo gave them (RFC 6724's, the order Node tries them in; the first, which AddressSlots
 * keys its cap by, is always kept), and the first address beyond those that the SSRF guard refuses,
 * if any. The guard vets every address it is handed and refuses the name for any one of them
 * (createGuardedLookup); nothing dropped is ever connected to, and the refused address kept keeps
 * a name with a private address anywhere in its answer refused, as before.
 */
function keptAddresses(all: ResolvedAddress[]): ResolvedAddress[] {
  if (all.length <= ADDRESSES_PER_FAMILY) return all;
  const kept: ResolvedAddress[] = [];
  const counts = { 4: 0, 6: 0 };
  let refused: ResolvedAddress | undefined;
  for (const candidate of all) {
    if (counts[candidate.family] < ADDRESSES_PER_FAMILY) {
      counts[candidate.family]++;
      kept.push(candidate);
    } else if (!refused && blockedAddressReason(candidate.address) !== null) {
      refused = candidate;
    }
  }
  return refused ? [...kept, refused] : kept;
}

function newLookup(host: string): Lookup {
  let settle: Lookup['settle'] = () => undefined;
  const answer = new Promise<ResolvedAddress[]>((resolve) => {
    settle = resolve;
  });
  // Callers that gave up have stopped listening; the outcome is in the cache (or was never sought).
  answer.catch(() => undefined);
  return { host, state: 'waiting', waiters: 0, callers: new Set(), answer, settle };
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
