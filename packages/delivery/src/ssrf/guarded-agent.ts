import { isIP, type Socket } from 'node:net';
import { buildConnector, type Agent } from 'undici';
import { SendableHeadersAgent } from '../sendable-headers';
import { limitBytesReadPerRequest, limitSessionTickets } from '../read-budget';
import { blockedAddressReason } from './blocked-address';
import { unbracket } from './check-target-url';
import { createGuardedLookup } from './guarded-lookup';
import type { HostResolver } from './host-resolver';
import { OUTBOUND_TLS_CIPHERS, OUTBOUND_TLS_GROUPS, OUTBOUND_TLS_OPTIONS } from './outbound-tls';
import { SsrfBlockedError } from './ssrf-blocked-error';
import { markHandshakeFailed, tlsOrigin, type TlsHandshakeBudget } from './tls-handshake-budget';
import type { LookupFn, SsrfPolicy } from './types';

export interface GuardedAgentOptions {
  /** Connections per receiver origin; the Agent keeps one pool per origin. @defaultValue 64 */
  connections?: number;
  /**
   * How long an idle keep-alive socket is kept, and the most a receiver's `Keep-Alive: timeout=`
   * may ask for. @defaultValue DEFAULT_KEEP_ALIVE_MS
   */
  keepAliveTimeoutMs?: number;
  /** Resolver behind the guarded lookup (tests inject fakes). @defaultValue the system resolver */
  resolve?: LookupFn;
  /**
   * The process's DNS (cached, shared, bounded: HostResolver); wins over `resolve`. Every answer is
   * still vetted at each connection, so a kept answer never lets a blocked address through.
   */
  resolver?: HostResolver;
  /**
   * Certificates trusted instead of Node's bundled roots: tests only, for their self-signed
   * receivers (selfSignedCertificate). @defaultValue Node's bundled root certificates
   */
  ca?: string | string[];
  /**
   * Told how each TLS handshake ended (verified, or failed: the connection ended between TCP's
   * connect and TLS's), for the per-subscriber bound on failed handshakes (TlsHandshakeBudget); the
   * callers charge and consult it.
   */
  tlsHandshakes?: TlsHandshakeBudget;
}

/**
 * buildConnector's connector as undici implements it: it hands back the socket it began (typed as
 * returning nothing when given a callback), whose TCP `connect` marks where the handshake starts.
 */
type ConnectReturningSocket = (
  options: buildConnector.Options,
  callback: buildConnector.Callback,
) => (Socket & { once(event: 'connect', listener: () => void): unknown }) | undefined;

/**
 * undici keeps an idle socket as long as the receiver's `Keep-Alive: timeout=` says, up to its own
 * `keepAliveMaxTimeout` of 10 minutes: a subscriber's receivers answering `timeout=600` kept ~25
 * idle sockets per endpoint origin for 10 minutes, until the worker ran out of file descriptors
 * and every other subscriber's deliveries failed (EMFILE). A receiver may ask for less, never more.
 */
export const DEFAULT_KEEP_ALIVE_MS = 4000;

/**
 * The worker's HTTP dispatcher: an undici Agent whose every new connection is vetted.
 *
 * Two paths reach a socket and both are covered:
 * - hostnames go through the guarded `lookup` handed to undici's own connector, so Node connects
 *   to the very address that was checked (no second resolution, see createGuardedLookup);
 * - IP literals never reach `lookup` (net.connect skips DNS when `net.isIP(host)` is non-zero), so
 *   the connector is wrapped and checks them itself before dialling.
 *
 * Vetting happens per connection, not per request: a kept-alive socket was vetted when opened.
 * Redirects are not followed (send.ts dispatches without a redirect interceptor); if an interceptor ever follows them, each
 * new origin still connects through this connector.
 *
 * Every socket it opens holds each request to RESPONSE_READ_BUDGET_BYTES read
 * (limitBytesReadPerRequest): deliveries, test sends, token requests and the API's endpoint
 * verification alike.
 */
export function createGuardedAgent(policy: SsrfPolicy, opts: GuardedAgentOptions = {}): Agent {
  // Frozen copy: flipping allowPrivate on a shared object later must not open a running worker.
  const frozen: SsrfPolicy = Object.freeze({ allowPrivate: policy.allowPrivate });
  const { resolver } = opts;
  // A connection does not know its subscriber: deliveries (AddressSlots) and token requests
  // (OAuthTokenCache) looked their name up for it just before, so this is answered from the cache
  // (HostResolver.lookupForConnection), and only a name not answered lately takes the one
  // anonymous lookup at a time.
  const lookup = createGuardedLookup(frozen, resolver ? (hostname) => resolver.lookupForConnection(hostname) : opts.resolve);
  // undici's TLS session cache is one for every origin (keyed by server name, 100 by default) and
  // holds each session weakly: a garbage collection drops them all, for every subscriber alike,
  // so raising its size alone does not keep more (tried and withdrawn, 2026-12-07).
  // buildConnector keeps undici's TLS session cache, SNI, keep-alive and 10 s connect timeout;
  // we only add the lookup and the literal check in front of it, the read budget and the
  // session-ticket limit on the socket it hands back, and a TLS client that offers no finite-field
  // DH and refuses renegotiation (outbound-tls.ts: a hostile server's large DH group cost the event
  // loop ~257 ms a handshake).
  const connectVetted = buildConnector({
    lookup,
    ciphers: OUTBOUND_TLS_CIPHERS,
    ecdhCurve: OUTBOUND_TLS_GROUPS,
    secureOptions: OUTBOUND_TLS_OPTIONS,
    ...(opts.ca ? { ca: opts.ca } : {}),
  });

  const connect: buildConnector.connector = (options, callback) => {
    const host = unbracket(options.hostname);
    if (!frozen.allowPrivate && isIP(host) !== 0) {
      const reason = blockedAddressReason(host);
      if (reason !== null) {
        const err = new SsrfBlockedError(host, host, reason);
        // Asynchronous like a real connect failure, so undici's bookkeeping sees the usual order.
        process.nextTick(() => callback(err, null));
        return;
      }
    }
    const origin = tlsOrigin(options.protocol, options.hostname, options.port);
    // Between TCP's connect and TLS's is the handshake: a connection that ends there failed it,
    // whatever the error says (a chain that does not verify, a reset once the chain was sent, a
    // stall), and the chain may have been checked already (TlsHandshakeBudget).
    let tcpConnected = false;
    const socket = (connectVetted as unknown as ConnectReturningSocket)(options, (err, socket) => {
      if (origin !== null && (!err || tcpConnected)) {
        if (err) markHandshakeFailed(err, origin);
        opts.tlsHandshakes?.handshake(origin, !err);
      }
      if (err) return callback(err, null);
      // Before undici's own listeners, which it adds once this callback hands the socket over.
      limitBytesReadPerRequest(socket);
      limitSessionTickets(socket);
      callback(null, socket);
    });
    socket?.once('connect', () => (tcpConnected = true));
  };

  const keepAliveMs = opts.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_MS;
  // Headers undici would refuse are refused before the Agent picks a Pool (SendableHeadersAgent).
  return new SendableHeadersAgent({
    connections: opts.connections ?? 64,
    keepAliveTimeout: keepAliveMs,
    keepAliveMaxTimeout: keepAliveMs,
    connect,
  });
}
