import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, requireRedisUrl, TestReceiver, uniquePrefix } from '@hookrelay/testing';

const ROOT = join(__dirname, '..');
const ADMIN_KEY = 'warm-start-admin-key-0123456789abcdef';

/**
 * Issue 22: the first seconds after a start were slow, in part because the first requests loaded
 * code: iconv-lite's encoding tables on the first JSON body, undici's WebAssembly parser on the
 * first delivery (~250 ms of event loop between them). npm start now loads both before it listens.
 * A publish and its delivery right after start-up load no module at all.
 */
describe('npm start after it says it is ready', () => {
  it('loads no module to take a publish and deliver it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookrelay-warm-'));
    const log = join(dir, 'modules.log');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const receiver = await TestReceiver.start({ status: 200 });
    const child = spawn(
      process.execPath,
      [
        '--require',
        join(__dirname, 'support', 'record-module-loads.cjs'),
        '--import',
        'tsx',
        join(ROOT, 'apps/api/src/main.ts'),
        '--with-worker',
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          REDIS_URL: requireRedisUrl(),
          QUEUE_PREFIX: uniquePrefix('warm'),
          PORT: String(port),
          HOST: '127.0.0.1',
          HOOKRELAY_ADMIN_KEY: ADMIN_KEY,
          HOOKRELAY_ALLOW_HTTP: 'true',
          HOOKRELAY_ALLOW_PRIVATE_TARGETS: 'true',
          LOG_LEVEL: 'warn',
          HOOKRELAY_MODULE_LOG: log,
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    try {
      const until = Date.now() + 25_000;
      while (
        !(await fetch(`${base}/readyz`).then(
          (r) => r.ok,
          () => false,
        ))
      ) {
        if (Date.now() > until) throw new Error('npm start did not become ready');
        await new Promise((r) => setTimeout(r, 50));
      }
      const ready = Date.now();
      const headers = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
      const sub = (await (await fetch(`${base}/v1/subscribers`, { method: 'POST', headers, body: '{"name":"warm"}' })).json()) as {
        id: string;
      };
      const endpoint = await fetch(`${base}/v1/subscribers/${sub.id}/endpoints`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ url: `${receiver.url}/hook` }),
      });
      expect(endpoint.status).toBe(201);
      const published = await fetch(`${base}/v1/subscribers/${sub.id}/events`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ type: 'custom.warm', payload: { n: 1 } }),
      });
      expect(published.status).toBe(202);
      await receiver.waitForRequests(1);

      const late = readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .filter((line) => Number(line.split(' ')[0]) >= ready)
        .map((line) => line.slice(line.indexOf(' ') + 1));
      expect(late).toEqual([]);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
      await receiver.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
