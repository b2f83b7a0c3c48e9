import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { waitForDrain } from '@hookrelay/testing';
import { hubSignature } from '@hookrelay/verify';
import { startApiHarness, type ApiHarness } from '../apps/api/src/api-harness';

// The two installable packages as a user gets them: `npm pack` (which builds them with tsup), the
// tarball installed into an empty folder with nothing else, then plain Node scripts (.cjs and .mjs,
// no TypeScript) that verify real deliveries of all three schemes and publish through a running
// Hookrelay (the API and its worker on loopback).

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
const FIXTURES = join(__dirname, 'packages');
const NPM_FLAGS = ['--no-audit', '--no-fund', '--offline', '--loglevel=error'];

jest.setTimeout(120_000);

/** A line-oriented child process: its stdout as parsed JSON lines, with a wait for a line that matches. */
class JsonLines {
  readonly lines: Array<Record<string, any>> = [];
  private readonly waiters = new Set<() => void>();
  stderr = '';

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.lines.push(JSON.parse(line) as Record<string, any>);
      } catch {
        this.lines.push({ text: line });
      }
      for (const wake of this.waiters) wake();
    });
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
  }

  /** Resolves with the lines once `done` holds of them; fails at the deadline with what arrived. */
  waitFor(done: (lines: Array<Record<string, any>>) => boolean, what: string, timeoutMs = 20_000): Promise<Array<Record<string, any>>> {
    if (done(this.lines)) return Promise.resolve(this.lines);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `timed out waiting for ${what}; got ${JSON.stringify(this.lines).slice(0, 2000)}; stderr: ${this.stderr.slice(0, 2000)}`,
          ),
        );
      }, timeoutMs);
      const check = () => {
        if (!done(this.lines)) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(this.lines);
      };
      this.waiters.add(check);
    });
  }
}

async function pack(workspace: string, destination: string): Promise<{ filename: string; files: string[] }> {
  const { stdout } = await run('npm', ['pack', '-w', workspace, '--pack-destination', destination, '--json', '--silent'], {
    cwd: ROOT,
    timeout: 90_000,
    maxBuffer: 4 * 1024 * 1024,
  });
  const [info] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  return { filename: join(destination, info!.filename), files: info!.files.map((f) => f.path).sort() };
}

