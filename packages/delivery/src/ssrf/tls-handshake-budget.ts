import { isIP } from 'node:net';
import type { Endpoint } from '@hookrelay/contracts';
import { unbracket } from './check-target-url';

/**
 * What a failed TLS handshake may cost, bounded per subscriber in each process.
 *
 * Node's TLS client lets OpenSSL finish a handshake and judges the certificate afterwards, so
 * OpenSSL first checks every signature of the chain a server sent, on the event loop every
 * subscriber shares. A chain of keys with huge public exponents costs ~104 ms of CPU with 20
 * issuers and ~227 ms with 45 (`npx tsx scripts/probe-tls-chain-verify.ts`), paid as soon as the
 * chain arrives (a server may then reset the connection), and each attempt fails fast, so neither
 * the slow lane nor the caps bound it. Node exposes neither OpenSSL's verify depth nor its
 * certificate-list size, so the bound is here, per process (each process guards its own event
 * loop): each subscriber may fail `burst` handshakes at once, refilled at `perMinute` a minute. A
 * handshake fails when its connection ends between TCP's connect and TLS's (markHandshakeFailed:
 * a chain that does not verify, no shared cipher, a reset or a stall mid-handshake).
 *
 * A send is let through freely when each host it may connect to verified at its last handshake
 * here (or its receiver answered since) and failed none of the subscriber's handshakes for
 * `failureMemoryMs`. Otherwise it sets a failed handshake aside before it goes, given back unless it
 * is the first to report a failed one, so sends side by side cannot overrun the bound; with none
 * left, the subscriber's send waits for the refill (the worker parks the delivery). A host that
 * failed one of the subscriber's handshakes lately keeps costing it reservations after it verifies
 * again, so a receiver that alternates good and hostile chains cannot reset the count; that memory
 * is the subscriber's own, so another subscriber's failure never holds its sends. Sends that waited
 * on one failed connection (a token request they shared) pay for it once.
 */
export interface TlsHandshakeBudgetOptions {
  /** Failed handshakes a subscriber may cause before its sends to hosts not known to verify wait. @defaultValue 10 */
  burst?: number;
  /** How many of them come back a minute. @defaultValue 10 */
  perMinute?: number;
  now: () => number;
  /** How long a host that failed one of a subscriber's handshakes costs it reservations after it verifies again. @defaultValue 600000 */
  failureMemoryMs?: number;
  /** Hosts remembered, the least recently used forgotten first (a forgotten one is not known to verify). @defaultValue 10000 */
  maxOrigins?: number;
}

export const DEFAULT_TLS_HANDSHAKE_BUDGET = Object.freeze({ burst: 10, perMinute: 10 });

/** The bound as a deployment sets it (HOOKRELAY_UNVERIFIED_TLS_BURST, _PER_MINUTE). */
export type TlsHandshakeLimits = Pick<TlsHandshakeBudgetOptions, 'burst' | 'perMinute'>;

/** How a send let through ended, for `settle`. */
export type TlsSendOutcome =
  /** Its receiver answered (over a connection that verified, new or kept alive). */
  | { kind: 'answered' }
  /** A connection it needed failed its handshake: the error markHandshakeFailed marked. */
  | { kind: 'handshake_failed'; failure: object }
  /** Decided before a connection it began had ended (a token request's deadline): how that ends. */
  | { kind: 'pending'; later: Promise<TlsSendOutcome> }
  | { kind: 'other' };

const OTHER: TlsSendOutcome = Object.freeze({ kind: 'other' });

/** The pass of a send that opens no TLS connection (plain HTTP): nothing to tell. */
const NO_TLS: TlsPass = Object.freeze({ settle: () => undefined });

/** A send let through: `settle` says how it ended, once. */
export interface TlsPass {
  settle(outcome: TlsSendOutcome): void;
}

/** A promise and what resolves it: a send's try of a host, a subscriber's settled reservation. */
interface Signal {
  done: Promise<void>;
  resolve: () => void;
}

function signal(): Signal {
  let resolve = (): void => undefined;
  const done = new Promise<void>((r) => (resolve = r));
  return { done, resolve };
}

interface Bucket {
  balance: number;
  at: number;
}

/** The URLs a send to `endpoint` may open connections to: its receiver first, then its OAuth token URL. */
export function urlsConnectedTo(endpoint: Pick<Endpoint, 'url' | 'auth'>): string[] {
  return endpoint.auth?.type === 'oauth2-client-credentials' ? [endpoint.url, endpoint.auth.tokenUrl] : [endpoint.url];
}

/**
 * `https://host:port` as a URL and undici's connector options both name it: the default port filled
 * in, an IPv6 address in brackets (undici hands the connector `::1` for `https://[::1]/`).
 */
