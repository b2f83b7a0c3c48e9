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
 * here (or answered since) and has failed none for `failureMemoryMs`. Otherwise it sets a failed
 * handshake aside before it goes, given back unless it failed one, so sends side by side cannot
 * overrun the bound; with none left, the subscriber's send waits for the refill (the worker parks
 * the delivery). A host that failed lately keeps costing a reservation even after it verified
 * again, so a receiver that alternates good and hostile chains cannot reset the count. So a
 * subscriber's failures cost it, not the others, and its hosts that verify are not held.
 */
export interface TlsHandshakeBudgetOptions {
  /** Failed handshakes a subscriber may cause before its sends to hosts not known to verify wait. @defaultValue 10 */
  burst?: number;
  /** How many of them come back a minute. @defaultValue 10 */
  perMinute?: number;
  now: () => number;
  /** How long a host that failed a handshake costs reservations after it verifies again. @defaultValue 600000 */
  failureMemoryMs?: number;
  /** Hosts remembered, the least recently used forgotten first (a forgotten one is not known to verify). @defaultValue 10000 */
  maxOrigins?: number;
}

export const DEFAULT_TLS_HANDSHAKE_BUDGET = Object.freeze({ burst: 10, perMinute: 10 });

/** How a send let through ended, for `settle`. */
export type TlsSendOutcome = 'handshake_failed' | 'answered' | 'other';

/** A send let through: `settle` says how it ended, once. */
export interface TlsPass {
  settle(outcome: TlsSendOutcome): void;
}

interface OriginState {
  /** Its last handshake verified, or a send to it was answered since. */
  verified: boolean;
  /** When it last failed a handshake; 0: never here. */
  failedAt: number;
}

interface Trying {
  done: Promise<void>;
  resolve: () => void;
}

interface Bucket {
  balance: number;
  at: number;
}

