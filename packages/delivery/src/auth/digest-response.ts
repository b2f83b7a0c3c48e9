import { createHash, randomBytes } from 'node:crypto';
import type { AuthChallenge } from './www-authenticate';

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

/** A Digest challenge we can answer: qop=auth, one of the RFC 7616 algorithms below. */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm: DigestAlgorithm;
  stale: boolean;
  userhash: boolean;
}

const ALGORITHMS: Record<string, DigestAlgorithm> = {
  md5: 'MD5',
  'md5-sess': 'MD5-sess',
  'sha-256': 'SHA-256',
  'sha-256-sess': 'SHA-256-sess',
};

/**
 * A realm, nonce or opaque longer than this is not answered: each is kept per endpoint
 * (DigestSessions, up to 10,000 of them) and sent back on every request, and a receiver's 16 KB
 * challenge cost the worker 16 KB of memory per endpoint for good.
 */
export const MAX_DIGEST_PARAM_CHARS = 1024;

/**
 * The first Digest challenge we support, in the receiver's order (RFC 7616 section 3.7: a server
 * lists its preferred algorithm first). A missing algorithm means MD5. qop must offer "auth":
 * "auth-int" alone is not answered, nor RFC 2069 challenges without qop, nor one whose values
 * pass MAX_DIGEST_PARAM_CHARS.
 */
export function pickDigestChallenge(challenges: AuthChallenge[]): DigestChallenge | null {
  for (const c of challenges) {
    if (c.scheme.toLowerCase() !== 'digest') continue;
    const algorithm = ALGORITHMS[(c.params.algorithm ?? 'MD5').toLowerCase()];
    const qops = (c.params.qop ?? '').split(',').map((q) => q.trim().toLowerCase());
    const { realm, nonce } = c.params;
    if (!algorithm || !qops.includes('auth') || realm === undefined || !nonce) continue;
    if ([realm, nonce, c.params.opaque ?? ''].some((v) => v.length > MAX_DIGEST_PARAM_CHARS)) continue;
    return {
      realm,
      nonce,
      ...(c.params.opaque !== undefined ? { opaque: c.params.opaque } : {}),
      algorithm,
      stale: (c.params.stale ?? '').toLowerCase() === 'true',
      userhash: (c.params.userhash ?? '').toLowerCase() === 'true',
    };
  }
  return null;
}

export interface DigestAnswerInput {
  username: string;
  password: string;
  method: string;
  /** The request-target exactly as sent: path and query. */
  uri: string;
  challenge: DigestChallenge;
  /** The nonce count, 1 for the first request with this nonce. */
  nc: number;
  /** @defaultValue 16 random bytes, hex */
  cnonce?: string;
}

function hasher(algorithm: DigestAlgorithm): (s: string) => string {
  const name = algorithm.startsWith('SHA-256') ? 'sha256' : 'md5';
  return (s) => createHash(name).update(s, 'utf8').digest('hex');
}

/** RFC 7616 section 3.4: the request-digest for qop=auth. */
export function digestResponse(input: Required<Pick<DigestAnswerInput, 'cnonce'>> & DigestAnswerInput): string {
  const H = hasher(input.challenge.algorithm);
  const { realm, nonce } = input.challenge;
  const nc = formatNc(input.nc);
  let ha1 = H(`${input.username}:${realm}:${input.password}`);
  if (input.challenge.algorithm.endsWith('-sess')) ha1 = H(`${ha1}:${nonce}:${input.cnonce}`);
  const ha2 = H(`${input.method}:${input.uri}`);
  return H(`${ha1}:${nonce}:${nc}:${input.cnonce}:auth:${ha2}`);
}

/** The Authorization header answering `challenge` (RFC 7616 section 3.4). */
export function digestAuthorization(input: DigestAnswerInput): string {
  const cnonce = input.cnonce ?? randomBytes(16).toString('hex');
  const { challenge } = input;
  const response = digestResponse({ ...input, cnonce });
  const parts: string[] = [];
  if (challenge.userhash) {
    parts.push(`username="${hasher(challenge.algorithm)(`${input.username}:${challenge.realm}`)}"`, 'userhash=true');
  } else if (/^[\x20-\x7e]*$/.test(input.username)) {
    parts.push(`username=${quote(input.username)}`);
  } else {
    // RFC 7616 section 3.4.4: a name that is not ASCII goes in username* (RFC 8187 encoding).
    parts.push(`username*=UTF-8''${encodeRfc8187(input.username)}`);
  }
  parts.push(
    `realm=${quote(challenge.realm)}`,
    `uri=${quote(input.uri)}`,
    `algorithm=${challenge.algorithm}`,
    `nonce=${quote(challenge.nonce)}`,
    `nc=${formatNc(input.nc)}`,
    `cnonce=${quote(cnonce)}`,
    'qop=auth',
    `response=${quote(response)}`,
  );
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}

/** nc is eight lower-case hex digits. */
export function formatNc(nc: number): string {
  return nc.toString(16).padStart(8, '0');
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function encodeRfc8187(value: string): string {
  return encodeURIComponent(value).replace(/['()*!]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
