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

  it('gives each app the program it runs as its main', () => {
    for (const app of ['api', 'worker']) {
      const manifest = JSON.parse(readFileSync(join(ROOT, 'apps', app, 'package.json'), 'utf8')) as { main?: string };
      expect(manifest.main).toBe('src/main.ts');
    }
  });
});
