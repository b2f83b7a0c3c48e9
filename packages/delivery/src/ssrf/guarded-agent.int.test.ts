import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createServer as createTlsServer } from 'node:tls';
import { selfSignedCertificate, TestReceiver } from '@hookrelay/testing';
import { PYTHON } from '@hookrelay/testing/src/python/run-python';
import { request, type Agent } from 'undici';
import { MAX_SESSION_TICKETS_PER_CONNECTION } from '../read-budget';
import { sendRequest } from '../send';
import { checkTargetUrl } from './check-target-url';
import { createGuardedAgent, DEFAULT_KEEP_ALIVE_MS } from './guarded-agent';
import { SsrfBlockedError } from './ssrf-blocked-error';
import type { LookupFn, ResolvedAddress } from './types';

// Every server here listens on 127.0.0.1 or ::1, and every fake resolver answers only those (or
// addresses the guard refuses before dialling), so no test traffic leaves the machine.

/**
 * A TLS 1.3 receiver (Python's ssl: Node's server cannot be made to send more tickets) that sends
 * `argv[3]` session tickets after each handshake, then answers one request 200.
 */
const TICKET_SERVER = `
import socket, ssl, sys, threading
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
ctx.num_tickets = int(sys.argv[3])
listener = socket.socket()
listener.bind(('127.0.0.1', 0))
listener.listen(8)
print('LISTENING', listener.getsockname()[1], flush=True)
def serve(conn):
    try:
        with ctx.wrap_socket(conn, server_side=True) as s:
            data = b''
            while b'\\r\\n\\r\\n' not in data:
                chunk = s.recv(65536)
                if not chunk:
                    return
                data += chunk
            s.sendall(b'HTTP/1.1 200 OK\\r\\ncontent-length: 2\\r\\nconnection: close\\r\\n\\r\\nok')
    except (OSError, ssl.SSLError):
        pass
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
`;

interface CountingServer {
  port: number;
  /** Accepted TCP connections: the proof that a refused request never touched the network. */
  connections: number;
  /** Local address of each accepted socket, i.e. the address the client actually dialled. */
  dialled: string[];
  close(): Promise<void>;
}