/** The URLs a send to `endpoint` may open connections to: its receiver, and its OAuth token URL. */
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
  /** Insertion order is recency of use. */
  private readonly origins = new Map<string, OriginState>();
  private readonly buckets = new Map<string, Bucket>();
  /**
   * Origin -> subscriber -> the send of that subscriber trying it now (its last handshake failed,
   * or none here): the subscriber's sends behind it wait for its handshake, or for its end. Per
   * subscriber: another subscriber's send, which may wait long before it connects (for a lane slot,
   * its token, its DNS), holds no one else.
   */
  private readonly trying = new Map<string, Map<string, Trying>>();

  constructor(private readonly options: TlsHandshakeBudgetOptions) {
    this.burst = options.burst ?? DEFAULT_TLS_HANDSHAKE_BUDGET.burst;
    this.perMs = (options.perMinute ?? DEFAULT_TLS_HANDSHAKE_BUDGET.perMinute) / 60_000;
    this.failureMemoryMs = options.failureMemoryMs ?? 600_000;
    this.maxOrigins = options.maxOrigins ?? 10_000;
    if (!(this.burst >= 1) || !(this.perMs > 0)) throw new RangeError('TlsHandshakeBudget: burst must be >= 1 and perMinute > 0');
  }

  /** From the dispatcher's connector: how a handshake with `origin` ended. */
  handshake(origin: string, verified: boolean): void {
    const state = this.origins.get(origin);
    this.remember(origin, { verified, failedAt: verified ? (state?.failedAt ?? 0) : this.options.now() });
    this.stopTrying(origin);
  }

  /**
   * Before a send of `subscriberId` that may open connections to `urls` (a receiver, a token URL):
   * a pass, or how long until the subscriber may try a host not known to verify again. Sends to a
   * host that another send of the same subscriber is trying first (its last handshake failed, or
   * none here) wait for that one's handshake: a burst of deliveries to a new receiver costs one
   * handshake before the others know, not one each.
   */
  async pass(subscriberId: string, urls: readonly string[]): Promise<TlsPass | { waitMs: number }> {
    const origins = urls.map(originOf).filter((o): o is string => o !== null);
    for (;;) {
      const now = this.options.now();
      const states = origins.map((o) => this.touch(o));
      const unverified = origins.filter((_, i) => !states[i]?.verified);
      if (unverified.length === 0 && states.every((s) => !this.failedLately(s, now))) {
        // Known to verify: free, and a failure now is charged after the fact.
        return { settle: (outcome) => this.settleFree(subscriberId, origins, outcome) };
      }
      const ahead = unverified.map((o) => this.trying.get(o)?.get(subscriberId)).find((t) => t !== undefined);
      if (ahead) {
        await ahead.done;
        continue;
      }
      const balance = this.balance(subscriberId, now);
      if (balance < 1) return { waitMs: Math.ceil((1 - balance) / this.perMs) };
      this.charge(subscriberId);
      const tries = unverified.map((o) => this.startTrying(o, subscriberId));
      let settled = false;
      return {
        settle: (outcome) => {
          if (settled) return;
          settled = true;
          if (outcome !== 'handshake_failed') this.refund(subscriberId);
          if (outcome === 'answered') for (const o of origins) this.answered(o);
          unverified.forEach((o, i) => this.stopTrying(o, subscriberId, tries[i]));
        },
      };
    }
  }

  private settleFree(subscriberId: string, origins: readonly string[], outcome: TlsSendOutcome): void {
    if (outcome === 'handshake_failed') this.charge(subscriberId);
    else if (outcome === 'answered') for (const o of origins) this.answered(o);
  }

  /** A send to `origin` was answered: whatever its connection, it verified (undici refuses one that did not). */
  private answered(origin: string): void {
    const state = this.origins.get(origin);
    if (!state?.verified) this.remember(origin, { verified: true, failedAt: state?.failedAt ?? 0 });
  }

  private failedLately(state: OriginState | undefined, now: number): boolean {
    return state !== undefined && state.failedAt > 0 && now - state.failedAt < this.failureMemoryMs;
  }

  /** `origin`'s state, moved to the most recently used end. */
  private touch(origin: string): OriginState | undefined {
    const state = this.origins.get(origin);
    if (state) {
      this.origins.delete(origin);
      this.origins.set(origin, state);
    }
    return state;
  }

  private remember(origin: string, state: OriginState): void {
    this.origins.delete(origin);
    this.origins.set(origin, state);
    if (this.origins.size > this.maxOrigins) {
      const oldest = this.origins.keys().next().value;
      if (oldest !== undefined) this.origins.delete(oldest);
    }
  }

  /** A handshake that failed, caused by `subscriberId`'s send. */
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
    this.buckets.set(subscriberId, { balance: Math.min(this.burst, this.balance(subscriberId, now) + 1), at: now });
  }

  private balance(subscriberId: string, now: number): number {
    const b = this.buckets.get(subscriberId);
    if (!b) return this.burst;
    return Math.min(this.burst, b.balance + (now - b.at) * this.perMs);
  }

  private startTrying(origin: string, subscriberId: string): Trying {
    let resolve = (): void => undefined;
    const done = new Promise<void>((r) => (resolve = r));
    const t = { done, resolve };
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
  private stopTrying(origin: string, subscriberId?: string, only?: Trying): void {
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

/** The TLS origin `url` connects to; null for plain HTTP or what is not a URL (no handshake). */
function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    return tlsOrigin(parsed.protocol, parsed.hostname, parsed.port);
  } catch {
    return null;
  }
}

const HANDSHAKE_FAILED = Symbol('hookrelay.handshakeFailed');

/**
 * Marks a connection error as a failed TLS handshake: the connection ended after TCP connected and
 * before TLS did (the dispatcher's connector knows which). Whatever its kind (`tls`, a reset, a
 * timeout), the chain may have been checked already, and it is charged as such.
 */
export function markHandshakeFailed(err: unknown): void {
  if (err && typeof err === 'object') (err as Record<symbol, unknown>)[HANDSHAKE_FAILED] = true;
}

/** Whether `err`, or an error it was caused by, is a failed TLS handshake (markHandshakeFailed). */
export function isHandshakeFailure(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    if ((current as Record<symbol, unknown>)[HANDSHAKE_FAILED] === true) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
