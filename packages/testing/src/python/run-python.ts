import { spawnSync } from 'node:child_process';

/** The interpreter the cross-checks run; override with PYTHON when python3 is not on PATH. */
export const PYTHON = process.env.PYTHON ?? 'python3';

/**
 * Runs a Python script once, synchronously, and returns its stdout. Tests batch all their cases into one call:
 * starting Python costs tens of milliseconds, so one process per case would make cross-checks slow.
 * Throws with stderr when the script fails, so a Python traceback shows up in the jest output.
 */
export function runPython(script: string, args: readonly string[] = [], timeoutMs = 10_000): string {
  const result = spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8', timeout: timeoutMs });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${PYTHON} exited with ${result.status ?? result.signal}: ${result.stderr}`);
  }
  return result.stdout;
}
