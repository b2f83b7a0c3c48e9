import { randomBytes } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, requireRedisUrl, uniquePrefix } from '@hookrelay/testing';
import { parse } from 'yaml';
import { reproduceImage, type ReproducedImage } from './image/reproduce-image';

// No Docker engine here. The image is reproduced instead: the Dockerfile's stages are laid out in a
// temp folder exactly as `docker build` lays them out (the context filtered by .dockerignore, the
// production install made by the Dockerfile's own `npm ci --omit=dev`, the stage-to-stage copies),
// and the result is run: the SSRF guard's unit tests (its vectors), the image's CMD for the API and
// the worker, and the compose file's healthchecks against them. What is not reproduced is named
// (the portal's build output, which needs the whole development install and a Vite build) and
// asserted, so nothing is skipped silently. Not covered: the base image's OS and node binary.
const ROOT = join(__dirname, '..');
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { command?: string[]; environment?: Record<string, string>; healthcheck?: { test: string[] } }>;
};

let work: string;
let image: ReproducedImage;
const running: ChildProcess[] = [];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'hookrelay-image-'));
  image = reproduceImage(join(ROOT, 'Dockerfile'), {
    contextDir: ROOT,
    workDir: work,
    skip: (_stage, instruction) =>
      instruction.keyword === 'COPY' && instruction.args[0] === '/app/apps/portal/dist'
        ? 'the portal build: static files, served at /portal; not what these tests check'
        : null,
  });
}, 240_000);

afterAll(async () => {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
  if (work) rmSync(work, { recursive: true, force: true });
});

function resolveIn(image: ReproducedImage, from: string, request: string): string {
  return require.resolve(request, { paths: [join(image.root, from)] });
}

