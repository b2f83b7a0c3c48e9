import { createHash } from 'node:crypto';
import type { Logger } from '@hookrelay/observability';
import { errorKindOf } from '../send';
import type { Dispatcher } from 'undici';
import { unbracket } from '../ssrf/check-target-url';
import { dnsQueuedMsOf, type HostResolver } from '../ssrf/host-resolver';
import { AuthFailure } from './auth-failure';
import { requestClientCredentialsToken, type AccessToken, type ClientCredentialsAuth } from './oauth-token-request';

export interface OAuthTokenCacheOptions {
  /** The worker's guarded dispatcher: token URLs get the same SSRF guard as receivers. */
  dispatcher: Dispatcher;
  userAgent: string;
  logger?: Logger;
  now?: () => number;
  /** Refresh this long before expires_in runs out; never more than a tenth of the lifetime. @defaultValue 30000 */
  refreshMarginMs?: number;
  /** Lifetime assumed when a token response has no expires_in (a 401 still refreshes it sooner). @defaultValue 300000 */
  defaultLifetimeMs?: number;
  /** Deadline of one token request. @defaultValue 10000 */
  timeoutMs?: number;
  /** Endpoints remembered; the oldest is dropped past this. @defaultValue 10000 */
  maxEntries?: number;
  /** Replaces the HTTP token request (tests). */
  fetchToken?: (auth: ClientCredentialsAuth) => Promise<AccessToken>;
  /**
   * The DNS behind `dispatcher` (HostResolver). A token URL's name is looked up here first, for
   * the endpoint's subscriber, so the connection finds it in the cache: a connection knows no
   * subscriber, and a token host whose DNS never answers must take its own subscriber's share.
   */
  resolver?: HostResolver;
}

interface Entry {
  fingerprint: string;
  token: string;
  expiresAt: number;
}

/**
 * OAuth 2.0 client-credentials tokens, one per endpoint, kept in the worker's memory until
 * shortly before they expire. Concurrent deliveries to one endpoint share one token request
 * (single flight), so a burst of 50 deliveries costs the token endpoint one call, not 50.
 * An entry is keyed by the endpoint and a hash of its OAuth config, so changed credentials
 * are never answered with a token obtained under the old ones.
 */