/** A fresh folder with nothing but the given tarballs installed, as `npm install ./x.tgz` leaves it. */
async function installInto(dir: string, tarballs: string[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await run('npm', ['install', ...NPM_FLAGS, ...tarballs], { cwd: dir, timeout: 60_000 });
}

describe('@hookrelay/verify and @hookrelay/client, packed and installed', () => {
  const work = mkdtempSync(join(tmpdir(), 'hookrelay-packages-'));
  let h: ApiHarness;
  let verifyTarball: { filename: string; files: string[] };
  let clientTarball: { filename: string; files: string[] };
  const children: ChildProcess[] = [];
  const secrets = {
    hub: 'hub-secret-0123456789abcdef',
    zenduty: 'zenduty-secret-0123456789abcdef',
    standard: `whsec_${Buffer.from('standard-webhooks-key-0123456789').toString('base64')}`,
  };

  beforeAll(async () => {
    // Both packs at once: each builds with tsup, mostly waiting on TypeScript for the declarations.
    [verifyTarball, clientTarball, h] = await Promise.all([
      pack('@hookrelay/verify', work),
      pack('@hookrelay/client', work),
      startApiHarness(),
    ]);
    await Promise.all([
      installInto(join(work, 'receiver'), [verifyTarball.filename]),
      installInto(join(work, 'publisher'), [clientTarball.filename]),
    ]);
    for (const file of ['receiver.cjs', 'receiver.mjs']) copyFileSync(join(FIXTURES, file), join(work, 'receiver', file));
    for (const file of ['publish.cjs', 'publish.mjs', 'steps.cjs']) copyFileSync(join(FIXTURES, file), join(work, 'publisher', file));
  }, 180_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await h?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('packs only the built package: CommonJS, ESM and declarations for each, no sources or tests', () => {
    const built = ['dist/index.d.mts', 'dist/index.d.ts', 'dist/index.js', 'dist/index.mjs'];
    expect(verifyTarball.files).toEqual(['README.md', ...built, 'package.json']);
    expect(clientTarball.files).toEqual(['README.md', 'THIRD_PARTY_NOTICES', ...built, 'package.json']);
  });

  it('installs with no dependencies at all', () => {
    for (const [dir, name] of [
      ['receiver', 'verify'],
      ['publisher', 'client'],
    ] as const) {
      const lock = JSON.parse(readFileSync(join(work, dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
      expect(Object.keys(lock.packages).sort()).toEqual(['', `node_modules/@hookrelay/${name}`]);
    }
  });

  describe.each([
    ['CommonJS', 'cjs'],
    ['ESM', 'mjs'],
  ])('from a plain %s script', (_label, ext) => {
    let receiver: JsonLines;
    let receiverUrl: string;

    beforeAll(async () => {
      const child = spawn(process.execPath, [`receiver.${ext}`], {
        cwd: join(work, 'receiver'),
        env: { PATH: process.env.PATH, SECRETS: JSON.stringify(secrets) },
      });
      children.push(child);
      receiver = new JsonLines(child);
      const [ready] = await receiver.waitFor((lines) => lines.some((l) => l.port), 'the receiver to listen');
      receiverUrl = `http://127.0.0.1:${ready!.port}`;
    });

    afterAll(() => {
      receiver?.child.kill('SIGTERM');
    });

    it('publishes through the running Hookrelay, and the receiver verifies every delivery of every scheme', async () => {
      const env = {
        PATH: process.env.PATH,
        HOOKRELAY_URL: h.baseUrl,
        HOOKRELAY_ADMIN_KEY: h.adminKey,
        RECEIVER_URL: receiverUrl,
        SECRETS: JSON.stringify(secrets),
      };
      const { stdout } = await run(process.execPath, [`publish.${ext}`], { cwd: join(work, 'publisher'), env, timeout: 30_000 });
      const result = JSON.parse(stdout.trim().split('\n').pop()!) as {
        subscriberId: string;
        published: Array<{ id: string; deliveries: number }>;
        error: Record<string, unknown>;
      };
      expect(result.published).toEqual([
        { id: expect.stringMatching(/^evt_/), deliveries: 4 },
        { id: expect.stringMatching(/^evt_/), deliveries: 4 },
        { id: expect.stringMatching(/^evt_/), deliveries: 4 },
      ]);
      // An API error reaches the script as a HookrelayError in the API's words.
      expect(result.error).toEqual({
        status: 400,
        code: 'validation_failed',
        message: expect.stringContaining('no.such.type'),
        details: [expect.objectContaining({ path: 'type' })],
      });

      const eventIds = new Set(result.published.map((e) => e.id));
      const ours = (lines: Array<Record<string, any>>) => lines.filter((l) => l.verified && eventIds.has(l.eventId));
      const lines = await receiver.waitFor((all) => ours(all).length === 12, 'twelve verified deliveries');
      const got = ours(lines)
        .map((l) => `${l.path} ${l.eventType}`)
        .sort();
      expect(got).toEqual(
        ['/hub-hex', '/hub-sha512', '/standard', '/zenduty']
          .flatMap((path) => ['custom.order.paid', 'custom.order.shipped', 'incident.triggered'].map((type) => `${path} ${type}`))
          .sort(),
      );
      expect(lines.filter((l) => l.rejected)).toEqual([]);
      // The payload the middleware parsed is the one published, non-ASCII and floats included (Zenduty's body is rewritten for Python, not changed).
      const paid = ours(lines).filter((l) => l.eventType === 'custom.order.paid');
      for (const l of paid)
        expect(l.payload).toEqual({ orderId: `${ext === 'cjs' ? 'cjs' : 'esm'}-1`, note: 'Zoë ✓ 1.5e-7', amount: 12.5 });
      // Hookrelay saw every one answered 2xx (it records an attempt once the receiver has answered).
      await waitForDrain(h.worker!);
      const deliveries = await h.call('GET', `/v1/subscribers/${result.subscriberId}/deliveries?status=delivered&limit=100`);
      expect(deliveries.body.data).toHaveLength(12);
    });

    it('answers 401 to a forged or replayed request on every path', async () => {
      const before = receiver.lines.length;
      const body = JSON.stringify({ forged: true });
      const wrongSecret = hubSignature('not-the-secret-0123456789', body, { algorithm: 'sha256', prefix: false });
      const stale = Math.floor(Date.now() / 1000) - 3600;
      const forged: Array<[string, Record<string, string>]> = [
        ['/hub-hex', { 'x-hub-signature': wrongSecret }],
        ['/hub-sha512', { 'x-hub-signature': hubSignature(secrets.hub, body, { algorithm: 'sha256', prefix: true }) }],
        ['/zenduty', {}],
        ['/standard', { 'webhook-id': 'evt_x', 'webhook-timestamp': String(stale), 'webhook-signature': 'v1,AAAA' }],
      ];
      for (const [path, headers] of forged) {
        const res = await fetch(`${receiverUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body,
        });
        expect([path, res.status]).toEqual([path, 401]);
      }
      const lines = await receiver.waitFor((all) => all.length >= before + 4, 'four rejections');
      expect(lines.slice(before)).toEqual(forged.map(([path]) => ({ path, rejected: 401 })));
    });
  });

  it('has declarations that type-check for ESM and CommonJS consumers (node16 resolution)', async () => {
    const dir = join(work, 'types');
    await installInto(dir, [verifyTarball.filename, clientTarball.filename]);
    for (const file of ['types.mts', 'types.cts']) copyFileSync(join(FIXTURES, file), join(dir, file));
    const tsconfig = {
      compilerOptions: {
        module: 'node16',
        moduleResolution: 'node16',
        target: 'es2022',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      files: ['types.mts', 'types.cts'],
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await expect(run(process.execPath, [tsc, '-p', dir], { cwd: dir, timeout: 60_000 })).resolves.toBeDefined();
  });
});