describe('the image, reproduced without Docker', () => {
  it('leaves out only the portal build, and says so', () => {
    expect(image.skipped).toEqual([
      expect.stringMatching(/^#\d+: COPY --from=build .*\/app\/apps\/portal\/dist apps\/portal\/dist \(the portal build/),
    ]);
    expect(image.user).toBe('node');
    expect(image.env).toEqual({ NODE_ENV: 'production' });
  });

  it('runs the ipaddr.js that packages/delivery declares (2.x), not the root one express brings (1.9.1)', () => {
    const declared = (
      JSON.parse(readFileSync(join(ROOT, 'packages/delivery/package.json'), 'utf8')) as { dependencies: Record<string, string> }
    ).dependencies['ipaddr.js'];
    const resolved = resolveIn(image, 'packages/delivery/src/ssrf', 'ipaddr.js/package.json');
    expect(declared).toMatch(/^\^2\./);
    expect(resolved.startsWith(image.root)).toBe(true);
    expect((JSON.parse(readFileSync(resolved, 'utf8')) as { version: string }).version).toMatch(/^2\./);
  });

  it("passes the SSRF guard's test vectors with the tree it installs", () => {
    // The repository's own unit tests of the guard, copied into the image by COPY . ., run by this
    // repository's jest against the image's tree: every import resolves from the image's folders.
    const config = {
      rootDir: image.root,
      roots: ['<rootDir>/packages/delivery/src/ssrf'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['\\.int\\.test\\.ts$', '/node_modules/'],
      transform: { '^.+\\.ts$': [require.resolve('@swc/jest'), { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }] },
      testEnvironment: require.resolve('jest-environment-node'),
      moduleFileExtensions: ['ts', 'js', 'json'],
      cacheDirectory: join(work, 'jest-cache'),
      watchman: false,
    };
    const configFile = join(work, 'ssrf-jest.config.json');
    const resultsFile = join(work, 'ssrf-results.json');
    writeFileSync(configFile, JSON.stringify(config));
    spawnSync(
      process.execPath,
      [require.resolve('jest/bin/jest'), '--config', configFile, '--json', `--outputFile=${resultsFile}`, '--runInBand'],
      {
        cwd: image.root,
        env: { ...process.env, NODE_ENV: 'test' },
        stdio: 'pipe',
        timeout: 120_000,
      },
    );
    const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as {
      numPassedTests: number;
      numFailedTests: number;
      numPendingTests: number;
      numTodoTests: number;
      testResults: Array<{ name: string; assertionResults: Array<{ fullName: string; status: string }> }>;
    };
    const failed = results.testResults.flatMap((file) =>
      file.assertionResults.filter((a) => a.status !== 'passed').map((a) => `${a.status}: ${a.fullName}`),
    );
    expect(failed).toEqual([]);
    expect(results.testResults.map((file) => file.name.replace(`${image.root}/`, '')).sort()).toEqual([
      'packages/delivery/src/ssrf/blocked-address.test.ts',
      'packages/delivery/src/ssrf/check-target-url.test.ts',
      'packages/delivery/src/ssrf/guarded-lookup.test.ts',
      'packages/delivery/src/ssrf/host-resolver.test.ts',
      'packages/delivery/src/ssrf/tls-handshake-budget.test.ts',
    ]);
    expect(results.numPendingTests + results.numTodoTests).toBe(0);
    expect(results.numPassedTests).toBeGreaterThan(80);
  }, 150_000);

  it('holds no devDependency and no build tooling, but the runtime it needs (tsx)', () => {
    for (const dev of ['jest', 'typescript', 'vite', '@swc/core', '@swc/jest', 'playwright-core', 'fast-check', 'stripe']) {
      expect({ dev, present: existsSync(join(image.root, 'node_modules', dev)) }).toEqual({ dev, present: false });
    }
    expect(existsSync(join(image.root, 'node_modules', 'tsx', 'package.json'))).toBe(true);
  });

  it('keeps local secret files out of the image', () => {
    expect(existsSync(join(image.root, '.env.example'))).toBe(true);
    for (const name of ['.env', '.npmrc', '.git'])
      expect({ name, present: existsSync(join(image.root, name)) }).toEqual({ name, present: false });
  });
});

describe("the image's command, with the compose file's healthchecks", () => {
  const exited = (child: ChildProcess) =>
    new Promise<number | null>((resolve) =>
      child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code)),
    );

  /** Runs a command the way the image does: from its WORKDIR, with its ENV. */
  function runInImage(command: string[], env: Record<string, string>): ChildProcess {
    const [bin, ...args] = command;
    const child = spawn(bin === 'node' ? process.execPath : (bin as string), args, {
      cwd: image.root,
      env: { PATH: process.env.PATH ?? '', HOME: work, ...image.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    Object.assign(child, { stderrText: () => stderr });
    running.push(child);
    return child;
  }

  /** The compose healthcheck's command (`CMD` form) against this test's port, in the image. */
  function healthcheck(service: string, port: number): number | null {
    const test = compose.services[service]?.healthcheck?.test ?? [];
    expect(test[0]).toBe('CMD');
    const command = test.slice(1).map((part) => part.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${port}`));
    const [bin, ...args] = command;
    return spawnSync(bin === 'node' ? process.execPath : (bin as string), args, { cwd: image.root, stdio: 'pipe', timeout: 20_000 }).status;
  }

  async function waitHealthy(service: string, port: number, child: ChildProcess): Promise<void> {
    const until = Date.now() + 60_000;
    while (healthcheck(service, port) !== 0) {
      if (child.exitCode !== null)
        throw new Error(`${service} exited ${child.exitCode}: ${(child as unknown as { stderrText(): string }).stderrText()}`);
      if (Date.now() > until) throw new Error(`${service} not healthy within 60 s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it('starts the API and the worker from the one image, and their healthchecks pass, then fail once they stop', async () => {
    const redisUrl = requireRedisUrl();
    const prefix = uniquePrefix('image');
    const [apiPort, metricsPort] = [await freePort(), await freePort()];
    // Nothing listens yet: the healthcheck must be able to fail.
    expect(healthcheck('api', apiPort)).toBe(1);

    // What the user puts in the environment for the compose file's ${...:?} variables.
    const encryptionKeys = `k1:${randomBytes(32).toString('base64')}`;
    const apiEnv = {
      ...compose.services.api!.environment!,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      HOOKRELAY_ADMIN_KEY: 'image-test-admin-key-0123456789abcdef',
      HOOKRELAY_ENCRYPTION_KEYS: encryptionKeys,
      LOG_LEVEL: 'warn',
    };
    const workerEnv = {
      ...compose.services.worker!.environment!,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      METRICS_PORT: String(metricsPort),
      HOOKRELAY_ENCRYPTION_KEYS: encryptionKeys,
      LOG_LEVEL: 'warn',
    };
    // The API runs the image's CMD; the worker the compose file's command, with the same image.
    expect(compose.services.api!.command).toEqual(image.cmd);
    const api = runInImage(image.cmd, apiEnv);
    const worker = runInImage(compose.services.worker!.command!, workerEnv);
    await waitHealthy('api', apiPort, api);
    await waitHealthy('worker', metricsPort, worker);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain('hookrelay_deliveries_total');

    api.kill('SIGTERM');
    worker.kill('SIGTERM');
    expect(await exited(api)).toBe(0);
    expect(await exited(worker)).toBe(0);
    expect(healthcheck('api', apiPort)).toBe(1);
    expect(healthcheck('worker', metricsPort)).toBe(1);
  }, 150_000);
});
