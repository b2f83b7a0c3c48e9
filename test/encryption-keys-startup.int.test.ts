import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { PLAIN_TEXT_SECRETS_WARNING } from '@hookrelay/secrets';
import { freePort, requireRedisUrl, uniquePrefix } from '@hookrelay/testing';

const ROOT = join(__dirname, '..');

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a service entry point until it exits, or until `ready` says so from its output (then it is
 * sent SIGTERM). Bounded: killed after 20 s.
 */
function runService(entry: string, env: Record<string, string>, ready?: (stdout: string) => boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, entry), ...(entry.includes('api') ? ['--with-worker'] : [])], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        REDIS_URL: requireRedisUrl(),
        QUEUE_PREFIX: uniquePrefix('startup'),
        LOG_LEVEL: 'warn',
        METRICS_PORT: '0',
        HOOKRELAY_ADMIN_KEY: 'startup-admin-key-0123456789abcdef',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (ready?.(stdout)) child.kill('SIGTERM');
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

const key = () => randomBytes(32).toString('base64');

describe('HOOKRELAY_ENCRYPTION_KEYS at start-up', () => {
  it('stops the API and the worker with a message naming the problem when the list is wrong or missing in production', async () => {
    const [shortKey, duplicate, production] = await Promise.all([
      runService('apps/api/src/main.ts', { HOOKRELAY_ENCRYPTION_KEYS: `k1:${randomBytes(16).toString('base64')}` }),
      runService('apps/worker/src/main.ts', { HOOKRELAY_ENCRYPTION_KEYS: `k1:${key()},k1:${key()}` }),
      runService('apps/worker/src/main.ts', { NODE_ENV: 'production' }),
    ]);
    expect(shortKey).toMatchObject({
      code: 1,
      stderr: expect.stringContaining(
        'HOOKRELAY_ENCRYPTION_KEYS: key "k1" is 16 bytes; a key must be 32 bytes; generate a key with: openssl rand -base64 32',
      ),
    });
    expect(duplicate).toMatchObject({ code: 1, stderr: expect.stringContaining('HOOKRELAY_ENCRYPTION_KEYS: key id "k1" appears twice') });
    expect(production).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('HOOKRELAY_ENCRYPTION_KEYS: is required when NODE_ENV=production'),
    });
  });

  it('outside production without keys, starts with one warning line; with keys, with none', async () => {
    const listening = (out: string) => out.includes('Hookrelay is listening');
    const [without, withKeys] = await Promise.all([
      runService('apps/api/src/main.ts', { PORT: String(await freePort()), HOST: '127.0.0.1' }, listening),
      runService(
        'apps/api/src/main.ts',
        { PORT: String(await freePort()), HOST: '127.0.0.1', HOOKRELAY_ENCRYPTION_KEYS: `k1:${key()}` },
        listening,
      ),
    ]);
    const warnings = (out: string) => out.split('\n').filter((line) => line.includes('HOOKRELAY_ENCRYPTION_KEYS'));
    expect(without.stdout).toContain('Hookrelay is listening');
    expect(warnings(without.stdout)).toEqual([expect.stringContaining(PLAIN_TEXT_SECRETS_WARNING)]);
    expect(JSON.parse(warnings(without.stdout)[0] as string)).toMatchObject({ level: 'warn', msg: PLAIN_TEXT_SECRETS_WARNING });
    expect(withKeys.stdout).toContain('Hookrelay is listening');
    expect(warnings(withKeys.stdout)).toEqual([]);
  });
});
