// What one TLS handshake to a hostile receiver costs the worker's event loop: a receiver in a
// process of its own offers one key exchange and closes after each response, with no session
// resumption, so each of PROBE_HANDSHAKES (10) requests is a full handshake. Prints the client's
// CPU per handshake through createGuardedAgent (the worker's and the API's dispatcher) and through
// an undici Agent with Node's TLS defaults (what the guarded agent offered before), and how each
// request ended. The 8192-bit group is RFC 3526's (Node's modp18), so nothing is generated.
// Not part of the test run; ssrf/outbound-tls.ts quotes it.
//
//   npx tsx scripts/probe-tls-key-exchange.ts
import { fork } from 'node:child_process';
import { constants, getDiffieHellman } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createGuardedAgent, sendRequest } from '@hookrelay/delivery';
import { selfSignedCertificate } from '@hookrelay/testing';
import { Agent, buildConnector, type Dispatcher } from 'undici';

const HANDSHAKES = Number(process.env.PROBE_HANDSHAKES ?? 10);

const RECEIVERS = {
  'TLS 1.2, DHE only, 8192-bit group': () => ({ maxVersion: 'TLSv1.2', ciphers: 'DHE-RSA-AES128-GCM-SHA256', dhparam: dhParams8192() }),
  'TLS 1.3, ffdhe8192 only': () => ({ minVersion: 'TLSv1.3', ecdhCurve: 'ffdhe8192' }),
  'TLS 1.3, default (X25519)': () => ({}),
} as const;
type ReceiverName = keyof typeof RECEIVERS;

/** PKCS#3 DHParameter { p, g } as PEM, for a server's `dhparam`. */
function dhParams8192(): string {
  const dh = getDiffieHellman('modp18');
  const int = (b: Buffer) => (b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
  const der = (tag: number, body: Buffer) => {
    const n = body.length;
    const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
    return Buffer.concat([Buffer.from([tag, ...len]), body]);
  };
  const seq = der(0x30, Buffer.concat([der(0x02, int(dh.getPrime())), der(0x02, int(dh.getGenerator()))]));
  return `-----BEGIN DH PARAMETERS-----\n${seq.toString('base64').replace(/.{64}/g, '$&\n').trimEnd()}\n-----END DH PARAMETERS-----\n`;
}

function serve(name: ReceiverName): void {
  const { key, cert } = JSON.parse(process.env.PROBE_CERT ?? '{}') as { key: string; cert: string };
  const server = createServer({ key, cert, secureOptions: constants.SSL_OP_NO_TICKET, ...RECEIVERS[name]() }, (_req, res) => {
    res.setHeader('connection', 'close');
    res.end('ok');
  });
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as AddressInfo).port));
}

async function measure(dispatcher: Dispatcher, url: string): Promise<{ cpuMs: number; outcomes: string }> {
  const outcomes = new Map<string, number>();
  const before = process.cpuUsage();
  for (let i = 0; i < HANDSHAKES; i++) {
    const r = await sendRequest(dispatcher, { url, headers: {}, body: '{}', timeoutMs: 30_000 });
    const outcome = r.kind === 'response' ? String(r.statusCode) : r.errorKind;
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  const used = process.cpuUsage(before);
  return { cpuMs: (used.user + used.system) / 1000 / HANDSHAKES, outcomes: [...outcomes].map(([o, n]) => `${n}x ${o}`).join(', ') };
}

async function main(): Promise<void> {
  const certificate = selfSignedCertificate();
  for (const name of Object.keys(RECEIVERS) as ReceiverName[]) {
    const child = fork(__filename, [name], { env: { ...process.env, PROBE_CERT: JSON.stringify(certificate) } });
    const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(m as number)));
    const url = `https://127.0.0.1:${port}/`;
    const nodeDefaults = new Agent({ connect: buildConnector({ ca: certificate.cert }) });
    const guarded = createGuardedAgent({ allowPrivate: true }, { ca: certificate.cert });
    for (const [client, dispatcher] of [
      ['Node defaults', nodeDefaults],
      ['guarded agent', guarded],
    ] as const) {
      const { cpuMs, outcomes } = await measure(dispatcher, url);
      console.log(`${name} | ${client}: ${cpuMs.toFixed(1)} ms of CPU per handshake (${outcomes})`);
    }
    await Promise.all([nodeDefaults.close(), guarded.close()]);
    child.kill();
  }
}

const serving = process.argv[2];
if (serving) serve(serving as ReceiverName);
else void main();
