import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ignore from '@balena/dockerignore';

/** Whether `.dockerignore` (Docker's own matching rules) keeps a path relative to the context out. */
export function contextExcludes(contextDir: string): (path: string) => boolean {
  const rules = ignore().add(readFileSync(join(contextDir, '.dockerignore'), 'utf8'));
  return (path) => rules.ignores(path);
}

/**
 * The files `docker build` sends as the context: every file under `contextDir` that .dockerignore
 * does not exclude, as paths relative to it. Excluded directories are not walked (the files in them
 * are excluded too, unless a later `!` rule takes one back, which this repository's file does not do
 * for a directory).
 */
export function contextFiles(contextDir: string): string[] {
  const excluded = contextExcludes(contextDir);
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      const rel = relative(contextDir, full);
      if (excluded(rel)) continue;
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() || (entry.isSymbolicLink() && statSync(full).isFile())) out.push(rel);
    }
  };
  walk(contextDir);
  return out;
}
