import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { createRedis } from '@hookrelay/queue';
import { freePort, requireRedisUrl, uniquePrefix } from '@hookrelay/testing';
import { readSamples, type Sample } from './docs/markdown-samples';
import { BackgroundSample, SampleSession, waitUntil, type BlockResult } from './docs/sample-session';

// Every code sample in the README and docs/, run as a reader runs them: the service started with
// the README's variables (API and worker in one process, on this test's Redis), the pages' blocks
// in one shell session in reading order, their servers in the background, their programs saved as
// files. Ports, /tmp and the Redis of the pages are rewritten to this test's own.

const run = promisify(execFile);
const ROOT = join(__dirname, '..');

/**
 * Reading order. operations.md comes late because its rekey seals the stored secrets under a key
 * the running service does not have; SECURITY.md last because its block exports a new key list.
 */
const PAGES = [
  'README.md',
  'docs/README.md',
  'docs/api.md',
  'docs/delivery.md',
  'docs/delivery-scheduling.md',
  'docs/signatures.md',
  'docs/event-catalog.md',
  'docs/sources.md',
  'docs/portal.md',
  'docs/configuration.md',
  'docs/performance.md',
  'docs/operations.md',
  'SECURITY.md',
];
/** Pages whose samples must all be marked (none runs): how to work on Hookrelay. */
const MARKED_ONLY = ['CONTRIBUTING.md', 'apps/api/README.md', 'apps/worker/README.md'];
/** Pages whose relative links must resolve. */
const LINKED = [...PAGES, ...MARKED_ONLY, 'CHANGELOG.md'];

/** The ports the pages write, and the API's. */
const PAGE_PORTS = [3000, 4000, 4001, 4002, 4003];

jest.setTimeout(180_000);

