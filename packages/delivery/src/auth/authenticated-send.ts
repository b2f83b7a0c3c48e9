import type { Endpoint } from '@hookrelay/contracts';
import type { Logger } from '@hookrelay/observability';
import type { Dispatcher } from 'undici';
import { failedSend, sendRequest, type OutboundRequest, type SendResult } from '../send';
import { unbracket } from '../ssrf/check-target-url';
import type { HostResolver } from '../ssrf/host-resolver';
import { AuthFailure } from './auth-failure';
import { digestAuthorization, pickDigestChallenge } from './digest-response';
import type { DigestSessions } from './digest-sessions';
import type { OAuthTokenCache } from './oauth-token-cache';
import type { ClientCredentialsAuth } from './oauth-token-request';
import { parseWwwAuthenticate } from './www-authenticate';

type DigestAuth = Extract<NonNullable<Endpoint['auth']>, { type: 'digest' }>;
/**
 * The endpoint a send is for: its id keys tokens and Digest sessions, its subscriber pays for DNS;
 * and the caller's deadline, if it has one (SendContext.deadlineAt).
 */
type Owner = Pick<Endpoint, 'id' | 'subscriberId'> & { deadlineAt?: number };

export interface AuthenticatedSenderOptions {
  dispatcher: Dispatcher;
  oauth: OAuthTokenCache;
  digest: DigestSessions;
  logger: Logger;
  now: () => number;
  /**
   * The DNS behind `dispatcher` (HostResolver). Each request's name is looked up here for the
   * endpoint's subscriber before it is sent, so the connection finds it in the cache: a connection
   * knows no subscriber, and one subscriber's silent names must stay within its own share.
   */
  resolver?: HostResolver;
}

/** A send's result, with when it was decided (its deadline's, for a send that timed out). */
type Decided = SendResult & { decidedAt?: number };

/** What one attempt sent last, and what came back: the result is classified, the request recorded. */
export interface AuthenticatedSend {
  result: SendResult;
  request: OutboundRequest;
}

/**
 * What an attempt needs before it may send, obtained before it takes a slot on its receiver's
 * address: the endpoint's OAuth token, or the failed attempt's result when none could be had.
 * A token can take the token request's whole deadline (10 s) on a host the subscriber chose, and
 * the address's slots are shared with other subscribers' endpoints on the same receiver.
 */
export type SendCredentials =
  { kind: 'none' } | { kind: 'token'; token: string; waitedMs?: number } | { kind: 'failed'; result: SendResult };

/**
 * The slot an attempt holds on its receiver's address (AddressSlots): given up while a token the
 * receiver refused is replaced, and taken again to send with the new one.
 */
export interface ReceiverSlot {
  release(): void;
  /** False when the address filled meanwhile: the refused send is the attempt's result. */
  retake(): boolean;
}

/** What the attempt brings to its send: credentials obtained beforehand (else fetched in the send), its address slot. */
export interface SendContext {
  credentials?: SendCredentials;
  receiverSlot?: ReceiverSlot;
  /**
   * When the caller stops waiting (epoch ms on the sender's clock), for a caller whose budget
   * covers the whole send, token fetch included (the API's endpoint verification): each request
   * gets at most what is left, and none is sent after it. @defaultValue none: each request gets
   * the prepared request's timeoutMs, after any token fetch
   */
  deadlineAt?: number;
}

const NO_CREDENTIALS: SendCredentials = Object.freeze({ kind: 'none' });

/**
 * The send step of an attempt, for the schemes that talk back: OAuth (a token to fetch, a 401
 * meaning the token was revoked) and Digest (a 401 carrying the challenge to answer). Each may
 * send the request a second time within the attempt, never more, and both sends share the
 * endpoint's timeout. Every other scheme is already in the prepared request and is sent as is.
 */
export class AuthenticatedSender {
  constructor(private readonly options: AuthenticatedSenderOptions) {}

  /** Drops what is kept for an endpoint (its OAuth token, its Digest session): it changed, went, or never came to be. */
  forget(endpointId: string): void {
    this.options.oauth.forget(endpointId);
    this.options.digest.forget(endpointId);
  }

  /** Endpoints with an OAuth token and with a Digest session kept (for tests and the curious). */
  get kept(): { tokens: number; digestSessions: number } {
    return { tokens: this.options.oauth.size, digestSessions: this.options.digest.size };
  }

  /** Whether an OAuth endpoint's token is in hand (no token request before its next send, unless the receiver refuses it). */
  hasToken(endpoint: Owner & Pick<Endpoint, 'auth'>): boolean {
    const { auth } = endpoint;
    return auth?.type === 'oauth2-client-credentials' && this.options.oauth.cached(endpoint.id, auth) !== undefined;
  }

