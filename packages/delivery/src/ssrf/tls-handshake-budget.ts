import type { Endpoint } from '@hookrelay/contracts';

/**
 * What a failed TLS handshake may cost, bounded per subscriber in each process.
 *
 * Node's TLS client lets OpenSSL finish a handshake and judges the certificate afterwards, so
 * OpenSSL first checks every signature of the chain a server sent, on the event loop every
 * subscriber shares. A chain of keys with huge public exponents costs ~104 ms of CPU with 20
 * issuers and ~227 ms with 45 (`npx tsx scripts/probe-tls-chain-verify.ts`), and each attempt
 * fails fast, so neither the slow lane nor the caps bound it: a subscriber's endpoints at such a
 * receiver, fanned out and retried, could hold the worker for seconds at a time. Node exposes
 * neither OpenSSL's verify depth nor its certificate-list size, so the bound is here, per process
 * (each process guards its own event loop): each subscriber may cause `burst` failed handshakes at
 * once, refilled at `perMinute` a minute. A send to an origin whose last handshake here did not
 * verify (or that has not been reached here) sets one aside before it goes, so sends side by side
 * cannot overrun the bound; once none is left, the subscriber's sends to such origins wait for the
 * refill (the worker parks them), while its sends to origins that verified go on as before. So a
 * subscriber's failures cost it, not the others. A handshake that failed for any other TLS reason
 * (no shared cipher) counts too: it is a `tls` failure all the same, and the refill is meant to be
 * ample for a receiver that is only misconfigured.
 */
export interface TlsHandshakeBudgetOptions {
  /** Failed handshakes a subscriber may cause before its sends to unverified origins wait. @defaultValue 10 */
  burst?: number;
  /** How many of them come back a minute. @defaultValue 10 */
  perMinute?: number;
  now: () => number;
  /** Origins remembered, the least recently told forgotten first (a forgotten one is unverified). @defaultValue 10000 */
  maxOrigins?: number;
}

export const DEFAULT_TLS_HANDSHAKE_BUDGET = Object.freeze({ burst: 10, perMinute: 10 });

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

/** `https://host:port`, as both a URL and undici's connector options name it (default port filled in). */
export function tlsOrigin(protocol: string, hostname: string, port: string | number | undefined | null): string | null {
  if (protocol !== 'https:') return null;
  return `https://${hostname.toLowerCase()}:${port === undefined || port === null || port === '' ? 443 : port}`;
}

/** A send let through: `settle` says how it ended, once. */
export interface TlsPass {
  /** `failedHandshake`: the send (or its token request) failed at a TLS handshake. */
  settle(failedHandshake: boolean): void;
}

export class TlsHandshakeBudget {
  private readonly burst: number;
  private readonly perMs: number;
  private readonly maxOrigins: number;
  /** Origin -> whether its last handshake verified; insertion order is recency. */
  private readonly origins = new Map<string, boolean>();
  private readonly buckets = new Map<string, Bucket>();
  /** Origins a send is trying now, not known to verify: the sends behind it wait for how it went. */
  private readonly trying = new Map<string, Trying>();

  constructor(private readonly options: TlsHandshakeBudgetOptions) {
    this.burst = options.burst ?? DEFAULT_TLS_HANDSHAKE_BUDGET.burst;
    this.perMs = (options.perMinute ?? DEFAULT_TLS_HANDSHAKE_BUDGET.perMinute) / 60_000;
    this.maxOrigins = options.maxOrigins ?? 10_000;
    if (!(this.burst >= 1) || !(this.perMs > 0)) throw new RangeError('TlsHandshakeBudget: burst must be >= 1 and perMinute > 0');
  }

  /** From the dispatcher's connector: how a handshake with `origin` ended. */
  handshake(origin: string, verified: boolean): void {
    this.origins.delete(origin);
    this.origins.set(origin, verified);
    if (this.origins.size > this.maxOrigins) {
      const oldest = this.origins.keys().next().value;
      if (oldest !== undefined) this.origins.delete(oldest);
    }
    this.stopTrying(origin);
  }

  /**
   * Before a send of `subscriberId` that may open connections to `urls` (a receiver, a token URL):
   * a pass when each is plain HTTP or verified at its last handshake here, or when the subscriber
   * has a failed handshake left to spend (one is set aside until the pass is settled, and given
   * back unless the send failed at a handshake); else how long until it has one. Sends to an origin
   * that another send is trying first (not known to verify) wait for its handshake: a burst of
   * deliveries to a new receiver costs one handshake before the others know, not one each.
   */
  async pass(subscriberId: string, urls: readonly string[]): Promise<TlsPass | { waitMs: number }> {
    for (;;) {
      const unverified = urls.map(originOf).filter((o): o is string => o !== null && this.origins.get(o) !== true);
      if (unverified.length === 0) {
        // Verified here lately, and failing now: charged after the fact (nothing was set aside).
        return { settle: (failed) => (failed ? this.charge(subscriberId) : undefined) };
      }
      const ahead = unverified.map((o) => this.trying.get(o)).find((t) => t !== undefined);
      if (ahead) {
        await ahead.done;
        continue;
      }
      const balance = this.balance(subscriberId);
      if (balance < 1) return { waitMs: Math.ceil((1 - balance) / this.perMs) };
      this.charge(subscriberId);
      const tries = unverified.map((o) => this.startTrying(o));
      let settled = false;
      return {
        settle: (failed) => {
          if (settled) return;
          settled = true;
          if (!failed) this.refund(subscriberId);
          unverified.forEach((o, i) => this.stopTrying(o, tries[i]));
        },
      };
    }
  }

  /** A handshake that failed, caused by `subscriberId`'s send. */
  private charge(subscriberId: string): void {
    this.buckets.set(subscriberId, { balance: this.balance(subscriberId) - 1, at: this.options.now() });
    // Full buckets need no entry: dropped when the map grows, so it holds those in debt only.
    if (this.buckets.size > 1000) {
      for (const [id] of this.buckets) if (this.balance(id) >= this.burst) this.buckets.delete(id);
    }
  }

  private refund(subscriberId: string): void {
    this.buckets.set(subscriberId, { balance: Math.min(this.burst, this.balance(subscriberId) + 1), at: this.options.now() });
  }

  private startTrying(origin: string): Trying {
    let resolve = (): void => undefined;
    const done = new Promise<void>((r) => (resolve = r));
    const t = { done, resolve };
    this.trying.set(origin, t);
    return t;
  }

  /** The sends waiting on `origin` look again; `only`: unless another send has begun trying it since. */
  private stopTrying(origin: string, only?: Trying): void {
    const t = this.trying.get(origin);
    if (!t) return;
    if (only && t !== only) {
      only.resolve();
      return;
    }
    t.resolve();
    this.trying.delete(origin);
  }

  private balance(subscriberId: string): number {
    const b = this.buckets.get(subscriberId);
    if (!b) return this.burst;
    return Math.min(this.burst, b.balance + (this.options.now() - b.at) * this.perMs);
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
