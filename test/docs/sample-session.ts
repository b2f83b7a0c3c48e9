import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

/** What one block printed, and the status of its last command. */
export interface BlockResult {
  stdout: string;
  stderr: string;
  status: number;
}

const DONE = '@@sample-done';

/**
 * The reader's terminal: one bash process that runs the pages' blocks in order, so variables and
 * functions a block defines (SID, mksrc) are there for the next, as they are for a reader. Each
 * block is written to a file and sourced with stdin from /dev/null, so a command that reads stdin
 * cannot swallow the blocks after it; `set -u` makes an undefined variable fail loudly.
 */
export class SampleSession {
  private readonly shell: ChildProcess;
  private stdout = '';
  private stderr = '';
  private exited = false;
  private blocks = 0;
  private wake: () => void = () => {};

  constructor(
    private readonly dir: string,
    env: NodeJS.ProcessEnv,
  ) {
    this.shell = spawn('bash', ['--noprofile', '--norc', '-s'], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.shell.stdout!.on('data', (chunk: Buffer) => ((this.stdout += chunk.toString()), this.wake()));
    this.shell.stderr!.on('data', (chunk: Buffer) => ((this.stderr += chunk.toString()), this.wake()));
    this.shell.on('exit', () => ((this.exited = true), this.wake()));
    this.shell.stdin!.write('set -u -o pipefail\n');
  }

  async run(code: string, timeoutMs = 60_000): Promise<BlockResult> {
    const file = join(this.dir, `.block-${++this.blocks}.sh`);
    writeFileSync(file, `${code}\n`);
    this.stdout = '';
    this.stderr = '';
    this.shell.stdin!.write(`source ${file} </dev/null\nprintf '\\n${DONE} %s\\n' "$?"; printf '${DONE}\\n' >&2\n`);
    const until = Date.now() + timeoutMs;
    for (;;) {
      const end = this.stdout.indexOf(`\n${DONE} `);
      if (end >= 0 && this.stderr.includes(`${DONE}\n`)) {
        const status = Number(/^\d+/.exec(this.stdout.slice(end + DONE.length + 2))?.[0]);
        return { stdout: this.stdout.slice(0, end), stderr: this.stderr.slice(0, this.stderr.indexOf(DONE)), status };
      }
      if (this.exited) throw new Error(`the shell exited during the block; stdout: ${this.stdout}\nstderr: ${this.stderr}`);
      if (Date.now() > until)
        throw new Error(`the block did not finish in ${timeoutMs} ms; stdout: ${this.stdout}\nstderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.wake = () => (clearTimeout(timer), resolve());
      });
    }
  }

  close(): void {
    this.shell.kill('SIGKILL');
  }
}

/** A server a page tells the reader to start in another terminal; its output is kept to wait on. */
export class BackgroundSample {
  output = '';
  private readonly child: ChildProcess;

  constructor(code: string, dir: string, env: NodeJS.ProcessEnv) {
    // Its own process group, so the node it starts goes with it on kill().
    this.child = spawn('bash', ['-c', code], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  async listening(port: number, timeoutMs = 20_000): Promise<void> {
    const accepts = (): Promise<boolean> =>
      new Promise((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => (socket.destroy(), resolve(true))).once('error', () => resolve(false));
      });
    await waitUntil(accepts, timeoutMs, () => `port ${port} to listen; output: ${this.output}`);
  }

  async prints(text: string, timeoutMs = 20_000): Promise<void> {
    await waitUntil(
      async () => this.output.includes(text),
      timeoutMs,
      () => `${JSON.stringify(text)} from the background sample; it printed:\n${this.output}`,
    );
  }

  kill(): void {
    try {
      if (this.child.pid !== undefined) process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
