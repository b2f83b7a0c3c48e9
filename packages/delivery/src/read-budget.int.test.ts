import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { AddressInfo, Socket } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';
import { selfSignedCertificate } from '@hookrelay/testing';
import { RESPONSE_READ_BUDGET_BYTES } from './read-budget';
import { sendRequest } from './send';
import { createGuardedAgent } from './ssrf';

/** The tiny-record flood stops here on its own, then answers: a bound for the test, not the worker's. */
const FLOOD_MAX_RECORDS = 400_000;
const FLOOD_MAX_MS = 4000;
/** What the worker's socket may read past the budget before its check sees it: one read and its buffer. */
const READ_AHEAD_BYTES = 128 * 1024;

describe('the read budget over TLS, counted as the bytes came off the network', () => {
  it('drops a receiver that sends one byte of plaintext per TLS record once the records reach the budget', async () => {
    const { key, cert } = selfSignedCertificate();
    let recordsWritten = 0;
    let closed: () => void = () => undefined;
    const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
    const server = createServer({ key, cert }, (socket: TLSSocket) => {
      socket.on('error', () => undefined);
      socket.on('close', () => closed());
      socket.once('data', () => {
        // A chunked 200 whose first chunk's extension never ends, each byte written as its own
        // record (~23 bytes on the wire for 1 of plaintext): the body never reaches its 4 KB cap.
        socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1;');
        const until = Date.now() + FLOOD_MAX_MS;
        const next = (): void => {
          if (socket.destroyed) return;
          if (recordsWritten >= FLOOD_MAX_RECORDS || Date.now() > until) return void socket.end('\r\nx\r\n0\r\n\r\n');
          recordsWritten++;
          socket.write('e', next);
        };
        next();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // The worker's side of the connection: what it had read off the network at its last read.
    let networkRead = 0;
    const onConnected = (message: unknown): void => {
      const socket = (message as { socket: Socket }).socket;
      // Read from Node's internals directly, not through the code under test.
      const tcp = (socket as unknown as { _handle: { _parent: { bytesRead: number } } })._handle._parent;
      socket.on('readable', () => {
        networkRead = tcp.bytesRead;
      });
    };
    subscribe('undici:client:connected', onConnected);
    const agent = createGuardedAgent({ allowPrivate: true }, { ca: cert });
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const result = await sendRequest(agent, { url, headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs: 10_000 });
      expect(result).toMatchObject({
        kind: 'error',
        errorKind: 'network',
        message: expect.stringContaining(`receiver sent over ${RESPONSE_READ_BUDGET_BYTES} bytes for one request`),
      });
      await connectionClosed;
      // Counting plaintext, the worker read ~23 times the budget off the network (a record of ~23
      // bytes per byte of plaintext) before it dropped the connection.
      expect(networkRead).toBeGreaterThan(RESPONSE_READ_BUDGET_BYTES / 2);
      expect(networkRead).toBeLessThan(RESPONSE_READ_BUDGET_BYTES + READ_AHEAD_BYTES);
    } finally {
      unsubscribe('undici:client:connected', onConnected);
      await agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
