// What one TLS handshake costs the worker's event loop when a hostile receiver sends a long chain
// of certificates it cannot verify, each key RSA-3072 with a 3000-bit public exponent (legal for
// moduli up to 3,072 bits, and each signature check then costs about as much as signing). Node's
// TLS client lets OpenSSL finish the handshake and judges the chain afterwards, so OpenSSL checks
// every signature of the chain first, on the event loop. A receiver in a process of its own serves
// each chain, closing after each response, with no session resumption, so each of
// PROBE_HANDSHAKES (10) requests through createGuardedAgent (the worker's dispatcher) is a full
// handshake; prints the client's CPU per handshake and how each request ended. Needs the openssl
// command; generating PROBE_CHAIN (20) + 1 keys takes ~30 s. Not part of the test run;
// SECURITY.md ("Delivery capacity") quotes it. The worker and the API bound how many such handshakes
// one subscriber's sends may fail (TlsHandshakeBudget); the dispatcher here has no bound, so every
// request pays one handshake: what each one costs is what is measured.
//
//   npx tsx scripts/probe-tls-chain-verify.ts
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { constants } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGuardedAgent, sendRequest } from '@hookrelay/delivery';
import { selfSignedCertificate } from '@hookrelay/testing';

const HANDSHAKES = Number(process.env.PROBE_HANDSHAKES ?? 10);
const CHAIN = Number(process.env.PROBE_CHAIN ?? 20);
/** A 3000-bit odd public exponent. */
const BIG_EXPONENT = `0x${((1n << 3000n) | 1n).toString(16)}`;

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** Key `k<i>.pem` and certificate `c<i>.pem` for i = 0 (a self-signed root) to `length` (the leaf, for 127.0.0.1). */
function buildChain(dir: string, length: number): void {
  for (let i = 0; i <= length; i++) {
    openssl(
      dir,
      'genpkey',
      '-algorithm',
      'RSA',
      '-pkeyopt',
      'rsa_keygen_bits:3072',
      '-pkeyopt',
      `rsa_keygen_pubexp:${BIG_EXPONENT}`,
      '-out',
      `k${i}.pem`,
    );
  }
  openssl(
    dir,
    'req',
    '-x509',
    '-new',
    '-key',
    'k0.pem',
    '-subj',
    '/CN=probe root',
    '-days',
    '2',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-out',
    'c0.pem',
  );
  for (let i = 1; i <= length; i++) {
    const leaf = i === length;
    writeFileSync(join(dir, `ext${i}.cnf`), leaf ? 'subjectAltName=IP:127.0.0.1\n' : 'basicConstraints=critical,CA:TRUE\n');
    openssl(dir, 'req', '-new', '-key', `k${i}.pem`, '-subj', leaf ? '/CN=127.0.0.1' : `/CN=probe ca ${i}`, '-out', `r${i}.csr`);
    openssl(
      dir,
      'x509',
      '-req',
      '-in',
      `r${i}.csr`,
      '-CA',
      `c${i - 1}.pem`,
      '-CAkey',
      `k${i - 1}.pem`,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `ext${i}.cnf`,
      '-out',
      `c${i}.pem`,
    );
  }
}

function serve(): void {
  const { key, cert } = JSON.parse(process.env.PROBE_CERT ?? '{}') as { key: string; cert: string };
  const server = createServer({ key, cert, secureOptions: constants.SSL_OP_NO_TICKET }, (_req, res) => {
    res.setHeader('connection', 'close');
    res.end('ok');
  });
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as AddressInfo).port));
}

async function measure(key: string, cert: string): Promise<{ cpuMs: number; outcomes: string }> {
  const child = fork(__filename, ['serve'], { env: { ...process.env, PROBE_CERT: JSON.stringify({ key, cert }) } });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(m as number)));
  const dispatcher = createGuardedAgent({ allowPrivate: true });
  const outcomes = new Map<string, number>();
  const before = process.cpuUsage();
  for (let i = 0; i < HANDSHAKES; i++) {
    const r = await sendRequest(dispatcher, { url: `https://127.0.0.1:${port}/`, headers: {}, body: '{}', timeoutMs: 30_000 });
    const outcome = r.kind === 'response' ? String(r.statusCode) : `${r.errorKind}: ${r.message}`;
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  const used = process.cpuUsage(before);
  await dispatcher.close();
  child.kill();
  return { cpuMs: (used.user + used.system) / 1000 / HANDSHAKES, outcomes: [...outcomes].map(([o, n]) => `${n}x ${o}`).join(', ') };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'probe-tls-chain-'));
  try {
    buildChain(dir, CHAIN);
    const read = (name: string) => readFileSync(join(dir, name), 'utf8');
    const chain = Array.from({ length: CHAIN + 1 }, (_, i) => read(`c${CHAIN - i}.pem`)).join('');
    const plain = selfSignedCertificate();
    const receivers: Array<[string, string, string]> = [
      ['a self-signed certificate (RSA, e = 65537)', plain.key, plain.cert],
      ['the leaf alone (RSA-3072, 3000-bit exponent)', read(`k${CHAIN}.pem`), read(`c${CHAIN}.pem`)],
      [`the leaf and ${CHAIN} issuers up to a self-signed root (${Buffer.byteLength(chain)} bytes)`, read(`k${CHAIN}.pem`), chain],
    ];
    for (const [name, key, cert] of receivers) {
      const { cpuMs, outcomes } = await measure(key, cert);
      console.log(`${name}: ${cpuMs.toFixed(1)} ms of the client's CPU per handshake (${outcomes})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'serve') serve();
else void main();