  /**
   * The endpoint's credentials, to obtain before the attempt takes its receiver's address slot.
   * At once, with no await, when it needs none or its token is cached (the common case, on every
   * attempt); a promise, which never rejects, when the token has to be fetched.
   */
  credentials(endpoint: Owner & Pick<Endpoint, 'auth'>): SendCredentials | Promise<SendCredentials> {
    const auth = endpoint.auth;
    if (auth?.type !== 'oauth2-client-credentials') return NO_CREDENTIALS;
    const token = this.options.oauth.cached(endpoint.id, auth);
    if (token !== undefined) return { kind: 'token', token };
    return this.fetchCredentials(endpoint, auth);
  }

  async send(endpoint: Endpoint, request: OutboundRequest, context: SendContext = {}): Promise<AuthenticatedSend> {
    const started = this.options.now();
    const auth = endpoint.auth;
    // A deliveries' send has no deadline of its own: the endpoint itself is the owner, no copy made.
    const owner: Owner =
      context.deadlineAt === undefined
        ? endpoint
        : { id: endpoint.id, subscriberId: endpoint.subscriberId, deadlineAt: context.deadlineAt };
    let sent: AuthenticatedSend;
    if (auth?.type === 'oauth2-client-credentials') sent = await this.sendWithOAuth(owner, auth, request, started, context);
    else if (auth?.type === 'digest') sent = await this.sendWithDigest(owner, auth, request, started);
    else sent = { result: await this.post(request, owner), request };
    // The attempt took until its last send's result was decided: a send that timed out resolves
    // only once undici lets go of its request, which can be seconds after its deadline.
    const { decidedAt, ...result } = sent.result as Decided;
    return { request: sent.request, result: { ...result, durationMs: (decidedAt ?? this.options.now()) - started } };
  }

  private async fetchCredentials(endpoint: Owner, auth: ClientCredentialsAuth): Promise<SendCredentials> {
    const asked = this.options.now();
    const token = await this.fetchToken(endpoint, auth, asked);
    return typeof token === 'string' ? { kind: 'token', token, waitedMs: this.options.now() - asked } : { kind: 'failed', result: token };
  }

  private async sendWithOAuth(
    endpoint: Owner,
    auth: ClientCredentialsAuth,
    request: OutboundRequest,
    started: number,
    { credentials, receiverSlot }: SendContext,
  ): Promise<AuthenticatedSend> {
    const { oauth, logger, now } = this.options;
    const endpointId = endpoint.id;
    if (credentials?.kind === 'failed') return { request, result: credentials.result };
    const token = credentials?.kind === 'token' ? credentials.token : await this.fetchToken(endpoint, auth, started);
    if (typeof token !== 'string') return { request, result: token };
    const first = await this.postWithToken(endpoint, request, token);
    if (first.result.kind !== 'response' || first.result.statusCode !== 401) return first;
    // The receiver refused the token (revoked, rotated keys): one fresh token, one more try,
    // within what is left of the time the first send had.
    oauth.invalidate(endpointId, token);
    logger.info({ endpointId }, 'auth.token_refused');
    let fresh = oauth.cached(endpointId, auth);
    if (fresh === undefined) {
      // Fetching it can take the token request's whole deadline: not in a slot of the receiver's
      // address, which other subscribers' endpoints share.
      receiverSlot?.release();
      const fetched = await this.fetchToken(endpoint, auth, started);
      if (typeof fetched !== 'string') return { request, result: fetched };
      // The address filled while the token came: the 401 stands (the fresh token is kept for the next attempt).
      if (receiverSlot && !receiverSlot.retake()) {
        const refused: Decided = { ...first.result, decidedAt: now() };
        return { request: first.request, result: refused };
      }
      fresh = fetched;
    }
    return this.postWithToken(endpoint, this.remaining(request, first.sentAt), fresh);
  }

  /** A token from the cache (fetched if need be), or the attempt's `auth` failure when none could be had. */
  private async fetchToken(endpoint: Owner, auth: ClientCredentialsAuth, started: number): Promise<string | SendResult> {
    try {
      return await this.options.oauth.token(endpoint.id, auth, endpoint.subscriberId);
    } catch (err) {
      const message = err instanceof AuthFailure ? err.message : 'token request failed';
      const durationMs = this.options.now() - started;
      const failed: SendResult = { kind: 'error', errorKind: 'auth', message: `oauth2: ${message}`, durationMs };
      if (!(err instanceof AuthFailure)) return failed;
      const handshake = err.handshakeFailed
        ? { handshakeFailed: err.handshakeFailed }
        : err.lateHandshake
          ? { handshakeFailedLater: err.lateHandshake }
          : {};
      if (err.timedOut) return { ...failed, ...handshake, timedOut: true };
      return err.dnsQueuedMs > 0
        ? { ...failed, ...handshake, dnsQueuedMs: Math.min(err.dnsQueuedMs, durationMs) }
        : { ...failed, ...handshake };
    }
  }