export function tlsOrigin(protocol: string, hostname: string, port: string | number | undefined | null): string | null {
  if (protocol !== 'https:') return null;
  const host = unbracket(hostname).toLowerCase();
  return `https://${isIP(host) === 6 ? `[${host}]` : host}:${port === undefined || port === null || port === '' ? 443 : port}`;
}

export class TlsHandshakeBudget {
  private readonly burst: number;
  private readonly perMs: number;
  private readonly failureMemoryMs: number;
  private readonly maxOrigins: number;
  /** Origin -> whether its last handshake here verified (or a send to it was answered since); insertion order is recency of use. */
  private readonly verified = new Map<string, boolean>();
  /** `<subscriberId>\n<origin>` -> when a send of the subscriber last failed a handshake with it; insertion order is age. */
  private readonly failedAt = new Map<string, number>();
  private readonly buckets = new Map<string, Bucket>();
  /**
   * Per subscriber, its failed handshakes set aside by sends in flight, and a signal when one of
   * them settles: a send that finds none left only because of those waits for them, not a refill.
   */
  private readonly reserved = new Map<string, { count: number; settled: Signal }>();
  /** Per subscriber, when each of its parked sleepers wakes, and when the next one parked would. */
  private readonly wakes = new Map<string, { next: number; bySleeper: Map<string, number> }>();
  /** Failed handshakes charged already: sends that waited on one connection (a shared token request) pay it once. */
  private readonly charged = new WeakSet<object>();
  /**
   * Origin -> subscriber -> the send of that subscriber trying it now (its last handshake failed,
   * or none here): the subscriber's sends behind it wait for its handshake, or for its end. Per
   * subscriber: another subscriber's send, which may wait long before it connects (for a lane slot,
   * its token, its DNS), holds no one else.
   */
  private readonly trying = new Map<string, Map<string, Signal>>();

  constructor(private readonly options: TlsHandshakeBudgetOptions) {
    this.burst = options.burst ?? DEFAULT_TLS_HANDSHAKE_BUDGET.burst;
    this.perMs = (options.perMinute ?? DEFAULT_TLS_HANDSHAKE_BUDGET.perMinute) / 60_000;
    this.failureMemoryMs = options.failureMemoryMs ?? 600_000;
    this.maxOrigins = options.maxOrigins ?? 10_000;
    if (!(this.burst >= 1) || !(this.perMs > 0)) throw new RangeError('TlsHandshakeBudget: burst must be >= 1 and perMinute > 0');
  }

  /** From the dispatcher's connector: how a handshake with `origin` ended. */
  handshake(origin: string, verified: boolean): void {
    this.remember(this.verified, origin, verified);
    this.stopTrying(origin);
  }

  /**
   * Before a send of `subscriberId` that may open connections to `urls` (its receiver first, then a
   * token URL): a pass, or how long until the subscriber may try a host not known to verify again.
   * Sends to a host that another send of the same subscriber is trying first (its last handshake
   * failed, or none here) wait for that one's handshake: a burst of deliveries to a new receiver
   * costs one handshake before the others know, not one each. `untried`: URLs of `urls` the send
   * will likely not connect to (an OAuth token URL while a token is in hand): counted for the
   * reservation, but no send waits behind another for them (none would tell how they went).
   */
  async pass(subscriberId: string, urls: readonly string[], untried: readonly string[] = []): Promise<TlsPass | { waitMs: number }> {
    const { receiver, tls } = originsOf(urls);
    const quiet = new Set(untried.map(originOf));
    for (;;) {
      const free = this.freePass(subscriberId, receiver, tls);
      if (free) return free;
      const tried = tls.filter((o) => this.verified.get(o) !== true && !quiet.has(o));
      const ahead = tried.map((o) => this.trying.get(o)?.get(subscriberId)).find((t) => t !== undefined);
      if (ahead) {
        await ahead.done;
        continue;
      }
      const now = this.options.now();
      const balance = this.balance(subscriberId, now);
      if (balance < 1) {
        const refillMs = Math.ceil((1 - balance) / this.perMs);
        const inFlight = this.reserved.get(subscriberId);
        // None left only while sends in flight hold theirs: given back as those are answered, or
        // by the refill, whichever comes first.
        if (inFlight && balance + inFlight.count >= 1) {
          await firstOf(inFlight.settled.done, refillMs);
          continue;
        }
        return { waitMs: refillMs };
      }
      return this.reservedPass(subscriberId, receiver, tried);
    }
  }

  /**
   * The pass of a send that needs no reservation, at once: no TLS connection (plain HTTP), or
   * every host known to verify and none failed lately for the subscriber. Undefined otherwise
   * (`pass` then decides). Every attempt asks: this path allocates nothing for plain HTTP.
   */
  passNow(subscriberId: string, urls: readonly string[]): TlsPass | undefined {
    if (urls.length === 1 && originOf(urls[0] as string) === null) return NO_TLS;
    const { receiver, tls } = originsOf(urls);
    return this.freePass(subscriberId, receiver, tls);
  }

