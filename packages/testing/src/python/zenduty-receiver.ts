import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PYTHON } from './run-python';

/** One line the Python receiver printed for one POST. */
export interface ZendutyReceiverResult {
  verified: boolean;
  /** The request's X-Hookrelay-Event-Id header, or null when it had none. */
  event_id: string | null;
}

export interface ZendutyPythonReceiver {
  /** Base URL, e.g. http://127.0.0.1:41234 (any path is accepted). */
  url: string;
  /** Results in arrival order. */
  results: ZendutyReceiverResult[];
  /** Resolves once `n` results in total have arrived; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const SCRIPT = join(__dirname, 'zenduty_receiver.py');
const STARTUP_TIMEOUT_MS = 5_000;

/**
 * Starts zenduty_receiver.py: a real Python receiver that verifies X-SIGNATURE with the code from Zenduty's
 * guide, so tests prove interoperability with the vendor's own snippet rather than with our reading of it.
 * The key is passed on argv, which other local users can see in `ps`: test keys only.
 */
export async function startZendutyPythonReceiver(key: string): Promise<ZendutyPythonReceiver> {
  // -u: unbuffered stdout, belt and braces with the script's own flushes.
  const child = spawn(PYTHON, ['-u', SCRIPT, '0', key], { stdio: ['ignore', 'pipe', 'pipe'] });
  const results: ZendutyReceiverResult[] = [];
  let waiters: Array<{ n: number; resolve: () => void }> = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const port = await new Promise<number>((resolve, reject) => {
    const fail = (why: string): void => {
      child.kill('SIGKILL');
      reject(new Error(`zenduty_receiver.py ${why}; stderr: ${stderr}`));
    };
    const timer = setTimeout(() => fail(`did not print LISTENING within ${STARTUP_TIMEOUT_MS} ms`), STARTUP_TIMEOUT_MS);
    const onError = (err: Error): void => fail(`could not start (${err.message})`);
    const onExit = (code: number | null): void => fail(`exited with ${code} before listening`);
    child.once('error', onError);
    child.once('exit', onExit);
    const lines = createInterface({ input: child.stdout });
    let listening = false;
    lines.on('line', (line) => {
      if (!listening) {
        const match = /^LISTENING (\d+)$/.exec(line);
        if (!match) return fail(`printed "${line}" instead of LISTENING`);
        listening = true;
        clearTimeout(timer);
        child.off('error', onError).off('exit', onExit);
        resolve(Number(match[1]));
        return;
      }
      results.push(JSON.parse(line) as ZendutyReceiverResult);
      waiters = waiters.filter((w) => {
        if (results.length < w.n) return true;
        w.resolve();
        return false;
      });
    });
  });

  return {
    url: `http://127.0.0.1:${port}`,
    results,
    waitFor(n, timeoutMs = 10_000) {
      if (results.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${n} results within ${timeoutMs} ms, got ${results.length}`)), timeoutMs);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
