// Receivers that misbehave on purpose, on 127.0.0.1. Each counts what it saw so a test can tell
// how long the worker stayed connected and how much it was made to read.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface HostileReceiver {
  url: string;
  /** Connections accepted so far. */
  connections: number;
  /** Connections currently open. */
  open: number;
  /** How long each closed connection stayed open, ms. */
  lifetimesMs: number[];
  /** Response bytes written to sockets that have closed, per connection. */
  bytesSent: number[];
  close(): Promise<void>;
}

function track(
  server: NetServer | HttpServer,
  onSocket?: (socket: Socket, index: number) => void,
): Omit<HostileReceiver, 'url' | 'close'> & { sockets: Set<Socket> } {
  const state = { connections: 0, open: 0, lifetimesMs: [] as number[], bytesSent: [] as number[], sockets: new Set<Socket>() };
  server.on('connection', (socket: Socket) => {
    const index = state.connections++;
    state.open++;
    state.sockets.add(socket);
    const openedAt = Date.now();
    socket.on('error', () => undefined);
    socket.on('close', () => {
      state.open--;
      state.sockets.delete(socket);
      state.lifetimesMs.push(Date.now() - openedAt);
      state.bytesSent.push(socket.bytesWritten);
    });
    onSocket?.(socket, index);
  });
  return state;
}

/**
 * Where a receiver listens: 127.0.0.1, or every loopback spelling (`dualStack`: [::] with IPv4
 * mapped, so 127.0.0.1, localhost and [::1] on its port all reach it).
 */
export interface ListenOptions {
  dualStack?: boolean;
}

async function listen(
  server: NetServer | HttpServer,
  state: ReturnType<typeof track>,
  timers: Set<NodeJS.Timeout> = new Set(),
  opts: ListenOptions = {},
): Promise<HostileReceiver> {
  await new Promise<void>((resolve) =>
    opts.dualStack ? server.listen({ port: 0, host: '::', ipv6Only: false }, resolve) : server.listen(0, '127.0.0.1', resolve),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return Object.assign(state, {
    url,
    close: async () => {
      for (const t of timers) clearInterval(t);
      for (const s of state.sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** Accepts the connection, reads the request, never answers. */
export async function startHangingReceiver(opts: ListenOptions = {}): Promise<HostileReceiver> {
  const server = createNetServer();
  const state = track(server, (socket) => socket.resume());
  return listen(server, state, new Set(), opts);
}

/**
 * Answers one byte per second. `part: 'headers'` trickles the status line and headers; `'body'`
 * sends the headers at once and trickles a 1 KB body.
 */
export async function startTrickleReceiver(part: 'headers' | 'body'): Promise<HostileReceiver> {
  const timers = new Set<NodeJS.Timeout>();
  const body = 'x'.repeat(1024);
  const head = `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n\r\n`;
  const server = createNetServer();
  const state = track(server, (socket) => {
    socket.once('data', () => {
      const text = part === 'headers' ? head + body : body;
      if (part === 'body') socket.write(head);
      let i = 0;
      const timer = setInterval(() => {
        if (socket.destroyed || i >= text.length) return void clearInterval(timer);
        socket.write(text[i++] as string);
      }, 1000);
      timers.add(timer);
      socket.on('close', () => {
        clearInterval(timer);
        timers.delete(timer);
      });
    });
    socket.resume();
  });
  return listen(server, state, timers);
}

/** Answers 200 with a body of `bytes` (100 MB by default), streamed as fast as the client reads it. */
export async function startHugeBodyReceiver(bytes = 100 * 1024 * 1024): Promise<HostileReceiver> {
  const chunk = Buffer.alloc(64 * 1024, 'A');
  const server = createHttpServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(bytes) });
    let left = bytes;
    const pump = (): void => {
      while (left > 0 && !res.destroyed) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= piece.length;
        if (!res.write(piece)) return void res.once('drain', pump);
      }
      if (left === 0) res.end();
    };
    pump();
  });
  const state = track(server);
  return listen(server, state);
}

/** A flooding receiver stops after this much, however fast the worker reads. */
const FLOOD_MAX_BYTES = 64 * 1024 * 1024;

/** Writes `piece` again and again as fast as the client reads it, until it hangs up or FLOOD_MAX_BYTES. */
function flood(socket: Socket, piece: string): void {
  let written = 0;
  const pump = (): void => {
    while (!socket.destroyed && written < FLOOD_MAX_BYTES) {
      written += piece.length;
      if (!socket.write(piece)) return void socket.once('drain', pump);
    }
  };
  pump();
}

/**
 * Answers `103 Early Hints` with ~15 KB of headers over and over, never a final response: each
 * interim response restarts undici's 16 KiB header limit.
 */
export async function startEarlyHintsReceiver(): Promise<HostileReceiver> {
  const links = Array.from({ length: 15 }, (_, i) => `link: </asset-${i}.css>; rel=preload; x=${'h'.repeat(1000)}\r\n`).join('');
  const server = createNetServer();
  const state = track(server, (socket) => socket.once('data', () => flood(socket, `HTTP/1.1 103 Early Hints\r\n${links}\r\n`)));
  return listen(server, state);
}

/**
 * Answers 200 with a chunked body whose chunks are one byte each behind 60 KB of chunk extension:
 * extensions are not body bytes, so the body stays under any cap on it.
 */
export async function startChunkExtensionReceiver(): Promise<HostileReceiver> {
  const chunk = `1;${'e'.repeat(60 * 1024)}\r\nx\r\n`;
  const server = createNetServer();
  const state = track(server, (socket) =>
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
      flood(socket, chunk);
    }),
  );
  return listen(server, state);
}

/** Reads the request, then resets the connection (TCP RST) without a byte of response. */
export async function startResetReceiver(): Promise<HostileReceiver> {
  const server = createNetServer();
  const state = track(server, (socket) => {
    socket.once('data', () => socket.resetAndDestroy());
  });
  return listen(server, state);
}