async function startServer(host: string, port = 0, opts: { closeAfterResponse?: boolean } = {}): Promise<CountingServer> {
  const server: Server = createServer((_req, res) => {
    if (opts.closeAfterResponse) res.setHeader('connection', 'close');
    res.end('ok');
  });
  const state = { connections: 0, dialled: [] as string[] };
  server.on('connection', (socket) => {
    state.connections++;
    state.dialled.push(socket.localAddress ?? '?');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return state.connections;
    },
    get dialled() {
      return state.dialled;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Resolver answering from a map, counting calls; a function value can change answers per call. */
function fakeResolver(zone: Record<string, ResolvedAddress[] | ((call: number) => ResolvedAddress[])>): LookupFn & { calls: number } {
  const fn = Object.assign(
    async (hostname: string) => {
      fn.calls++;
      const entry = zone[hostname];
      if (!entry) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      return typeof entry === 'function' ? entry(fn.calls) : entry;
    },
    { calls: 0 },
  );
  return fn;
}

const v4 = (address: string): ResolvedAddress[] => [{ address, family: 4 }];
const v6 = (address: string): ResolvedAddress[] => [{ address, family: 6 }];

/** undici may hand back our error itself or wrap it; either way ESSRFBLOCKED must be in the chain. */
function findSsrfError(err: unknown): SsrfBlockedError | undefined {
  for (let e = err as { cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e instanceof SsrfBlockedError && e.code === 'ESSRFBLOCKED') return e;
  }
  return undefined;
}

async function expectRefused(url: string, agent: Agent): Promise<SsrfBlockedError> {
  const err = await request(url, { dispatcher: agent }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeDefined();
  const ssrf = findSsrfError(err);
  expect(ssrf).toBeInstanceOf(SsrfBlockedError);
  return ssrf as SsrfBlockedError;
}

async function get(url: string, agent: Agent): Promise<{ status: number; body: string }> {
  const res = await request(url, { dispatcher: agent });
  return { status: res.statusCode, body: await res.body.text() };
}

describe('createGuardedAgent', () => {
  const cleanups: Array<() => Promise<void>> = [];
  const track = <T extends { close(): Promise<void> }>(thing: T): T => {
    cleanups.push(() => thing.close());
    return thing;
  };
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((close) => close()));
  });

  describe('when private targets are not allowed', () => {
    it('refuses an IPv4 loopback literal without opening a connection', async () => {
      const server = track(await startServer('127.0.0.1'));
      const agent = track(createGuardedAgent({ allowPrivate: false }));
      const err = await expectRefused(`http://127.0.0.1:${server.port}/`, agent);
      expect(err.message).toBe('target 127.0.0.1 is loopback');
      expect(server.connections).toBe(0);
    });

    it('refuses an IPv6 loopback literal without opening a connection', async () => {
      const server = track(await startServer('::1'));
      const agent = track(createGuardedAgent({ allowPrivate: false }));
      const err = await expectRefused(`http://[::1]:${server.port}/`, agent);
      expect(err.address).toBe('::1');
      expect(server.connections).toBe(0);
    });

    it('refuses a hostname that resolves to loopback without opening a connection', async () => {
      const server = track(await startServer('127.0.0.1'));
      const resolve = fakeResolver({ 'evil.test': v4('127.0.0.1') });
      const agent = track(createGuardedAgent({ allowPrivate: false }, { resolve }));
      const err = await expectRefused(`http://evil.test:${server.port}/`, agent);
      expect(err).toMatchObject({ hostname: 'evil.test', address: '127.0.0.1' });
      expect(resolve.calls).toBe(1);
      expect(server.connections).toBe(0);
    });

    it('refuses over https too, where the lookup runs inside tls.connect', async () => {
      // A plain HTTP server still counts TCP connections; the refusal must come before any.
      const server = track(await startServer('127.0.0.1'));
      const resolve = fakeResolver({ 'evil.test': v4('127.0.0.1') });
      const agent = track(createGuardedAgent({ allowPrivate: false }, { resolve }));
      await expectRefused(`https://evil.test:${server.port}/`, agent);
      await expectRefused(`https://127.0.0.1:${server.port}/`, agent);
      expect(server.connections).toBe(0);
    });

    it('refuses a hostname that resolves to the cloud metadata address before dialling it', async () => {
      const resolve = fakeResolver({ 'metadata.test': v4('169.254.169.254') });
      const agent = track(createGuardedAgent({ allowPrivate: false }, { resolve }));
      const err = await expectRefused('http://metadata.test/latest/meta-data/', agent);
      expect(err.reason).toMatch(/link-local/);
    });

    it('catches DNS rebinding: a name vetted as public at registration is refused when it turns private', async () => {
      const server = track(await startServer('127.0.0.1'));
      // TTL-0 attack: the registration check sees a public address, the delivery sees loopback.
      const resolve = fakeResolver({ 'rebind.test': (call) => (call === 1 ? v4('93.184.216.34') : v4('127.0.0.1')) });
      const url = `https://rebind.test:${server.port}/`;
      await expect(checkTargetUrl(url, { allowPrivate: false, allowHttp: false, lookup: resolve })).resolves.toEqual({ ok: true });

      const agent = track(createGuardedAgent({ allowPrivate: false }, { resolve }));
      await expectRefused(`http://rebind.test:${server.port}/`, agent);
      expect(resolve.calls).toBe(2);
      expect(server.connections).toBe(0);
    });
  });

  describe('when private targets are allowed', () => {
    it('reaches an IP-literal receiver', async () => {
      const server = track(await startServer('127.0.0.1'));
      const agent = track(createGuardedAgent({ allowPrivate: true }));
      await expect(get(`http://127.0.0.1:${server.port}/`, agent)).resolves.toEqual({ status: 200, body: 'ok' });
      expect(server.connections).toBe(1);
    });

    it('reaches a receiver by a hostname resolved to loopback', async () => {
      const server = track(await startServer('127.0.0.1'));
      const resolve = fakeResolver({ 'evil.test': v4('127.0.0.1') });
      const agent = track(createGuardedAgent({ allowPrivate: true }, { resolve }));
      await expect(get(`http://evil.test:${server.port}/`, agent)).resolves.toEqual({ status: 200, body: 'ok' });
      expect(server.connections).toBe(1);
      expect(resolve.calls).toBe(1);
    });
  });

  // undici refused such a header only inside the origin's Pool, leaving the Pool in the Agent for
  // good and one of its clients waiting for a drain: after 64 (its connections) every request to
  // the origin queued forever, whoever sent it (an audit's probe: a victim's deliveries got 0).
  describe('headers undici would refuse', () => {
    it('are refused before the Agent picks a Pool, so the origin stays reachable for everyone', async () => {
      const server = track(await startServer('127.0.0.1'));
      const agent = track(createGuardedAgent({ allowPrivate: true }, { connections: 4 }));
      const url = `http://127.0.0.1:${server.port}/`;
      const clock = Date.now;
      for (let i = 0; i < 10; i++) {
        const refused = await sendRequest(
          agent,
          { url, headers: { authorization: `Bearer a\nb${i}` }, body: '{}', timeoutMs: 2000 },
          clock,
        );
        expect(refused).toMatchObject({ kind: 'error', errorKind: 'network', message: expect.stringContaining('authorization header') });
      }
      for (const headers of [{ 'x-token': '\u0100' }, { connection: 'close' }, { 'bad name': 'x' }] as Array<Record<string, string>>)
        expect(await sendRequest(agent, { url, headers, body: '{}', timeoutMs: 2000 }, clock)).toMatchObject({
          kind: 'error',
          errorKind: 'network',
        });
      expect(server.connections).toBe(0);
      // Before, this waited for a client of the Pool, none of which would ever drain.
      const good = await sendRequest(agent, { url, headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs: 2000 }, clock);
      expect(good).toMatchObject({ kind: 'response', statusCode: 200 });
    }, 30_000);
  });

  describe('idle keep-alive sockets', () => {
    it("closes them after its own timeout, whatever longer one a receiver's Keep-Alive asks for", async () => {
      expect(DEFAULT_KEEP_ALIVE_MS).toBe(4000);
      const open = new Set<Socket>();
      const server: Server = createServer((_req, res) => {
        // Honoured by undici up to its keepAliveMaxTimeout (10 minutes by default).
        res.setHeader('keep-alive', 'timeout=600');
        res.end('ok');
      });
      server.on('connection', (socket) => {
        open.add(socket);
        socket.on('close', () => open.delete(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      );
      const agent = track(createGuardedAgent({ allowPrivate: true }, { keepAliveTimeoutMs: 200 }));
      const port = (server.address() as AddressInfo).port;
      await Promise.all(Array.from({ length: 5 }, () => get(`http://127.0.0.1:${port}/`, agent)));
      expect(open.size).toBeGreaterThan(0);
      const deadline = Date.now() + 3000;
      while (open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(open.size).toBe(0);
    });
  });

  // A receiver picks the key exchange, and for finite-field DH the group: with an 8192-bit group
  // each handshake cost the worker's event loop ~257 ms (TLS 1.2 DHE) or ~131 ms (TLS 1.3
  // ffdhe8192), before the certificate was checked. The groups here are 2048-bit (cheap to make and
  // to test against): what is asserted is that none is negotiated at all (outbound-tls.ts).
  describe('the TLS key exchange', () => {
    const { key, cert } = selfSignedCertificate();
    const post = (agent: Agent, url: string) => sendRequest(agent, { url, headers: {}, body: '{}', timeoutMs: 5000 });
    const receiver = async (tls: Record<string, unknown>) => {
      const started = await TestReceiver.start({ status: 200, body: 'ok' }, { tls: { key, cert, ...tls } });
      cleanups.push(() => started.close());
      return started;
    };

    it('refuses a TLS 1.2 server that offers only DHE, at the handshake, and still connects over ECDHE', async () => {
      const dheOnly = await receiver({ maxVersion: 'TLSv1.2', ciphers: 'DHE-RSA-AES128-GCM-SHA256', dhparam: 'auto' });
      const ecdhe12 = await receiver({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
      const agent = track(createGuardedAgent({ allowPrivate: true }, { ca: cert }));

      expect(await post(agent, dheOnly.url)).toMatchObject({
        kind: 'error',
        errorKind: 'tls',
        message: expect.stringMatching(/handshake failure/i),
      });
      expect(dheOnly.tlsHandshakes).toBe(0);
      expect(dheOnly.requests).toHaveLength(0);

      expect(await post(agent, ecdhe12.url)).toMatchObject({ kind: 'response', statusCode: 200 });
      expect(ecdhe12.requests).toHaveLength(1);
    });

    it('refuses a TLS 1.3 server that accepts only finite-field groups (ffdhe2048), and still connects over ECDHE', async () => {
      // A TLS 1.3 server asks for a group the client listed (HelloRetryRequest): leaving out the
      // DHE suites alone still listed ffdhe2048 to ffdhe8192.
      const ffdheOnly = await receiver({ minVersion: 'TLSv1.3', ecdhCurve: 'ffdhe2048' });
      const ecdhe13 = await receiver({ minVersion: 'TLSv1.3' });
      const agent = track(createGuardedAgent({ allowPrivate: true }, { ca: cert }));

      expect(await post(agent, ffdheOnly.url)).toMatchObject({ kind: 'error', errorKind: 'tls' });
      expect(ffdheOnly.tlsHandshakes).toBe(0);
      expect(ffdheOnly.requests).toHaveLength(0);

      expect(await post(agent, ecdhe13.url)).toMatchObject({ kind: 'response', statusCode: 200 });
      expect(ecdhe13.requests).toHaveLength(1);
    });
  });

  // What a receiver sends after the handshake: neither a renegotiation nor a session ticket carries
  // plaintext, so the read budget and the TLS handshake budget saw neither (outbound-tls.ts,
  // read-budget.ts).
  describe('TLS after the handshake', () => {
    const { key, cert } = selfSignedCertificate();
    const post = (agent: Agent, url: string) => sendRequest(agent, { url, headers: {}, body: '{}', timeoutMs: 5000 });

    it('refuses a TLS 1.2 renegotiation, which would check the chain again uncharged', async () => {
      let renegotiated = 0;
      // Asks for a new handshake once the request is in, and answers only once it is done.
      const server = createTlsServer({ key, cert, maxVersion: 'TLSv1.2' }, (socket) => {
        socket.on('error', (err) => {
          // Node's server counts the handshakes it asks for against its own renegotiation limit too.
          if (!/renegotiation attack/.test(err.message)) socket.destroy();
        });
        socket.once('data', () => {
          socket.renegotiate({ rejectUnauthorized: false }, (err) => {
            if (err) return void socket.destroy();
            renegotiated++;
            socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
          });
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      const agent = track(createGuardedAgent({ allowPrivate: true }, { ca: cert }));

      const outcome = await post(agent, `https://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      expect(outcome).toMatchObject({ kind: 'error' });
      expect(renegotiated).toBe(0);
    });

    it('takes a few session tickets on a connection, and drops one that streams them', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'hookrelay-tickets-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      writeFileSync(join(dir, 'cert.pem'), cert);
      writeFileSync(join(dir, 'key.pem'), key);
      const ticketServer = async (tickets: number) => {
        const child = spawn(PYTHON, ['-u', '-c', TICKET_SERVER, join(dir, 'cert.pem'), join(dir, 'key.pem'), String(tickets)], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        cleanups.push(async () => void child.kill('SIGKILL'));
        const port = await new Promise<number>((resolve, reject) => {
          child.once('exit', (code) => reject(new Error(`the ticket server exited with ${code}`)));
          createInterface({ input: child.stdout }).once('line', (line) => resolve(Number(/^LISTENING (\d+)$/.exec(line)?.[1])));
        });
        return `https://127.0.0.1:${port}/`;
      };
      const agent = track(createGuardedAgent({ allowPrivate: true }, { ca: cert }));

      // OpenSSL's default, two, is what servers send.
      expect(await post(agent, await ticketServer(2))).toMatchObject({ kind: 'response', statusCode: 200 });
      // 100 tickets are ~25 KB, well inside the read budget: only their count stops them.
      expect(await post(agent, await ticketServer(100))).toMatchObject({
        kind: 'error',
        message: `receiver sent over ${MAX_SESSION_TICKETS_PER_CONNECTION} TLS session tickets on one connection`,
      });
    });
  });

  describe('address pinning', () => {
    // Two receivers on the same port: A on 127.0.0.1, B on ::1. The resolver answers 127.0.0.1
    // on its first call and ::1 afterwards, so whichever server a connection lands on tells
    // which resolver answer that connection used.
    async function startPair(closeAfterResponse: boolean): Promise<{ a: CountingServer; b: CountingServer }> {
      for (let attempt = 0; ; attempt++) {
        const a = await startServer('127.0.0.1', 0, { closeAfterResponse });
        try {
          const b = await startServer('::1', a.port, { closeAfterResponse });
          return { a: track(a), b: track(b) };
        } catch (err) {
          await a.close();
          if (attempt >= 5) throw err; // port taken on ::1 by someone else: pick another
        }
      }
    }
    const flipping = () => fakeResolver({ 'pinned.test': (call) => (call === 1 ? v4('127.0.0.1') : v6('::1')) });

    it('connects to the address the lookup vetted and reuses it without resolving again', async () => {
      const { a, b } = await startPair(false);
      const resolve = flipping();
      // One connection per origin: with more, the pool may open a second socket before the first
      // reports itself idle, which is undici scheduling rather than anything the guard decides.
      const agent = track(createGuardedAgent({ allowPrivate: true }, { resolve, connections: 1 }));

      await get(`http://pinned.test:${a.port}/`, agent);
      await get(`http://pinned.test:${a.port}/`, agent); // same keep-alive socket

      expect(a.dialled).toEqual(['127.0.0.1']);
      expect(b.connections).toBe(0);
      expect(resolve.calls).toBe(1);
    });

    it('resolves once per new connection and dials exactly that answer', async () => {
      const { a, b } = await startPair(true); // every response closes its socket
      const resolve = flipping();
      const agent = track(createGuardedAgent({ allowPrivate: true }, { resolve }));

      await get(`http://pinned.test:${a.port}/`, agent);
      expect(resolve.calls).toBe(1);
      expect(a.dialled).toEqual(['127.0.0.1']);

      await get(`http://pinned.test:${a.port}/`, agent);
      expect(resolve.calls).toBe(2);
      expect(b.dialled).toEqual(['::1']);
      expect(a.connections + b.connections).toBe(resolve.calls);
    });
  });
});
