import { ConfigError } from '@hookrelay/contracts';
import { RedisUnreachableError } from '@hookrelay/queue';

/**
 * Runs an operator command's `main` and exits with its code: 1, with a one-line reason, when it
 * could not run (its configuration, Redis out of reach), or with the stack for anything else.
 */
export function runCommand(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof ConfigError || err instanceof RedisUnreachableError) process.stderr.write(`${err.message}\n`);
      else process.stderr.write(`${name} failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
