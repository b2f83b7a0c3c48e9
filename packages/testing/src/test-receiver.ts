import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  /** Path and query, as the client sent them. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  receivedAt: number;
}

/** What to answer one request with; a function may also write the response itself (hang, trickle, reset). */
export type Reply =
  | { status: number; body?: string; headers?: Record<string, string>; delayMs?: number }
  | ((req: ReceivedRequest, res: ServerResponse, raw: IncomingMessage) => void | Promise<void>);

export interface TestReceiverOptions {
  /**
   * Serve HTTPS with these options (`key` and `cert` from selfSignedCertificate, and whatever TLS
   * the test wants the receiver to insist on: ciphers, versions, groups). @defaultValue plain HTTP
   */
  tls?: HttpsServerOptions;
}

/**
 * A real HTTP server on 127.0.0.1 that records every request and answers from a script of replies.
 * Replies queued with `enqueue` are used first, one per request; after that `fallback` answers.
 */
export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** TLS handshakes completed (HTTPS only): a client that refused the server's terms completes none. */
  tlsHandshakes = 0;
  /** TCP connections accepted: with TLS, each one a handshake begun, whether or not the client went on. */
  connections = 0;
  private readonly script: Reply[] = [];
  private fallback: Reply;
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  private constructor(
    private readonly server: Server,
    fallback: Reply,
    private readonly scheme: 'http' | 'https',
  ) {
    this.fallback = fallback;
  }

  static async start(fallback: Reply = { status: 200 }, options: TestReceiverOptions = {}): Promise<TestReceiver> {
    const listener: RequestListener = (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void receiver.handle(req, res, Buffer.concat(chunks)));
    };
    const server = options.tls ? createHttpsServer(options.tls, listener) : createServer(listener);
    if (options.tls) server.on('secureConnection', () => receiver.tlsHandshakes++);
    server.on('connection', () => receiver.connections++);
    // Requests arrive only after listen(), by when receiver is set.
    const receiver = new TestReceiver(server, fallback, options.tls ? 'https' : 'http');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Base URL, e.g. http://127.0.0.1:41234 (https:// when started with `tls`) */
  get url(): string {
    return `${this.scheme}://127.0.0.1:${this.port}`;
  }

  /** Replies for the next requests, in order. */
  enqueue(...replies: Reply[]): this {
    this.script.push(...replies);
    return this;
  }

  answerWith(reply: Reply): this {
    this.fallback = reply;
    return this;
  }

  /** Resolves once `count` requests in total have arrived, or rejects after `timeoutMs`. */
  waitForRequests(count: number, timeoutMs = 10_000): Promise<ReceivedRequest[]> {
    if (this.requests.length >= count) return Promise.resolve(this.requests.slice());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`expected ${count} requests within ${timeoutMs} ms, got ${this.requests.length}`)),
        timeoutMs,
      );
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve(this.requests.slice());
        },
      });
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(raw: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const request: ReceivedRequest = {
      method: raw.method ?? 'GET',
      url: raw.url ?? '/',
      headers: raw.headers,
      body,
      receivedAt: Date.now(),
    };
    this.requests.push(request);
    this.waiters = this.waiters.filter((w) => {
      if (this.requests.length < w.count) return true;
      w.resolve();
      return false;
    });
    const reply = this.script.shift() ?? this.fallback;
    if (typeof reply === 'function') {
      await reply(request, res, raw);
      return;
    }
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (res.destroyed) return;
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body ?? '');
  }
}
