// Test-only: the server side of RFC 7616 Digest (qop=auth), written from the RFC and kept apart
// from the client code in ../digest-response.ts so that one cannot hide the other's mistakes.
// `http-auth` (the npm family the issue names) was considered: it is maintained, but its digest
// module offers MD5 and MD5-sess only and does not compare `uri` with the request-target.
import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ReceivedRequest } from '@hookrelay/testing';

export interface DigestServerOptions {
  realm: string;
  username: string;
  password: string;
  algorithm: 'MD5' | 'SHA-256';
}

interface IssuedNonce {
  stale: boolean;
  /** nc values already used with this nonce: a repeat is a replay (RFC 7616 section 3.4). */
  seen: Set<string>;
}

/** Why the server refused a request, for assertions. */
export type DigestVerdict =
  'accepted' | 'no-credentials' | 'unknown-nonce' | 'stale-nonce' | 'bad-uri' | 'replayed-nc' | 'bad-field' | 'wrong-response';

export class DigestServer {
  readonly opaque = randomBytes(8).toString('hex');
  readonly verdicts: DigestVerdict[] = [];
  /** nonce and nc of every accepted request, in arrival order. */
  readonly accepted: Array<{ nonce: string; nc: string }> = [];
  private readonly nonces = new Map<string, IssuedNonce>();

  constructor(private readonly options: DigestServerOptions) {}

  /** Marks every nonce handed out so far as expired: the next use gets `stale=true`. */
  expireNonces(): void {
    for (const n of this.nonces.values()) n.stale = true;
  }

  /** A TestReceiver reply: 200 for a correct answer, else 401 with a fresh challenge. */
  readonly reply = (req: ReceivedRequest, res: ServerResponse): void => {
    const verdict = this.check(req);
    this.verdicts.push(verdict);
    if (verdict === 'accepted') {
      res.writeHead(200).end('ok');
      return;
    }
    const nonce = randomBytes(16).toString('base64');
    this.nonces.set(nonce, { stale: false, seen: new Set() });
    const stale = verdict === 'stale-nonce' ? ', stale=true' : '';
    const { realm, algorithm } = this.options;
    res.writeHead(401, {
      'www-authenticate': `Digest realm="${realm}", qop="auth", algorithm=${algorithm}, nonce="${nonce}", opaque="${this.opaque}"${stale}`,
    });
    res.end('unauthorized');
  };

  private check(req: ReceivedRequest): DigestVerdict {
    const header = req.headers.authorization;
    if (!header || !/^Digest\s/i.test(header)) return 'no-credentials';
    const p = parseParams(header.replace(/^Digest\s+/i, ''));
    const { realm, username, password, algorithm } = this.options;
    const required = ['username', 'realm', 'nonce', 'uri', 'response', 'qop', 'nc', 'cnonce'];
    if (required.some((k) => p[k] === undefined)) return 'bad-field';
    if (p.realm !== realm || p.username !== username || p.qop !== 'auth' || p.opaque !== this.opaque) return 'bad-field';
    if (p.algorithm !== undefined && p.algorithm !== algorithm) return 'bad-field';
    if (!/^[0-9a-f]{8}$/.test(p.nc as string)) return 'bad-field';
    // Section 3.4.6: the uri must be the request-target of this very request.
    if (p.uri !== req.url) return 'bad-uri';
    const issued = this.nonces.get(p.nonce as string);
    if (!issued) return 'unknown-nonce';

    const H = (s: string) =>
      createHash(algorithm === 'SHA-256' ? 'sha256' : 'md5')
        .update(s, 'utf8')
        .digest('hex');
    const ha1 = H(`${username}:${realm}:${password}`);
    const ha2 = H(`${req.method}:${p.uri}`);
    const expected = H(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`);
    if (expected !== p.response) return 'wrong-response';
    // Section 3.3: stale=true only when the digest is right and just the nonce is old.
    if (issued.stale) return 'stale-nonce';
    if (issued.seen.has(p.nc as string)) return 'replayed-nc';
    issued.seen.add(p.nc as string);
    this.accepted.push({ nonce: p.nonce as string, nc: p.nc as string });
    return 'accepted';
  }
}

/** auth-params: name=token or name="quoted \"string\"". */
function parseParams(text: string): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  const re = /([A-Za-z0-9_*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (const m of text.matchAll(re)) out[(m[1] as string).toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  return out;
}
