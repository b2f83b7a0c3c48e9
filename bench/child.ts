import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** The orchestrator's handle on one bench child (sink or worker), speaking child-serve's protocol. */
export interface ChildHandle<Ready = unknown> {
  readonly name: string;
  readonly pid: number;
  readonly ready: Ready;
  call<T = unknown>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** Ask it to exit (writing any CPU profile); SIGKILL if it has not within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Synchronous last resort for process 'exit' handlers. */
  killNow(): void;
}

export interface SpawnOptions {
  /** Write V8 CPU profiles of the child into `<cpuProfDir>/<name>/` when it exits. */
  cpuProfDir?: string;
  startTimeoutMs?: number;
}

export async function spawnChild<Ready>(name: string, file: string, options: SpawnOptions = {}): Promise<ChildHandle<Ready>> {
  const execArgv = ['--import', 'tsx'];
  // One folder per child: tsx's loader thread writes a profile too, the main thread's is the big one.
  if (options.cpuProfDir) execArgv.push('--cpu-prof', '--cpu-prof-dir', join(options.cpuProfDir, name));
  const child: ChildProcess = fork(join(__dirname, file), [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let nextId = 1;
  let exited = false;

  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within ${options.startTimeoutMs ?? 20_000} ms`)),
      options.startTimeoutMs ?? 20_000,
    );
    child.once('exit', (code, signal) => reject(new Error(`${name} exited during start (code ${code}, signal ${signal})`)));
    child.on('message', (raw: unknown) => {
      const msg = raw as { ready?: Ready; id?: number; ok?: boolean; result?: unknown; error?: string };
      if (msg.ready !== undefined) {
        clearTimeout(timer);
        resolve(msg.ready);
        return;
      }
      const waiter = msg.id === undefined ? undefined : pending.get(msg.id);
      if (!waiter || msg.id === undefined) return;
      pending.delete(msg.id);
      clearTimeout(waiter.timer);
      if (msg.ok) waiter.resolve(msg.result);
      else waiter.reject(new Error(`${name}: ${msg.error}`));
    });
  });
  child.on('exit', (code, signal) => {
    exited = true;
    for (const [, waiter] of pending) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`${name} exited (code ${code}, signal ${signal})`));
    }
    pending.clear();
  });

  const call = <T>(cmd: string, args?: unknown, timeoutMs = 30_000): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (exited) return reject(new Error(`${name} is not running`));
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${name}: ${cmd} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      child.send({ id, cmd, args });
    });

  const killNow = (): void => {
    if (!exited && child.exitCode === null) child.kill('SIGKILL');
  };

  return {
    name,
    pid: child.pid as number,
    ready,
    call,
    killNow,
    stop: async (graceMs = 10_000) => {
      if (exited || child.exitCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await call('exit', undefined, graceMs).catch(() => undefined);
      const timer = setTimeout(killNow, graceMs);
      await gone;
      clearTimeout(timer);
    },
  };
}
