import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Express } from 'express';

/**
 * How long a client may take to send a whole request, headers and body, counted from its first
 * byte (Node's `requestTimeout`); past it Node answers 408 and closes the connection. Node's
 * default is 300 s: a client that sent most of a 1 MB body and stopped held it in the API that
 * long, every subscriber's process, bounded only by file descriptors. 30 s is a 1 MB body at
 * 35 KB/s. It does not cut a slow answer: only the request's arrival is timed.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * How long a client may take to send its headers (Node's `headersTimeout`, default 60 s). A few
 * hundred bytes, one packet from any real client. Node refuses a value over the request timeout.
 * Like it, counted from the request's first byte, so an idle keep-alive connection (closed after
 * Node's `keepAliveTimeout`, 5 s) does not use it up before its next request.
 */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;

/**
 * How often Node looks for requests past those timeouts (`connectionsCheckingInterval`). Its
 * default, 30 s, would let a request run up to 30 s over them. A check visits only the
 * connections that are in the middle of a request.
 */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/**
 * How long a connection may make no progress at all (nothing read, nothing written) before it is
 * closed (Node's server `timeout`, default none). The request timeouts above time only a request's
 * arrival: a client that asked for a large answer and never read it held the answer's unsent bytes
 * in this process until it hung up (an audit: 50 such sockets of a 1 MiB event each, still open
 * and holding ~1 MiB apiece minutes later; the work budget allows ~5 such reads a second). A
 * connection whose answer has not started is left to the request's own deadlines (a test send
 * waits up to its endpoint's 60 s, and may queue behind another's handshake before that).
 */
export const SOCKET_IDLE_TIMEOUT_MS = 120_000;

/** Where the API listens and how long a request may take to arrive (the config's variables). */
export interface ApiServerSettings {
  PORT: number;
  HOST: string;
  HOOKRELAY_REQUEST_TIMEOUT_MS: number;
  HOOKRELAY_HEADERS_TIMEOUT_MS: number;
  /** Tests shorten it to see it. @defaultValue SOCKET_IDLE_TIMEOUT_MS */
  socketIdleTimeoutMs?: number;
}

/** The API's HTTP server, listening: main.ts and the test harness both start it here. */
export async function listenApi(app: Express, settings: ApiServerSettings): Promise<Server> {
  const server = createServer(
    {
      requestTimeout: settings.HOOKRELAY_REQUEST_TIMEOUT_MS,
      headersTimeout: settings.HOOKRELAY_HEADERS_TIMEOUT_MS,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    },
    app,
  );
  // Idle this long: closed unless nothing waits to be written and its answer has not started,
  // which the request's own deadlines bound (a test send queued behind another's TLS handshake may
  // take longer than this to start); then looked at again after as long. With pipelined requests
  // the newest answer may not have started while an earlier one's bytes wait unsent.
  const idleMs = settings.socketIdleTimeoutMs ?? SOCKET_IDLE_TIMEOUT_MS;
  const answers = new WeakMap<Socket, ServerResponse>();
  server.on('request', (req, res) => answers.set(req.socket, res));
  server.setTimeout(idleMs, (socket: Socket) => {
    const answer = answers.get(socket);
    if (socket.writableLength === 0 && answer && !answer.headersSent && !answer.writableEnded) {
      socket.setTimeout(idleMs);
      return;
    }
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.PORT, settings.HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
