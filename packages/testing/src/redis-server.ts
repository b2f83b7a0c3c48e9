import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';

export interface RedisServerOptions {
  /** Turn on AOF for tests whose point is durability. @defaultValue false */
  appendOnly?: boolean;
  /**
   * The AOF's fsync policy. A test that kills Redis and expects every acknowledged write back needs
   * `always`: under `everysec`, while the last second's fsync is still running (a busy disk, as
   * when the whole suite runs), Redis postpones its write(2) of new commands for up to 2 s and
   * answers them all the same, so a SIGKILL loses them (SECURITY.md, "Durability").
   * @defaultValue 'everysec' (docker-compose.yml's)
   */
  appendFsync?: 'always' | 'everysec';
  /** Reuse this port (a restart keeps the URL stable). @defaultValue a free port */
  port?: number;
  /** Reuse this data folder (a restart replays its AOF). @defaultValue a new temp folder */
  dir?: string;
}

export interface RedisServerHandle {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** SIGKILL the server: no shutdown save, exactly a crash. */
  kill(): Promise<void>;
  /** Start it again on the same port and folder. */
  restart(): Promise<void>;
  /** Stop it and delete its folder. */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPing(url: string, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    // disconnectTimeout 0: ioredis's disconnect() arms a 2 s timer that only the socket's 'close'
    // clears, and a refused attempt's socket closed before it was armed. Each such timer held jest's
    // main process ("Jest did not exit one second after the test run has completed") and every
    // script that starts a server up to 2 s after its work was done.
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, disconnectTimeout: 0 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      // A server replaying its AOF answers LOADING until it is done.
      if ((await client.ping()) === 'PONG') return;
    } catch {
      if (Date.now() > until) throw new Error(`redis-server at ${url} did not answer within ${deadlineMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      client.disconnect();
    }
  }
}

/** Starts a private redis-server on loopback, so tests may kill it without touching the shared one. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'hookrelay-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no'];
    if (options.appendOnly) args.push('--appendonly', 'yes', '--appendfsync', options.appendFsync ?? 'everysec');
    else args.push('--appendonly', 'no');
    child = spawn('redis-server', args, { stdio: 'ignore' });
    child.on('error', () => undefined);
    // The handle must not keep jest (or a script) alive; stop() and kill() end the server explicitly.
    child.unref();
    await waitForPing(url, 10_000);
  };

  const kill = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };

  await launch();
  return {
    url,
    port,
    dir,
    kill,
    restart: launch,
    stop: async () => {
      await kill();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
