import { hmac, safeEqualText, secretList, type Bytes, type HmacAlgorithm, type Secrets } from './hmac';

/** The one header Webex Connect receivers read (its guide names it in lower case). */
export const HUB_SIGNATURE_HEADER = 'x-hub-signature';

/** The algorithm a bare hex signature of this length was made with. */
const BY_HEX_LENGTH: Readonly<Record<number, HmacAlgorithm>> = { 64: 'sha256', 128: 'sha512', 40: 'sha1' };
const NAMED: readonly HmacAlgorithm[] = ['sha256', 'sha512', 'sha1'];

export interface HubSignatureOptions {
  algorithm: HmacAlgorithm;
  /** `sha256=<hex>` (WebSub, GitHub) instead of the bare hex Webex Connect's own sample compares against. */
  prefix: boolean;
}

/** Lowercase hex HMAC of the body bytes, keyed with the secret's UTF-8 bytes (RFC 2104), optionally prefixed. */
export function hubSignature(secret: string, body: Bytes, options: HubSignatureOptions): string {
  const hex = hmac(options.algorithm, secret, body).toString('hex');
  return options.prefix ? `${options.algorithm}=${hex}` : hex;
}

export interface VerifyHubSignatureOptions {
  /** The endpoint's secret, or several while a secret rotates. */
  secret: Secrets;
  /** The raw request body, exactly as received. */
  body: Bytes;
  /** The header's value: bare hex, or `<algorithm>=<hex>`. */
  header: string;
  /**
   * The algorithm the endpoint signs with. When set, a header naming another one fails. When not
   * set, sha256 and sha512 are accepted (named by the prefix, or told apart by the hex length);
   * sha1 only when asked for by name, so a sender cannot pick the retired one.
   * @defaultValue sha256 or sha512
   */
  algorithm?: HmacAlgorithm;
}

/** Receiver-side check of an x-hub-signature header, in constant time; never throws on a malformed header. */
export function verifyHubSignature(opts: VerifyHubSignatureOptions): boolean {
  const secrets = secretList(opts.secret);
  const header = opts.header.trim();
  const eq = header.indexOf('=');
  const named = eq === -1 ? undefined : NAMED.find((a) => a === header.slice(0, eq).toLowerCase());
  if (eq !== -1 && named === undefined) return false;
  // Hex is case-insensitive; Webex sends lower case, but some proxies and SDKs upper-case it.
  const hex = (eq === -1 ? header : header.slice(eq + 1)).toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex)) return false;
  const algorithm = named ?? opts.algorithm ?? BY_HEX_LENGTH[hex.length];
  if (algorithm === undefined) return false;
  if (opts.algorithm !== undefined ? algorithm !== opts.algorithm : algorithm === 'sha1') return false;
  let matched = false;
  for (const secret of secrets) if (safeEqualText(hex, hubSignature(secret, opts.body, { algorithm, prefix: false }))) matched = true;
  return matched;
}