  /**
   * Sends with `token`. The token request had its own deadline, so a first send still gets the
   * endpoint's whole timeout; a second one gets what remains of the first's (`remaining`).
   */
  private async postWithToken(endpoint: Owner, request: OutboundRequest, token: string): Promise<AuthenticatedSend & { sentAt: number }> {
    const authed = withHeader(request, 'authorization', `Bearer ${token}`);
    const sentAt = this.options.now();
    return { request: authed, result: await this.post(authed, endpoint), sentAt };
  }

  private async sendWithDigest(endpoint: Owner, auth: DigestAuth, request: OutboundRequest, started: number): Promise<AuthenticatedSend> {
    const { digest, logger } = this.options;
    const endpointId = endpoint.id;
    const cached = digest.next(endpointId);
    const first = cached ? withHeader(request, 'authorization', this.answer(auth, request, cached)) : request;
    const result = await this.post(first, endpoint);
    if (result.kind !== 'response' || result.statusCode !== 401) return { request: first, result };
    const challenge = pickDigestChallenge(parseWwwAuthenticate(result.headers['www-authenticate']));
    if (!challenge) {
      // Not bad credentials: no challenge Hookrelay answers (an algorithm or qop it lacks, or values over MAX_DIGEST_PARAM_CHARS).
      // Info, not warn: a subscriber's receiver decides this, once per attempt; it is not the service's trouble.
      logger.info({ endpointId }, 'auth.digest_challenge_unanswerable');
      return { request: first, result };
    }
    // Answer again only if there is something new to answer: our first challenge, a stale
    // nonce (RFC 7616 section 3.3), or a nonce other than the one we used. The same nonce
    // refused without stale=true means the credentials are wrong: the 401 stands.
    const fresh = !cached || challenge.stale || challenge.nonce !== cached.challenge.nonce;
    if (!fresh) {
      digest.forget(endpointId);
      return { request: first, result };
    }
    logger.debug({ endpointId, algorithm: challenge.algorithm, stale: challenge.stale }, 'auth.digest_challenged');
    const session = digest.remember(endpointId, challenge);
    const second = withHeader(request, 'authorization', this.answer(auth, request, session));
    return { request: second, result: await this.post(this.remaining(second, started), endpoint) };
  }

  private answer(auth: DigestAuth, request: OutboundRequest, session: ReturnType<DigestSessions['remember']>): string {
    const url = new URL(request.url);
    return digestAuthorization({
      username: auth.username,
      password: auth.password,
      method: 'POST',
      uri: `${url.pathname}${url.search}`,
      challenge: session.challenge,
      nc: session.nc,
    });
  }

  private async post(request: OutboundRequest, endpoint: Owner): Promise<Decided> {
    const { resolver, now } = this.options;
    if (resolver) {
      const unresolved = await lookUpFor(resolver, request.url, endpoint.subscriberId, now);
      if (unresolved) return unresolved;
    }
    const sentAt = now();
    const left = endpoint.deadlineAt === undefined ? request.timeoutMs : Math.min(request.timeoutMs, endpoint.deadlineAt - sentAt);
    if (left <= 0)
      return { kind: 'error', errorKind: 'timeout', message: 'the deadline passed before the request was sent', durationMs: 0 };
    const result = await sendRequest(this.options.dispatcher, left === request.timeoutMs ? request : { ...request, timeoutMs: left }, now);
    return { ...result, decidedAt: sentAt + result.durationMs };
  }

  /** A second send gets what is left of the first one's deadline, not a fresh one. */
  private remaining(request: OutboundRequest, since: number): OutboundRequest {
    return { ...request, timeoutMs: Math.max(request.timeoutMs - (this.options.now() - since), 1) };
  }
}

/**
 * Looks the request's name up for `subscriberId` (HostResolver), so its connection finds the
 * answer in the cache; a name that does not resolve (or not in time) is the attempt's result, as
 * its connection would have made it, without asking DNS again.
 */
async function lookUpFor(resolver: HostResolver, url: string, subscriberId: string, now: () => number): Promise<SendResult | null> {
  const asked = now();
  let host: string;
  try {
    host = unbracket(new URL(url).hostname);
  } catch {
    return null; // sendRequest reports the malformed URL itself
  }
  try {
    await resolver.lookup(host, subscriberId);
    return null;
  } catch (err) {
    return failedSend(err, now() - asked);
  }
}

function withHeader(request: OutboundRequest, name: string, value: string): OutboundRequest {
  const headers: Record<string, string> = {};
  for (const [key, v] of Object.entries(request.headers)) if (key.toLowerCase() !== name) headers[key] = v;
  headers[name] = value;
  return { ...request, headers };
}
