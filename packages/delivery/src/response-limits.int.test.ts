import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { request, type Agent } from 'undici';
import { RESPONSE_READ_BUDGET_BYTES } from './read-budget';
import { MAX_INTERIM_RESPONSES, sendRequest, type SendResult } from './send';
import { createGuardedAgent } from './ssrf';

// Receivers written on node:net so they can send what no HTTP server library would: endless
// interim responses, chunk extensions of 60 KB. All listen on 127.0.0.1.

/** A hostile receiver floods at most this much, for at most this long, then answers its 200. */
const FLOOD_MAX_BYTES = 32 * 1024 * 1024;
const FLOOD_MAX_MS = 2000;
/** Long enough that, without the bounds, the flood ends in the 200 rather than a timeout. */
const TIMEOUT_MS = 5000;
/** What the worker's socket may read past a bound before the check sees it: one read and its buffer. */
const READ_AHEAD_BYTES = 128 * 1024;

interface RawReceiver {
  url: string;
  /** Bytes written to each connection that has closed. */
  bytesSent: number[];
  /** Resolves once `count` connections have closed; rejects after `timeoutMs`. */
  closedConnections(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Answers each connection's first request (once its first bytes arrive) with `answer`, in raw bytes. */
async function startRawReceiver(answer: (socket: Socket) => void): Promise<RawReceiver> {
  const sockets = new Set<Socket>();
  const bytesSent: number[] = [];
  const waiters: Array<() => void> = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('data', () => answer(socket));
    socket.on('close', () => {
      sockets.delete(socket);
      bytesSent.push(socket.bytesWritten);
      for (const wake of waiters.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    bytesSent,
    closedConnections: (count, timeoutMs = 2000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${bytesSent.length} of ${count} connections closed in ${timeoutMs} ms`)),
          timeoutMs,
        );
        const check = (): void => {
          if (bytesSent.length < count) return void waiters.push(check);
          clearTimeout(timer);
          resolve();
        };
        check();
      }),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Writes `piece` again and again as fast as the client reads it, until the client hangs up or
 * FLOOD_MAX_BYTES or FLOOD_MAX_MS pass; then writes `finish`, the answer a deadline-aware receiver
 * sends just in time.
 */
function flood(socket: Socket, piece: string, finish: string): void {
  const until = Date.now() + FLOOD_MAX_MS;
  let written = 0;
  const pump = (): void => {
    while (!socket.destroyed && written < FLOOD_MAX_BYTES && Date.now() < until) {
      written += piece.length;
      if (!socket.write(piece)) return void socket.once('drain', pump);
    }
    if (!socket.destroyed) socket.write(finish);
  };
  pump();
}

/** The worker's side of each connection undici opens (its 'undici:client:connected' channel): what it read is its bytesRead. */
function recordConnections(): { sockets: Socket[]; stop(): void } {
  const sockets: Socket[] = [];
  const onConnected = (message: unknown): void => void sockets.push((message as { socket: Socket }).socket);
  subscribe('undici:client:connected', onConnected);
  return { sockets, stop: () => unsubscribe('undici:client:connected', onConnected) };
}

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
/** ~15 KB of header lines: just under undici's 16 KiB per message. */
const bigHeaders = (name: string): string => Array.from({ length: 15 }, (_, i) => `${name}-${i}: ${'h'.repeat(1000)}\r\n`).join('');

describe('what a receiver can make the worker read', () => {
  let agent: Agent;
  let connections: ReturnType<typeof recordConnections>;
  const receivers: RawReceiver[] = [];

  beforeEach(() => {
    agent = createGuardedAgent({ allowPrivate: true });
    connections = recordConnections();
  });

  afterEach(async () => {
    connections.stop();
    await agent.destroy();
    for (const receiver of receivers.splice(0)) await receiver.close();
  });

  const receiverAnswering = async (answer: (socket: Socket) => void): Promise<RawReceiver> => {
    const receiver = await startRawReceiver(answer);
    receivers.push(receiver);
    return receiver;
  };

  const send = (url: string): Promise<SendResult> =>
    sendRequest(agent, { url, headers: { 'content-type': 'application/json' }, body: '{"a":1}', timeoutMs: TIMEOUT_MS });

  /** What the worker read from the receiver over every connection of the test. */
  const bytesRead = (): number => connections.sockets.reduce((sum, socket) => sum + socket.bytesRead, 0);

  describe('when the receiver streams 103 Early Hints of ~15 KB each before its 200', () => {
    it(`fails the attempt (network) at the ${MAX_INTERIM_RESPONSES + 1}th, long before the deadline, having read a bounded amount`, async () => {
      const earlyHints = `HTTP/1.1 103 Early Hints\r\n${bigHeaders('link')}\r\n`;
      const receiver = await receiverAnswering((socket) => flood(socket, earlyHints, OK));
      const result = await send(receiver.url);
      expect(result).toMatchObject({
        kind: 'error',
        errorKind: 'network',
        message: `receiver sent more than ${MAX_INTERIM_RESPONSES} interim (1xx) responses`,
      });
      expect(result.durationMs).toBeLessThan(1000);
      // Six messages are ~90 KB; the socket may have read ahead of the parser.
      expect(bytesRead()).toBeLessThan((MAX_INTERIM_RESPONSES + 1) * earlyHints.length + READ_AHEAD_BYTES);
      // The worker hung up: the flood ended there, not at its own limits.
      await receiver.closedConnections(1);
      expect(receiver.bytesSent[0]).toBeLessThan(FLOOD_MAX_BYTES);
    });
  });

  describe('when the receiver streams a chunked body whose chunks carry 60 KB extensions', () => {
    it('fails the attempt (network) once the read budget is spent, long before the deadline', async () => {
      // One body byte per chunk: the body stays far under the 4 KB preview cap however long this runs.
      const chunk = `1;${'e'.repeat(60 * 1024)}\r\nx\r\n`;
      const receiver = await receiverAnswering((socket) => {
        socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
        flood(socket, chunk, '0\r\n\r\n');
      });
      const result = await send(receiver.url);
      expect(result).toMatchObject({
        kind: 'error',
        errorKind: 'network',
        message: expect.stringContaining(`receiver sent over ${RESPONSE_READ_BUDGET_BYTES} bytes for one request`),
      });
      expect(result.durationMs).toBeLessThan(1000);
      expect(bytesRead()).toBeGreaterThan(RESPONSE_READ_BUDGET_BYTES);
      expect(bytesRead()).toBeLessThan(RESPONSE_READ_BUDGET_BYTES + READ_AHEAD_BYTES);
      await receiver.closedConnections(1);
      expect(receiver.bytesSent[0]).toBeLessThan(FLOOD_MAX_BYTES);
    });
  });

  describe('when the receiver answers within the bounds', () => {
    it('delivers after a 103, with the final status and headers, not the 103s', async () => {
      const receiver = await receiverAnswering((socket) =>
        socket.write(
          `HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 201 Created\r\nx-final: yes\r\ncontent-length: 2\r\n\r\nok`,
        ),
      );
      const result = await send(receiver.url);
      expect(result).toMatchObject({ kind: 'response', statusCode: 201, bodyPreview: 'ok', headers: { 'x-final': 'yes' } });
      expect(result.kind === 'response' && result.headers.link).toBeUndefined();
    });

    it(`delivers after ${MAX_INTERIM_RESPONSES} interim responses of ~15 KB each`, async () => {
      const interim = Array.from(
        { length: MAX_INTERIM_RESPONSES },
        (_, i) => `HTTP/1.1 ${i % 2 ? 102 : 103} Wait\r\n${bigHeaders('link')}\r\n`,
      );
      const receiver = await receiverAnswering((socket) => socket.write(interim.join('') + OK));
      expect(await send(receiver.url)).toMatchObject({ kind: 'response', statusCode: 200, bodyPreview: 'ok' });
    });

    it('delivers a 200 with ~15 KB of headers and a chunked body', async () => {
      const body = ['{"received":', 'true,', `"pad":"${'p'.repeat(3000)}"}`];
      const chunked = body.map((piece) => `${piece.length.toString(16)};note=fine\r\n${piece}\r\n`).join('') + '0\r\n\r\n';
      const receiver = await receiverAnswering((socket) =>
        socket.write(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n${bigHeaders('x-pad')}\r\n${chunked}`),
      );
      const result = await send(receiver.url);
      expect(result).toMatchObject({ kind: 'response', statusCode: 200, bodyPreview: body.join('') });
      expect(result.kind === 'response' && result.headers['x-pad-14']).toHaveLength(1000);
    });

    it('counts the budget per request on a kept-alive connection', async () => {
      // Each response is most of the budget; three on one socket are well past it.
      const body = 'b'.repeat(RESPONSE_READ_BUDGET_BYTES - 32 * 1024);
      let accepted = 0;
      const server = createHttpServer((req, res) => {
        req.resume();
        req.on('end', () => res.end(body));
      }).on('connection', () => accepted++);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
        const single = createGuardedAgent({ allowPrivate: true }, { connections: 1 });
        try {
          for (let i = 0; i < 3; i++) {
            const res = await request(url, { dispatcher: single, method: 'POST', body: '{}' });
            expect(await res.body.text()).toHaveLength(body.length);
          }
        } finally {
          await single.destroy();
        }
        expect(accepted).toBe(1);
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });
});
