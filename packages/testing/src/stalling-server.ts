import { createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP server on 127.0.0.1 that accepts connections and never writes a byte: a TLS client waits
 * for its handshake until its connect timeout, with its request still queued, which no abort
 * signal reaches (undici aborts only a request that has a socket).
 */
export async function startStallingServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
