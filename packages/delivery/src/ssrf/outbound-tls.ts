import { constants } from 'node:crypto';
import { DEFAULT_CIPHERS } from 'node:tls';

/**
 * What the worker's and the API's TLS client offers to the hosts subscribers choose (receivers,
 * OAuth token URLs, URLs verified on registration): everything goes through createGuardedAgent.
 *
 * No finite-field Diffie-Hellman, in either TLS version. The server picks the key exchange and,
 * for finite-field DH, the group too, and the client's share of the work grows with the group's
 * size; nothing in Node bounds it from above (`minDHSize` is a floor). A receiver offering only
 * DHE with an 8192-bit group, and closing after each response, cost the worker ~257 ms of its one
 * event loop per handshake (TLS 1.2, `DHE-RSA-*`), ~131 ms by TLS 1.3's `ffdhe8192` (asked for
 * with a HelloRetryRequest), all before the certificate is checked; X25519 costs ~3 ms
 * (`npx tsx scripts/probe-tls-key-exchange.ts`). Retried at short intervals and fanned out, one
 * publish could hold the shared worker for minutes, every other subscriber waiting behind it.
 * Servers that speak only finite-field DH are rare (TLS 1.3 requires P-256, RFC 8446 section 9.1,
 * and current TLS 1.2 configurations offer ECDHE); they now fail their attempts as `tls`.
 *
 * `minDHSize` is left at Node's default: it only applies to a DHE key exchange, and with neither
 * list below offering one the client never does one.
 */

/**
 * Node's default TLS 1.2 suites less every one with finite-field DHE key agreement (`kDHE`,
 * anonymous ones included; `DHE`, the authenticated ones, is already among them and is named for
 * whoever greps for it). TLS 1.3 suites name no key exchange: the groups below decide that.
 */
export const OUTBOUND_TLS_CIPHERS = `${DEFAULT_CIPHERS}:!kDHE:!DHE`;

/**
 * The key-exchange groups offered (Node's `ecdhCurve`, OpenSSL's groups list, which TLS 1.3 uses
 * as well as TLS 1.2's ECDHE): OpenSSL 3.0's default list, in its order, less `ffdhe2048` to
 * `ffdhe8192`. Excluding DHE suites alone left those, and a TLS 1.3 server can ask for one.
 * A list, not a subtraction: OpenSSL before 3.5 cannot remove groups from its default. Revisit
 * when Node ships a newer OpenSSL whose default adds groups (X25519MLKEM768 in 3.5): they are not
 * offered until named here.
 */
export const OUTBOUND_TLS_GROUPS = 'X25519:P-256:X448:P-521:P-384';

/**
 * No renegotiation: a TLS 1.2 server may ask for a new handshake at any time after the first
 * (HelloRequest), and Node's client does each one in full, the certificate chain checked again on
 * the event loop. TlsHandshakeBudget hears only of a connection's first handshake, and a chain
 * refused in a renegotiation failed its attempt as `other`, not `tls`: a receiver whose first
 * handshake verified could then present a chain that costs every signature check (up to ~227 ms a
 * handshake, SECURITY.md) on every attempt, uncharged, or renegotiate 50 times within one request
 * (an audit's probe). With this option OpenSSL answers a HelloRequest with a no_renegotiation
 * alert; TLS 1.3 has no renegotiation. Go's TLS client refuses it by default too. What it breaks: a
 * TLS 1.2 server that renegotiates to ask for an optional client certificate (IIS's HTTP.sys, Azure
 * App Service) fails its attempts; the worker offers no client certificate anyway (docs/delivery.md).
 */
export const OUTBOUND_TLS_OPTIONS = constants.SSL_OP_NO_RENEGOTIATION;
