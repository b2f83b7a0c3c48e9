import { spawn, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import express, { type Express } from 'express';
import { createRedis } from '@hookrelay/queue';
import { deleteKeysUnder, freePort, requireRedisUrl, uniquePrefix } from '@hookrelay/testing';
import { loadApiConfig } from './config';
import { listenApi } from './http-server';

// Node's defaults let a client take 300 s to send a request (60 s for its headers): one that sent
// most of a 1 MB body and stopped held it in the API that long. The API's server bounds both.

const ROOT = join(__dirname, '..', '..', '..');
const ADMIN_KEY = 'server-timeouts-admin-key-0123456789';
/** Short timeouts for the API process below, so the test sees them expire. */
const HEADERS_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 5_000;
/** Node checks the timeouts once a second (TIMEOUT_CHECK_INTERVAL_MS): the most a close may come after one. */
const CHECK_SLACK_MS = 1_000;

interface Closed {
  /** What the server sent before it closed the connection. */
  text: string;
  /** From the request's first byte to the close. */
  ms: number;
}

/** Sends `text` on a new connection and never more; resolves when the server closes it, rejects after `withinMs`. */
function sendAndHold(port: number, text: string, withinMs: number): Promise<Closed> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let started = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${withinMs} ms`));
    }, withinMs);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      started = performance.now();
      socket.write(text);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ text: received, ms: performance.now() - started });
    });
  });
}

/** `npm run start:api` with `env`, once it answers /readyz. */
async function startApi(port: number, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'apps/api/src/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1', HOOKRELAY_ADMIN_KEY: ADMIN_KEY, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const until = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the API exited with ${child.exitCode} before it was ready`);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return child;
    if (Date.now() > until) throw new Error('the API was not ready within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * `app` with `GET /large`: 256 MB, far more than the kernel's socket buffers take (tens of MB on
 * loopback), so the rest waits in the process for a client that does not read.
 */
function withLargeAnswer(app: Express): Express {
  const large = Buffer.alloc(256 * 1024 * 1024);
  app.get('/large', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': large.length });
    res.end(large);
  });
  return app;
}

/**
 * Sends `text` on a new connection, reads the answer's first chunk and then nothing more; resolves
 * with that chunk's start and how long the server's side of the connection stayed open (the
 * client, which stopped reading, cannot see it close), rejects after 10 s.
 */
async function stopReading(server: Server, text: string): Promise<{ head: string; ms: number }> {
  const serverSide = new Promise<number>((resolve) =>
    server.once('connection', (socket) => {
      const opened = performance.now();
      socket.once('close', () => resolve(performance.now() - opened));
    }),
  );
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  let head = '';
  client.once('data', (chunk: Buffer) => {
    head = chunk.subarray(0, 64).toString('latin1');
    client.pause();
  });
  client.on('error', () => undefined);
  client.write(text);
  let timer: NodeJS.Timeout | undefined;
  const ms = await Promise.race([
    serverSide,
    new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error('the server kept the connection open for 10 s')), 10_000)),
    ),
  ]).finally(() => {
    clearTimeout(timer);
    client.destroy();
  });
  return { head, ms };
}

describe("the API server's bounds on how long a request may take to arrive", () => {
  describe('by default', () => {
    let server: Server | undefined;

    afterEach(async () => {
      await new Promise((resolve) => server?.close(resolve));
    });

    it('are 30 s for the whole request and 10 s for its headers, checked every second, and 120 s for a connection that makes no progress', async () => {
      // What main.ts starts when the environment sets neither variable.
      server = await listenApi(express(), loadApiConfig({ PORT: '0', HOST: '127.0.0.1' }));
      expect({
        requestTimeout: server.requestTimeout,
        headersTimeout: server.headersTimeout,
        connectionsCheckingInterval: (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval,
        timeout: server.timeout,
      }).toEqual({ requestTimeout: 30_000, headersTimeout: 10_000, connectionsCheckingInterval: 1_000, timeout: 120_000 });
    });

    it('closes a connection whose earlier answer waits unsent, though its newest has not started (pipelined requests)', async () => {
      const app = withLargeAnswer(express());
      app.get('/never', () => undefined);
      server = await listenApi(app, { ...loadApiConfig({ PORT: '0', HOST: '127.0.0.1' }), socketIdleTimeoutMs: 500 });
      const { ms } = await stopReading(server, 'GET /large HTTP/1.1\r\nHost: api\r\n\r\nGET /never HTTP/1.1\r\nHost: api\r\n\r\n');
      expect(ms).toBeGreaterThanOrEqual(450);
    });

    it('leaves a connection whose answer has not started to the request, however long it is idle', async () => {
      const app = express();
      // An answer that takes three idle timeouts to start, as a test send waiting on its receiver does.
      app.get('/slow', (_req, res) => void setTimeout(() => res.send('done'), 1_500));
      server = await listenApi(app, { ...loadApiConfig({ PORT: '0', HOST: '127.0.0.1' }), socketIdleTimeoutMs: 500 });
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`);
      expect([res.status, await res.text()]).toEqual([200, 'done']);
    });

    it('closes a connection that asked for a large answer and reads none of it, once it has made no progress for the idle timeout', async () => {
      server = await listenApi(withLargeAnswer(express()), {
        ...loadApiConfig({ PORT: '0', HOST: '127.0.0.1' }),
        socketIdleTimeoutMs: 500,
      });
      const { head, ms } = await stopReading(server, 'GET /large HTTP/1.1\r\nHost: api\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 200 /);
      expect(ms).toBeGreaterThanOrEqual(450);
    });
  });

  describe('in the API process, as configured', () => {
    let port: number;
    let api: ChildProcess | undefined;
    const prefix = uniquePrefix('timeouts');

    beforeAll(async () => {
      port = await freePort();
      api = await startApi(port, {
        REDIS_URL: requireRedisUrl(),
        QUEUE_PREFIX: prefix,
        HOOKRELAY_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        HOOKRELAY_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      });
    }, 40_000);

    afterAll(async () => {
      if (api && api.exitCode === null) {
        const exited = new Promise((resolve) => api!.once('exit', resolve));
        api.kill('SIGTERM');
        await exited;
      }
      const redis = createRedis(requireRedisUrl(), 'store');
      await deleteKeysUnder(redis, prefix);
      redis.disconnect();
    });

    it('closes a connection whose headers stop coming with a 408 after the headers timeout', async () => {
      const closed = await sendAndHold(port, 'GET /v1/event-types HTTP/1.1\r\nHost: api\r\n', REQUEST_TIMEOUT_MS);
      expect(closed.text).toMatch(/^HTTP\/1\.1 408 /);
      expect(closed.ms).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    });

    it('closes a keyed request whose body stops coming with a 408 after the request timeout', async () => {
      const head = [
        'POST /v1/subscribers HTTP/1.1',
        'Host: api',
        `Authorization: Bearer ${ADMIN_KEY}`,
        'Content-Type: application/json',
        'Content-Length: 1000000',
      ].join('\r\n');
      const closed = await sendAndHold(
        port,
        `${head}\r\n\r\n{"name":"${'x'.repeat(64 * 1024)}`,
        REQUEST_TIMEOUT_MS + CHECK_SLACK_MS + 3_000,
      );
      expect(closed.text).toMatch(/^HTTP\/1\.1 408 /);
      expect(closed.ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    });
  });
});