  private freePass(subscriberId: string, receiver: string | null, tls: readonly string[]): TlsPass | undefined {
    if (tls.length === 0) return NO_TLS;
    const now = this.options.now();
    for (const o of tls) if (this.touch(o) !== true || this.failedLately(subscriberId, o, now)) return undefined;
    // Known to verify: free, and a failure now is charged after the fact.
    return this.settleOnce((outcome) => this.settled(subscriberId, receiver, outcome, false));
  }

  private reservedPass(subscriberId: string, receiver: string | null, unverified: readonly string[]): TlsPass {
    this.charge(subscriberId);
    let r = this.reserved.get(subscriberId);
    if (!r) this.reserved.set(subscriberId, (r = { count: 0, settled: signal() }));
    r.count++;
    const tries = unverified.map((o) => this.startTrying(o, subscriberId));
    return this.settleOnce((outcome) => {
      this.settled(subscriberId, receiver, outcome, true);
      unverified.forEach((o, i) => this.stopTrying(o, subscriberId, tries[i]));
      const held = this.reserved.get(subscriberId);
      if (!held) return;
      // Those waiting look again; the rest still in flight make a new signal.
      held.settled.resolve();
      held.settled = signal();
      if (--held.count === 0) this.reserved.delete(subscriberId);
    });
  }

  /** A pass settled once; a pending outcome is waited for (its reservation and place kept until then). */
  private settleOnce(finish: (outcome: Exclude<TlsSendOutcome, { kind: 'pending' }>) => void): TlsPass {
    let settled = false;
    const resolveAll = (outcome: TlsSendOutcome): void => {
      if (outcome.kind === 'pending') outcome.later.then(resolveAll, () => resolveAll(OTHER));
      else finish(outcome);
    };
    return {
      settle: (outcome) => {
        if (settled) return;
        settled = true;
        resolveAll(outcome);
      },
    };
  }

  /**
   * How long `sleeper` (an endpoint of `subscriberId`, parked because the subscriber must wait
   * `waitMs`) sleeps: one of the subscriber's sleepers wakes per failed handshake that comes back,
   * in the order they were parked, so that each wake-up has one to spend. Woken all at the refill,
   * every one but the first would be admitted, queued, loaded and parked again, a turn of up to 25
   * deliveries each, at every refill. A sleeper asked again before its time keeps its time (a turn
   * parks several deliveries of one endpoint).
   */
  sleepMs(subscriberId: string, sleeper: string, waitMs: number): number {
    const now = this.options.now();
    let w = this.wakes.get(subscriberId);
    if (!w) this.wakes.set(subscriberId, (w = { next: 0, bySleeper: new Map() }));
    const kept = w.bySleeper.get(sleeper);
    if (kept !== undefined && kept > now) return kept - now;
    // At most a whole refill (`burst` of them) later than the first could go: a subscriber with
    // thousands of endpoints (or a certificate fixed since) is not put to sleep for hours; those
    // beyond wake together at that bound.
    const interval = Math.ceil(1 / this.perMs);
    const at = Math.min(Math.max(now + waitMs, w.next), now + waitMs + this.burst * interval);
    w.next = Math.max(w.next, at + interval);
    w.bySleeper.set(sleeper, at);
    if (w.bySleeper.size > 1000) for (const [s, t] of w.bySleeper) if (t <= now) w.bySleeper.delete(s);
    if (this.wakes.size > 1000) for (const [s, x] of this.wakes) if (x.next <= now) this.wakes.delete(s);
    return at - now;
  }

  /** A send's end: `reserved`, it set a failed handshake aside, which stays spent only for a failure it is the first to report. */
  private settled(
    subscriberId: string,
    receiver: string | null,
    outcome: Exclude<TlsSendOutcome, { kind: 'pending' }>,
    reserved: boolean,
  ): void {
    if (outcome.kind === 'answered' && receiver !== null && this.verified.get(receiver) !== true) {
      // Whatever its connection (a kept-alive one needs no handshake), it verified: undici refuses one that did not.
      this.remember(this.verified, receiver, true);
    }
    if (outcome.kind !== 'handshake_failed') {
      if (reserved) this.refund(subscriberId);
      return;
    }
    const failedWith = failedOriginOf(outcome.failure);
    if (failedWith !== null) this.remember(this.failedAt, `${subscriberId}\n${failedWith}`, this.options.now());
    const first = !this.charged.has(outcome.failure);
    this.charged.add(outcome.failure);
    if (first && !reserved) this.charge(subscriberId);
    else if (!first && reserved) this.refund(subscriberId);
  }

  private failedLately(subscriberId: string, origin: string, now: number): boolean {
    const at = this.failedAt.get(`${subscriberId}\n${origin}`);
    return at !== undefined && now - at < this.failureMemoryMs;
  }

