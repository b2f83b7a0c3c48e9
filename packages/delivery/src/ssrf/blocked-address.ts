import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * Why `ip` must not be a webhook target, or null when it is a public unicast address.
 *
 * Classification is ipaddr.js `range()`: anything it does not call 'unicast' is refused, so a
 * range added to a future ipaddr.js release is blocked without a change here. Three IPv6 forms
 * carry an IPv4 address that the network stack (or a translator on the path) will actually
 * reach, so the embedded IPv4 is judged instead: IPv4-mapped `::ffff:a.b.c.d`, NAT64
 * `64:ff9b::a.b.c.d` (RFC 6052) and 6to4 `2002:aabb:ccdd::` (RFC 3056).
 *
 * Fails closed: a string that is not an IP literal in the form the socket layer accepts is
 * refused rather than guessed at.
 */
export function blockedAddressReason(ip: string): string | null {
  const address = parseLiteral(ip);
  if (!address) return `${ip} is not a canonical IP address`;
  const why = judge(address);
  return why === null ? null : `${ip} is ${why}`;
}

/**
 * Only literals `net.isIP` accepts, i.e. those Node connects to without a lookup. ipaddr.js alone
 * would also parse "0177.0.0.1" (octal) and "2130706433" (32-bit integer); refusing those keeps one
 * string to one meaning, and WHATWG URL has already rewritten them to dotted form anyway.
 */
function parseLiteral(ip: string): Address | null {
  if (isIP(ip) === 0) return null;
  try {
    return ipaddr.parse(ip);
  } catch {
    return null;
  }
}

// Phrases completing "<ip> is ...". Ranges without an entry get the generic wording below.
const RANGE_WORDING: Record<string, string> = {
  unspecified: 'unspecified (0.0.0.0/8, ::), which reaches this host',
  broadcast: 'the limited broadcast address',
  multicast: 'multicast',
  linkLocal: 'link-local, where cloud metadata services listen (169.254.169.254)',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT space (RFC 6598)',
  private: 'private (RFC 1918)',
  reserved: 'reserved or documentation space',
  uniqueLocal: 'unique local (RFC 4193)',
  teredo: 'Teredo (RFC 4380), which tunnels to an obfuscated IPv4 address',
};

function describeRange(range: string): string {
  return RANGE_WORDING[range] ?? `special-purpose (${range})`;
}

// Every IPv6 address the internet routes today is in 2000::/3 (RFC 4291 §2.4, IANA registry).
// ipaddr.js calls e.g. ::7f00:1 'unicast', yet it is the deprecated IPv4-compatible spelling of
// 127.0.0.1 that WHATWG URL produces from https://[::127.0.0.1]/; refusing outside 2000::/3 closes
// that and any other leftover of the reserved ::/8.
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');
// NAT64 well-known prefix: the IPv4 address is the last 32 bits. The RFC 8215 local-use prefix
// (64:ff9b:1::/48) that ipaddr.js puts in the same range has no fixed layout and is refused.
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96');

function judge(address: Address): string | null {
  if (address.kind() === 'ipv4') {
    const range = address.range();
    return range === 'unicast' ? null : describeRange(range);
  }
  const v6 = address as ipaddr.IPv6;
  const range = v6.range();
  switch (range) {
    case 'ipv4Mapped':
      return judgeEmbedded('IPv4-mapped', v6.toIPv4Address());
    case 'rfc6052':
      return v6.match(NAT64_WELL_KNOWN) ? judgeEmbedded('NAT64', ipv4At(v6, 12)) : 'local-use NAT64 (RFC 8215)';
    case '6to4':
      return judgeEmbedded('6to4', ipv4At(v6, 2));
    case 'unicast':
      return v6.match(GLOBAL_UNICAST_V6) ? null : 'outside global unicast 2000::/3 (e.g. IPv4-compatible ::a.b.c.d)';
    default:
      return describeRange(range);
  }
}

/** An IPv6 form that carries an IPv4 address is exactly as allowed as that IPv4 address. */
function judgeEmbedded(form: string, v4: ipaddr.IPv4): string | null {
  const why = judge(v4);
  return why === null ? null : `${form} for ${v4.toString()}, which is ${why}`;
}

/** The four bytes at `offset` of the 16-byte address, read as IPv4. */
function ipv4At(v6: ipaddr.IPv6, offset: number): ipaddr.IPv4 {
  return new ipaddr.IPv4(v6.toByteArray().slice(offset, offset + 4));
}