export class OAuthTokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<string>>();
  /** Endpoints forgotten while a token request of theirs ran: its answer is used once, not kept. */
  private readonly forgottenWhileFetching = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly options: OAuthTokenCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A valid access token for the endpoint: cached, joined to a request in flight, or fetched for `subscriberId`. */
  async token(endpointId: string, auth: ClientCredentialsAuth, subscriberId?: string): Promise<string> {
    const fingerprint = fingerprintOf(auth);
    const kept = this.keptToken(endpointId, fingerprint);
    if (kept !== undefined) return kept;
    const key = `${endpointId}\n${fingerprint}`;
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const load = this.fetch(endpointId, auth, fingerprint, subscriberId).finally(() => this.inflight.delete(key));
    this.inflight.set(key, load);
    return load;
  }

  /**
   * The endpoint's token if one is kept and not yet due for refresh, without waiting: an attempt
   * that finds one sends at once; one that does not fetches it before it takes a slot on its
   * receiver's address (AuthenticatedSender.credentials).
   */
  cached(endpointId: string, auth: ClientCredentialsAuth): string | undefined {
    return this.keptToken(endpointId, fingerprintOf(auth));
  }

  private keptToken(endpointId: string, fingerprint: string): string | undefined {
    const entry = this.entries.get(endpointId);
    return entry && entry.fingerprint === fingerprint && entry.expiresAt > this.now() ? entry.token : undefined;
  }

  /**
   * The receiver refused `token` (401): drop it, unless a newer token already replaced it, so
   * that many deliveries refused at once lead to one refresh, not one each.
   */
  invalidate(endpointId: string, token: string): void {
    if (this.entries.get(endpointId)?.token === token) this.entries.delete(endpointId);
  }

  /**
   * Resolves the token URL's name for its subscriber (HostResolver). A failure fails the token
   * request as its connection would have: "token endpoint unreachable (dns)".
   */
  private async lookUpTokenHost(resolver: HostResolver, tokenUrl: string, subscriberId: string | undefined): Promise<void> {
    let host: string;
    try {
      host = unbracket(new URL(tokenUrl).hostname);
    } catch (err) {
      throw new AuthFailure('token URL is not a valid URL', { cause: err });
    }
    try {
      await resolver.lookup(host, subscriberId);
    } catch (err) {
      throw new AuthFailure(`token endpoint unreachable (${errorKindOf(err)})`, { cause: err, dnsQueuedMs: dnsQueuedMsOf(err) });
    }
  }

  /** Drops the endpoint's token (it changed or was deleted): a deleted endpoint's must not stay until evicted. */
  forget(endpointId: string): void {
    this.entries.delete(endpointId);
    for (const key of this.inflight.keys()) if (key.startsWith(`${endpointId}\n`)) this.forgottenWhileFetching.add(endpointId);
  }

  /** Endpoints with a token kept (for tests and the curious). */
  get size(): number {
    return this.entries.size;
  }

  /** Drops every token (the endpoint-change messages sent while the worker was disconnected are lost). */
  clear(): void {
    this.entries.clear();
    for (const key of this.inflight.keys()) this.forgottenWhileFetching.add(key.slice(0, key.indexOf('\n')));
  }

  private async fetch(endpointId: string, auth: ClientCredentialsAuth, fingerprint: string, subscriberId?: string): Promise<string> {
    const fetchToken =
      this.options.fetchToken ??
      ((a: ClientCredentialsAuth) =>
        requestClientCredentialsToken(a, {
          dispatcher: this.options.dispatcher,
          userAgent: this.options.userAgent,
          timeoutMs: this.options.timeoutMs ?? 10_000,
        }));
    let got: AccessToken;
    let requestedAt = this.now();
    try {
      if (this.options.resolver) {
        await this.lookUpTokenHost(this.options.resolver, auth.tokenUrl, subscriberId);
        requestedAt = this.now();
      }
      got = await fetchToken(auth);
    } catch (err) {
      // Info, not warn: a subscriber's token endpoint or credentials fail this, once per attempt
      // (the attempt is recorded as an auth error); it is not the service's trouble.
      this.options.logger?.info({ endpointId, reason: (err as Error).message }, 'auth.token_failed');
      // A forget heard while it ran has nothing left to hold back: the mark goes, as after a token
      // (kept, it stayed for good, and held back the endpoint's next token).
      this.forgottenWhileFetching.delete(endpointId);
      throw err;
    }
    const lifetimeMs = got.expiresInS !== undefined ? got.expiresInS * 1000 : (this.options.defaultLifetimeMs ?? 300_000);
    const marginMs = Math.min(this.options.refreshMarginMs ?? 30_000, lifetimeMs / 10);
    // Counted from when the request left, not when the answer came: the server's clock started then.
    const expiresAt = requestedAt + lifetimeMs - marginMs;
    this.entries.delete(endpointId);
    if (this.forgottenWhileFetching.delete(endpointId)) return got.accessToken;
    if (this.entries.size >= (this.options.maxEntries ?? 10_000)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(endpointId, { fingerprint, token: got.accessToken, expiresAt });
    this.options.logger?.info({ endpointId, expiresInS: got.expiresInS ?? null }, 'auth.token_fetched');
    return got.accessToken;
  }
}

/**
 * Fingerprints by settings object: a worker keeps each endpoint's settings as one object until the
 * endpoint changes (its cached copy), so every attempt after the first finds its fingerprint here
 * instead of hashing the settings again. Weak: an endpoint's old settings go with its old copy.
 */
const fingerprints = new WeakMap<ClientCredentialsAuth, string>();

function fingerprintOf(auth: ClientCredentialsAuth): string {
  let fingerprint = fingerprints.get(auth);
  if (fingerprint === undefined) {
    const parts = [auth.tokenUrl, auth.clientId, auth.clientSecret, auth.scope ?? '', auth.audience ?? '', auth.clientAuth];
    fingerprint = createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
    fingerprints.set(auth, fingerprint);
  }
  return fingerprint;
}
