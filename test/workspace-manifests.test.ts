import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// A workspace's package.json names files that exist: `main`, `types` and every `exports` target.
// The two published packages point into dist/, which only `npm pack` builds; test/packages.int.test.ts
// checks those in the tarball.

const ROOT = join(__dirname, '..');

function targets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(targets);
  return [];
}

describe('workspace package.json files', () => {
  const workspaces = ['apps', 'packages'].flatMap((dir) => readdirSync(join(ROOT, dir)).map((name) => join(dir, name)));

  it.each(workspaces)('%s names only files that exist', (workspace) => {
    const manifest = JSON.parse(readFileSync(join(ROOT, workspace, 'package.json'), 'utf8')) as Record<string, unknown>;
    const named = [manifest.main, manifest.types, manifest.module, ...targets(manifest.exports)].filter(
      (t): t is string => typeof t === 'string',
    );
    const missing = named.filter((file) => !file.replace(/^\.\//, '').startsWith('dist/') && !existsSync(join(ROOT, workspace, file)));
    expect(missing).toEqual([]);
  });

  it("names each app's entry: the API's program, and the worker's library index (what other composition roots reuse)", () => {
    const mainOf = (app: string) => (JSON.parse(readFileSync(join(ROOT, 'apps', app, 'package.json'), 'utf8')) as { main?: string }).main;
    expect(mainOf('api')).toBe('src/main.ts');
    // apps/api --with-worker, the harnesses and the soak import createWorkerResources from
    // @hookrelay/worker: its main must export that without starting a worker (src/main.ts does).
    expect(mainOf('worker')).toBe('src/index.ts');
    const index = readFileSync(join(ROOT, 'apps', 'worker', 'src', 'index.ts'), 'utf8');
    expect(index).toMatch(/createWorkerResources|worker-resources/);
    expect(index).not.toMatch(/from '\.\/main'/);
  });

  it("gives npm start's one process a libuv pool of 8 threads unless the operator chose a size", () => {
    // The API's and the worker thread's DNS resolvers (HostResolver) run up to 3 lookups each on
    // that pool: libuv's 4 would let one subscriber's silent names hold all of it. libuv reads the
    // variable before main.ts runs (tsx's loader starts the pool), so the script sets it.
    // Checked by hand: 17 threads under npm start against 13 with UV_THREADPOOL_SIZE=4.
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toBe('UV_THREADPOOL_SIZE=${UV_THREADPOOL_SIZE:-8} tsx apps/api/src/main.ts --with-worker');
  });
});
