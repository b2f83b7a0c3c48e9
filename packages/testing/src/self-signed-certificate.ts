import { createSign, generateKeyPairSync, randomBytes } from 'node:crypto';

export interface SelfSignedCertificate {
  /** PKCS#8 PEM of the RSA key, for a TLS server's `key`. */
  key: string;
  /** PEM certificate for 127.0.0.1 and localhost: a server's `cert`, and a client's `ca` to trust it. */
  cert: string;
}

let made: SelfSignedCertificate | undefined;

/**
 * An RSA certificate for the test receivers on 127.0.0.1, made once per process. RSA because a
 * TLS 1.2 DHE suite (what the worker's client must refuse: guarded-agent.ts) signs with RSA.
 *
 * Built here rather than checked in or made by the `openssl` CLI: no private key in the tree (or
 * in an image built from it), and no binary the tests would need on every machine. Node can make
 * keys and sign but not write an X.509 certificate, so the DER below is the few fields a TLS
 * client checks: v3, subject and issuer CN=localhost, valid from an hour ago for a day,
 * basicConstraints CA:TRUE (the certificate is its own trust anchor) and subjectAltName
 * IP:127.0.0.1, DNS:localhost (Node checks the name against the SAN).
 */
export function selfSignedCertificate(): SelfSignedCertificate {
  made ??= newSelfSignedCertificate();
  return made;
}

/**
 * Another certificate like selfSignedCertificate's, with a key of its own: a receiver whose chain
 * a client trusting the shared one does not verify.
 */
export function newSelfSignedCertificate(): SelfSignedCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const sha256WithRsa = seq(oid('1.2.840.113549.1.1.11'), der(0x05));
  const name = seq(set(seq(oid('2.5.4.3'), der(0x0c, Buffer.from('localhost')))));
  const now = Date.now();
  const serial = randomBytes(16);
  // A positive INTEGER in its shortest form: a first byte of 0 followed by one under 0x80 is
  // padding DER forbids (OpenSSL: "illegal padding"), which 1 certificate in 256 had.
  serial[0] = 1 + ((serial[0] ?? 0) % 0x7f);
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))), // version: v3
    der(0x02, serial),
    sha256WithRsa,
    name,
    seq(utcTime(new Date(now - 3_600_000)), utcTime(new Date(now + 86_400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(
      0xa3,
      seq(
        seq(oid('2.5.29.19'), der(0x01, Buffer.from([0xff])), der(0x04, seq(der(0x01, Buffer.from([0xff]))))),
        seq(oid('2.5.29.17'), der(0x04, seq(der(0x87, Buffer.from([127, 0, 0, 1])), der(0x82, Buffer.from('localhost'))))),
      ),
    ),
  );
  const signature = createSign('sha256').update(tbs).sign(privateKey);
  const certificate = seq(tbs, sha256WithRsa, der(0x03, Buffer.from([0]), signature));
  const base64 = certificate.toString('base64').replace(/.{64}/g, '$&\n');
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    cert: `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`,
  };
}

/** One DER element: tag, definite length, contents. */
function der(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

const seq = (...contents: Buffer[]): Buffer => der(0x30, ...contents);
const set = (...contents: Buffer[]): Buffer => der(0x31, ...contents);

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * first + second];
  for (const arc of rest) {
    const groups = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) groups.unshift((v & 0x7f) | 0x80);
    bytes.push(...groups);
  }
  return der(0x06, Buffer.from(bytes));
}

function utcTime(date: Date): Buffer {
  // YYMMDDHHMMSSZ
  const text = date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  return der(0x17, Buffer.from(text));
}