describe('the samples in README.md and docs/', () => {
  it('covers every page in docs/', () => {
    const pages = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md'));
    expect(pages.map((f) => `docs/${f}`).sort()).toEqual(PAGES.filter((p) => p.startsWith('docs/')).sort());
  });

  it('runs or marks every sample, and gives every sample it does not run a reason', () => {
    const problems = [...PAGES, ...MARKED_ONLY].flatMap((page) => readSamples(ROOT, page).problems);
    for (const page of MARKED_ONLY) {
      for (const s of readSamples(ROOT, page).samples)
        if (s.kind !== 'not-run') problems.push(`${s.where}: mark it not-run (this page's samples are not run)`);
    }
    expect(problems).toEqual([]);
  });

  it('links only to files and headings that exist', () => {
    const broken: string[] = [];
    for (const page of LINKED) {
      const text = readFileSync(join(ROOT, page), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:)/.test(target!)) continue;
        const [path, anchor] = target!.split('#') as [string, string | undefined];
        const file = path ? join(ROOT, dirname(page), path) : join(ROOT, page);
        if (!existsSync(file)) broken.push(`${page}: ${target} (no such file)`);
        else if (anchor && file.endsWith('.md') && !headingSlugs(readFileSync(file, 'utf8')).has(anchor))
          broken.push(`${page}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('documents every variable of .env.example in docs/configuration.md', () => {
    const names = [...readFileSync(join(ROOT, '.env.example'), 'utf8').matchAll(/^# ([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
    const page = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
    expect(names.length).toBeGreaterThan(20);
    expect(names.filter((name) => !page.includes(`\`${name}\``))).toEqual([]);
  });

  describe('run against a live service', () => {
    const work = mkdtempSync(join(tmpdir(), 'hookrelay-docs-'));
    const redisUrl = requireRedisUrl();
    const prefix = uniquePrefix('docs');
    const ports = new Map<number, number>();
    const backgrounds = new Map<number, BackgroundSample>();
    let service: ChildProcess | undefined;
    let session: SampleSession;
    let env: NodeJS.ProcessEnv;

    /** A page's text as this test runs it: its ports, /tmp, Redis and npm scripts made this test's. */
    const localize = (text: string): string =>
      text
        .replace(/\b(localhost|127\.0\.0\.1):(\d{4})\b/g, (all, host: string, port: string) =>
          ports.has(Number(port)) ? `${host}:${ports.get(Number(port))}` : all,
        )
        .replace(/\blisten\((\d{4})\)/g, (all, port: string) => (ports.has(Number(port)) ? `listen(${ports.get(Number(port))})` : all))
        .replace(/\/tmp\//g, `${work}/`)
        .replace(/\bREDIS_URL=redis:\/\/127\.0\.0\.1:6379\b/g, `REDIS_URL=${redisUrl}`)
        .replace(/\bQUEUE_PREFIX=hookrelay\b/g, `QUEUE_PREFIX=${prefix}`)
        .replace(/\bnpm run /g, `npm --prefix ${ROOT} run `);

    beforeAll(async () => {
      for (const port of PAGE_PORTS) ports.set(port, await freePort());
      // What `npm install <tarball>` gives the reader's project: the two packages built from source.
      for (const name of ['verify', 'client']) {
        const dest = join(work, 'node_modules', '@hookrelay', name);
        mkdirSync(dest, { recursive: true });
        await run('npx', ['tsup', '--out-dir', join(dest, 'dist'), '--no-dts', '--silent'], {
          cwd: join(ROOT, 'packages', name),
          timeout: 60_000,
        });
        copyFileSync(join(ROOT, 'packages', name, 'package.json'), join(dest, 'package.json'));
      }
      const started = await startService(readSamples(ROOT, 'README.md').samples.find((s) => s.kind === 'service')!);
      service = started.child;
      env = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        LANG: 'C.UTF-8',
        // The reader's project has express installed beside @hookrelay/verify.
        NODE_PATH: join(ROOT, 'node_modules'),
        HOOKRELAY_ENCRYPTION_KEYS: started.encryptionKeys,
      };
      session = new SampleSession(work, env);
    }, 180_000);

    afterAll(async () => {
      session?.close();
      for (const b of backgrounds.values()) b.kill();
      if (service && service.exitCode === null) {
        service.kill('SIGTERM');
        await new Promise((resolve) => service!.once('exit', resolve));
      }
      const redis = createRedis(redisUrl, 'store');
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      rmSync(work, { recursive: true, force: true });
    });

    /** Runs the README's start command up to `npm start`, then the service with what it set. */
    async function startService(sample: Sample): Promise<{ child: ChildProcess; encryptionKeys: string }> {
      expect(sample.code).toContain('npm start');
      const dump = localize(sample.code).replace('npm start', `node -e 'process.stdout.write(JSON.stringify(process.env))'`);
      const { stdout } = await run('bash', ['-c', dump], { env: { PATH: process.env.PATH } });
      const set = JSON.parse(stdout) as Record<string, string>;
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'apps/api/src/main.ts'), '--with-worker'], {
        cwd: ROOT,
        env: {
          ...process.env,
          ...set,
          PORT: String(ports.get(3000)),
          HOST: '127.0.0.1',
          REDIS_URL: redisUrl,
          QUEUE_PREFIX: prefix,
          LOG_LEVEL: 'warn',
        },
        stdio: 'ignore',
      });
      const ready = `http://127.0.0.1:${ports.get(3000)}/readyz`;
      await waitUntil(
        async () => (await fetch(ready).catch(() => undefined))?.ok === true,
        30_000,
        () => 'the service to be ready',
      );
      return { child, encryptionKeys: set.HOOKRELAY_ENCRYPTION_KEYS! };
    }

    async function runBlock(sample: Sample): Promise<void> {
      const code = localize(sample.code);
      switch (sample.kind) {
        case 'file':
          writeFileSync(join(work, sample.argument), `${code}\n`);
          return;
        case 'background': {
          const port = Number(sample.argument);
          const background = new BackgroundSample(code, work, env);
          backgrounds.set(port, background);
          await background.listening(ports.get(port)!);
          return;
        }
        case 'run':
          break;
        default:
          return; // service (started in beforeAll) and not-run
      }
      let result = await session.run(code);
      const eventually = sample.expectations.filter((e) => e.kind === 'eventually').map((e) => localize(e.text));
      const until = Date.now() + 20_000;
      while (eventually.some((text) => !result.stdout.includes(text)) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 200));
        result = await session.run(code);
      }
      expectClean(sample, result);
      for (const e of sample.expectations) {
        const text = localize(e.text);
        if (e.kind === 'receiver') {
          const background = backgrounds.get(e.port!);
          if (!background) throw new Error(`${sample.where}: no background sample on port ${e.port} was started before it`);
          await background.prints(text);
        } else if (!result.stdout.includes(text)) {
          throw new Error(`${sample.where}: expected the output to contain ${JSON.stringify(text)}; it printed:\n${result.stdout}`);
        }
      }
    }

    function expectClean(sample: Sample, result: BlockResult): void {
      if (result.status !== 0 || result.stderr.trim() !== '') {
        throw new Error(`${sample.where}: exit status ${result.status}, stderr:\n${result.stderr}\nstdout:\n${result.stdout}`);
      }
    }

    it.each(PAGES)('%s', async (page) => {
      for (const sample of readSamples(ROOT, page).samples) await runBlock(sample);
    });
  });
});

/** The anchors GitHub gives a page's headings. */
function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  for (const [, heading] of markdown.matchAll(/^#{1,6} (.+)$/gm)) {
    slugs.add(
      heading!
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-'),
    );
  }
  return slugs;
}
