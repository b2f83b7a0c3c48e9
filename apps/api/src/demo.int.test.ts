import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createRedis } from '@hookrelay/queue';
import { requireRedisUrl } from '@hookrelay/testing';

const ROOT = join(__dirname, '..', '..', '..');
const DEMO_DEADLINE_MS = 60_000;

interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npx tsx scripts/demo.ts` as a newcomer runs it, in its own process group so a hung run can be ended whole. */
function runDemo(env: NodeJS.ProcessEnv): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'scripts/demo.ts'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      reject(new Error(`the demo did not finish within ${DEMO_DEADLINE_MS} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, DEMO_DEADLINE_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A loopback port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

describe('npm run demo', () => {
  describe('with Redis reachable', () => {
    let run: DemoRun;

    beforeAll(async () => {
      run = await runDemo({ ...process.env, REDIS_URL: requireRedisUrl() });
    }, DEMO_DEADLINE_MS + 10_000);

    it('exits 0', () => {
      if (run.code !== 0) throw new Error(`exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
    });

    it.each([
      ['incident.triggered', 'zenduty', 'x-signature'],
      ['incident.triggered', 'standard', 'standard-webhooks'],
      ['receipt.sms.delivered', 'webex', 'x-hub-signature'],
      ['receipt.sms.delivered', 'standard', 'standard-webhooks'],
    ])('shows %s delivered to the %s receiver (%s) with its signature verified', (event, receiver, scheme) => {
      const rows = run.stdout.split('\n').map((line) => line.trim().split(/\s+/));
      expect(rows).toContainEqual([event, receiver, scheme, 'yes', '1']);
    });

    it('says every delivery verified', () => {
      expect(run.stdout).toContain('All 4 deliveries arrived and every signature verified');
    });

    it('leaves none of its keys in Redis', async () => {
      const prefix = /demo keys under (hookrelay-demo-[0-9a-f]+)/.exec(run.stdout)?.[1];
      expect(prefix).toBeDefined();
      const redis = createRedis(requireRedisUrl(), 'store');
      try {
        expect(await redis.keys(`${prefix}*`)).toEqual([]);
      } finally {
        redis.disconnect();
      }
    });
  });

  describe('when Redis is not reachable', () => {
    it(
      'exits 1 with the same remedy the service prints',
      async () => {
        const run = await runDemo({ ...process.env, REDIS_URL: `redis://127.0.0.1:${await closedPort()}` });
        expect(run.code).toBe(1);
        expect(run.stderr).toContain('Cannot reach Redis at redis://127.0.0.1:');
        expect(run.stderr).toContain('redis-server --daemonize yes');
      },
      DEMO_DEADLINE_MS + 10_000,
    );
  });
});
