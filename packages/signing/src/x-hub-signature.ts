import { hmac, safeEqualText, type HmacAlgorithm } from './constant-time';

/** The one header Webex Connect receivers read (its guide names it in lower case). */
export const HUB_SIGNATURE_HEADER = 'x-hub-signature';

const ALGORITHMS: readonly HmacAlgorithm[] = ['sha256', 'sha512', 'sha1'];

export interface HubSignatureOptions {
  algorithm: HmacAlgorithm;
  /** `sha256=<hex>` (WebSub, GitHub) instead of the bare hex Webex Connect's own sample compares against. */
  prefix: boolean;
}

/** Lowercase hex HMAC of the body bytes, keyed with the secret's UTF-8 bytes (RFC 2104), optionally prefixed. */
export function hubSignature(secret: string, body: string | Buffer, options: HubSignatureOptions): string {
  const hex = hmac(options.algorithm, Buffer.from(secret, 'utf8'), body).toString('hex');
  return options.prefix ? `${options.algorithm}=${hex}` : hex;
}

/**
 * Headers for the x-hub-signature scheme. The header carries a single value, so during rotation only the
 * current secret (the first) signs; receivers that still hold the old secret fail until they update, which is
 * why rotation for this scheme should be coordinated with the receiver.
 */
export function hubSignatureHeaders(
  secrets: readonly string[],
  body: string,
  options: HubSignatureOptions,
): Record<string, string> {
  const current = secrets[0];
  if (current === undefined) throw new Error('x-hub-signature needs at least one secret');
  return { [HUB_SIGNATURE_HEADER]: hubSignature(current, body, options) };
}

export interface VerifyHubSignatureOptions {
  secret: string;
  body: string | Buffer;
  /** Bare hex, or `<alg>=<hex>`. */
  header: string;
  /**
   * Expected algorithm. When the header names one too, both must agree, so an attacker cannot pick a weaker one.
   * @defaultValue the header's prefix, else 'sha256'
   */
  algorithm?: HmacAlgorithm;
}

/** Receiver-side check of an x-hub-signature header; never throws on a malformed header. */
export function verifyHubSignature(opts: VerifyHubSignatureOptions): boolean {
  const header = opts.header.trim();
  const eq = header.indexOf('=');
  let algorithm: HmacAlgorithm = opts.algorithm ?? 'sha256';
  let hex = header;
  if (eq !== -1) {
    const named = header.slice(0, eq).toLowerCase();
    const known = ALGORITHMS.find((a) => a === named);
    if (known === undefined) return false;
    if (opts.algorithm !== undefined && opts.algorithm !== known) return false;
    algorithm = known;
    hex = header.slice(eq + 1);
  }
  // Hex is case-insensitive; Webex sends lower case, but some proxies and SDKs upper-case it.
  hex = hex.toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex)) return false;
  const expected = hubSignature(opts.secret, opts.body, { algorithm, prefix: false });
  return safeEqualText(hex, expected);
}