  /** Whether `origin` is known to verify, moved to the most recently used end. */
  private touch(origin: string): boolean | undefined {
    const verified = this.verified.get(origin);
    if (verified !== undefined) {
      this.verified.delete(origin);
      this.verified.set(origin, verified);
    }
    return verified;
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > this.maxOrigins) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
  }

  /** A handshake that failed (or may: a reservation), caused by `subscriberId`'s send. */
  private charge(subscriberId: string): void {
    const now = this.options.now();
    this.buckets.set(subscriberId, { balance: this.balance(subscriberId, now) - 1, at: now });
    // Full buckets need no entry: dropped when the map grows, so it holds those in debt only.
    if (this.buckets.size > 1000) {
      for (const [id] of this.buckets) if (this.balance(id, now) >= this.burst) this.buckets.delete(id);
    }
  }

  private refund(subscriberId: string): void {
    const now = this.options.now();
    const balance = Math.min(this.burst, this.balance(subscriberId, now) + 1);
    if (balance >= this.burst) this.buckets.delete(subscriberId);
    else this.buckets.set(subscriberId, { balance, at: now });
  }

  private balance(subscriberId: string, now: number): number {
    const b = this.buckets.get(subscriberId);
    if (!b) return this.burst;
    return Math.min(this.burst, b.balance + (now - b.at) * this.perMs);
  }

  private startTrying(origin: string, subscriberId: string): Signal {
    const t = signal();
    let bySubscriber = this.trying.get(origin);
    if (!bySubscriber) this.trying.set(origin, (bySubscriber = new Map()));
    bySubscriber.set(subscriberId, t);
    return t;
  }

  /**
   * The sends waiting on `origin` look again: every subscriber's (`subscriberId` absent: its
   * handshake ended), or one subscriber's, unless another of its sends has begun trying it since
   * `only` did.
   */
  private stopTrying(origin: string, subscriberId?: string, only?: Signal): void {
    only?.resolve();
    const bySubscriber = this.trying.get(origin);
    if (!bySubscriber) return;
    if (subscriberId === undefined) {
      for (const t of bySubscriber.values()) t.resolve();
      this.trying.delete(origin);
      return;
    }
    const t = bySubscriber.get(subscriberId);
    if (!t || (only && t !== only)) return;
    t.resolve();
    bySubscriber.delete(subscriberId);
    if (bySubscriber.size === 0) this.trying.delete(origin);
  }
}

/** Resolves when `settled` does or `ms` have passed. */
function firstOf(settled: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([settled, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}

/** The TLS origins of a send's `urls`, and its receiver's (the first URL's; null for plain HTTP). */
function originsOf(urls: readonly string[]): { receiver: string | null; tls: string[] } {
  const origins = urls.map(originOf);
  return { receiver: origins[0] ?? null, tls: origins.filter((o): o is string => o !== null) };
}

/** The TLS origin `url` connects to; null for plain HTTP or what is not a URL (no handshake). */
function originOf(url: string): string | null {
  // Every attempt asks: plain HTTP (no handshake) is answered without parsing the URL.
  if (!/^https:/i.test(url)) return null;
  let origin = originsOfUrls.get(url);
  if (origin === undefined) {
    try {
      const parsed = new URL(url);
      origin = tlsOrigin(parsed.protocol, parsed.hostname, parsed.port);
    } catch {
      origin = null;
    }
    if (originsOfUrls.size >= 10_000) originsOfUrls.clear();
    originsOfUrls.set(url, origin);
  }
  return origin;
}

/** URLs already parsed by originOf (an endpoint's URL is asked for at each of its attempts). */
const originsOfUrls = new Map<string, string | null>();

const HANDSHAKE_FAILED = Symbol('hookrelay.handshakeFailed');

/**
 * Marks a connection error as a failed TLS handshake with `origin`: the connection ended after TCP
 * connected and before TLS did (the dispatcher's connector knows which). Whatever its kind (`tls`,
 * a reset, a timeout), the chain may have been checked already, and it is charged as such.
 */
export function markHandshakeFailed(err: unknown, origin: string): void {
  if (err && typeof err === 'object') (err as Record<symbol, unknown>)[HANDSHAKE_FAILED] = origin;
}

/** The marked error (markHandshakeFailed) that `err` is or was caused by; undefined for any other failure. */
export function handshakeFailureOf(err: unknown): object | undefined {
  let current: unknown = err;
  for (let depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    if (typeof (current as Record<symbol, unknown>)[HANDSHAKE_FAILED] === 'string') return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The origin a marked error's handshake was with. */
function failedOriginOf(failure: object): string | null {
  const origin = (failure as Record<symbol, unknown>)[HANDSHAKE_FAILED];
  return typeof origin === 'string' ? origin : null;
}
