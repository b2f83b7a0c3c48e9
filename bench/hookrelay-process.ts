import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './clock';

const ROOT = join(__dirname, '..');

/**
 * What a Hookrelay process runs: `npm start` is apps/api/src/main.ts --with-worker (API and worker
 * in one process), `api` is `npm run start:api`, `worker` is `npm run start:worker`. Each runs as
 * `node --import tsx <main.ts>`, which is what the tsx CLI behind those scripts runs in its child.
 */
export type HookrelayRole = 'npm start' | 'api' | 'worker';

const MAIN: Record<HookrelayRole, string[]> = {
  'npm start': ['apps/api/src/main.ts', '--with-worker'],
  api: ['apps/api/src/main.ts'],
  worker: ['apps/worker/src/main.ts'],
};

/** The log line each main.ts writes once it serves (the API listens; the worker's lanes are running). */
const READY_MESSAGE: Record<HookrelayRole, string> = { 'npm start': 'api.listening', api: 'api.listening', worker: 'worker.started' };

/** The configuration every bench process gets, as environment variables, the way a deployment sets it. */
export interface HookrelayEnv {
  redisUrl: string;
  keyPrefix: string;
  adminKey: string;
  /** HOOKRELAY_ENCRYPTION_KEYS: required with NODE_ENV=production. */
  encryptionKeys: string;
  /** WORKER_* settings instead of the defaults (BENCH_WORKER_SETTINGS, experiments only). */
  workerSettings: Readonly<Record<string, string>>;
}

export interface HookrelayProcessOptions {
  name: string;
  role: HookrelayRole;
  env: HookrelayEnv;
  /** For the API roles. */
  port?: number;
  /** stdout (the JSON log lines) goes to `<logDir>/<name>.log`, deleted when the process stops cleanly. */
  logDir: string;
  /** Write a V8 CPU profile into `<cpuProfDir>/<name>/` when the process exits. */
  cpuProfDir?: string;
  startTimeoutMs?: number;
}

function environment(options: HookrelayProcessOptions): NodeJS.ProcessEnv {
  const { env } = options;
  // A clean environment: nothing of the shell's (a WORKER_CONCURRENCY, a LOG_LEVEL) changes what is measured.
  const inherited = Object.fromEntries(
    ['PATH', 'HOME', 'TMPDIR', 'LANG'].filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]),
  );
  return {
    ...inherited,
    NODE_ENV: 'production',
    REDIS_URL: env.redisUrl,
    QUEUE_PREFIX: env.keyPrefix,
    HOOKRELAY_ADMIN_KEY: env.adminKey,
    HOOKRELAY_ENCRYPTION_KEYS: env.encryptionKeys,
    // The sink is on loopback over plain http.
    HOOKRELAY_ALLOW_HTTP: 'true',
    HOOKRELAY_ALLOW_PRIVATE_TARGETS: 'true',
    HOST: '127.0.0.1',
    PORT: String(options.port ?? 0),
    LOG_LEVEL: 'info',
    // Several workers run at once on this machine: no /metrics listener each (the metrics are still kept).
    METRICS_PORT: '0',
    SHUTDOWN_TIMEOUT_MS: '10000',
    ...env.workerSettings,
  };
}

/** Peak resident set size of a running process (VmHWM), 0 when it cannot be read. */
export function peakRssBytes(pid: number): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** One Hookrelay process started from its main.ts, stopped with SIGTERM as a deployment stops it. */
export class HookrelayProcess {
  private exited = false;
  private readonly exit: Promise<void>;
  /** Peak RSS read just before the process was asked to stop. */
  peakRssBytes = 0;

  private constructor(
    readonly name: string,
    readonly role: HookrelayRole,
    private readonly child: ChildProcess,
    private readonly logFile: string,
  ) {
    this.exit = new Promise((resolve) =>
      child.once('exit', () => {
        this.exited = true;
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.child.pid as number;
  }

  static async start(options: HookrelayProcessOptions): Promise<HookrelayProcess> {
    const logFile = join(options.logDir, `${options.name}.log`);
    const stdout = openSync(logFile, 'w');
    const execArgv = ['--import', 'tsx', '--import', join(__dirname, 'exit-with-bench.ts')];
    if (options.cpuProfDir) execArgv.push('--cpu-prof', '--cpu-prof-dir', join(options.cpuProfDir, options.name));
    const child = spawn(process.execPath, [...execArgv, ...MAIN[options.role]], {
      cwd: ROOT,
      env: environment(options),
      // stderr is the bench's: a process that fails to start says why there.
      stdio: ['ignore', stdout, 'inherit', 'ipc'],
    });
    closeSync(stdout);
    const handle = new HookrelayProcess(options.name, options.role, child, logFile);
    await handle.ready(READY_MESSAGE[options.role], options.startTimeoutMs ?? 30_000);
    return handle;
  }

  private async ready(message: string, timeoutMs: number): Promise<void> {
    const needle = `"msg":"${message}"`;
    const until = Date.now() + timeoutMs;
    while (!this.readLog().includes(needle)) {
      if (this.exited) throw new Error(`${this.name} exited during start; its log ends:\n${this.readLog().slice(-2000)}`);
      if (Date.now() > until) {
        this.killNow();
        throw new Error(`${this.name} did not log ${message} within ${timeoutMs} ms; its log ends:\n${this.readLog().slice(-2000)}`);
      }
      await sleep(25);
    }
  }

  private readLog(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  /** SIGTERM (graceful shutdown in main.ts), SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    if (this.exited) return;
    this.peakRssBytes = peakRssBytes(this.pid);
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.killNow(), graceMs);
    await this.exit;
    clearTimeout(timer);
    if (this.child.exitCode === 0) rmSync(this.logFile, { force: true });
  }

  /** Synchronous last resort for process 'exit' handlers. */
  killNow(): void {
    if (!this.exited && this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
