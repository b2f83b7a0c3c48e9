import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { createStore } from './index';

const ROOT = join(__dirname, '../../..');

/** Every `hookrelay*` script command the code calls (`.hookrelayX(`), outside tests, with a file that calls it. */
function calledCommands(): Map<string, string> {
  const called = new Map<string, string>();
  for (const top of ['apps', 'packages']) {
    for (const pkg of readdirSync(join(ROOT, top))) {
      const src = join(ROOT, top, pkg, 'src');
      let files: string[];
      try {
        files = readdirSync(src, { recursive: true }) as string[];
      } catch {
        continue;
      }
      for (const file of files) {
        if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
        for (const m of readFileSync(join(src, file), 'utf8').matchAll(/\.(hookrelay[A-Z]\w*?)(?:Buffer)?\(/g))
          called.set(m[1] as string, `${top}/${pkg}/src/${file}`);
      }
    }
  }
  return called;
}

/**
 * A script command must be defined on its connection when the store is created, before any command
 * can be auto-pipelined on it: one defined on first use is missing from the auto-pipeline another
 * command already opened in that tick, and calling it there made ioredis throw outside any promise
 * (`results[i] is not iterable`, redis/ioredis#1931), which killed the API process.
 */
describe('script commands', () => {
  it('are all defined by createStore, none on first use', () => {
    const redis = new Redis({ lazyConnect: true, enableAutoPipelining: true });
    try {
      createStore({ redis, prefix: 'commands' });
      const called = calledCommands();
      expect(called.size).toBeGreaterThan(10); // the scan finds them
      const undefinedByCreateStore = [...called].filter(([name]) => !(name in redis.scriptsSet)).map(([name, file]) => `${name} (${file})`);
      expect(undefinedByCreateStore).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});
