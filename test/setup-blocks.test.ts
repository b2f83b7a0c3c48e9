import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRepeatedSetupBlocks } from '../scripts/setup-blocks';

// Set-up blocks still copied between suites when issue 21's fixtures landed, by the files that hold
// them: converting them (useBrowser for the portal's e2e suites, a process fixture for the
// reliability suites, useSubscriber's base path for endpoints/secrets) empties this list.
const NOT_YET_CONVERTED = new Set([
  'apps/portal/src/e2e/catalog.e2e.int.test.ts apps/portal/src/e2e/portal-sessions.e2e.int.test.ts apps/portal/src/e2e/portal.e2e.int.test.ts',
  'apps/api/src/endpoints.int.test.ts apps/api/src/secrets.int.test.ts',
  'test/reliability/rate-limit.int.test.ts test/reliability/worker-crash-burst.int.test.ts',
]);

describe('set-up blocks (scripts/setup-blocks.ts)', () => {
  it('are not copied from suite to suite: shared set-up lives in a fixture (useApiHarness, useEngineHarness, ...)', () => {
    const repeated = findRepeatedSetupBlocks(join(__dirname, '..'))
      .map((r) => ({ ...r, files: [...new Set(r.places.map((p) => p.replace(/:\d+$/, '')))].sort().join(' ') }))
      .filter((r) => !NOT_YET_CONVERTED.has(r.files));
    expect(repeated.map((r) => `${r.hook} ${r.normalised} in ${r.places.join(', ')}`)).toEqual([]);
  });

  it('finds a block two suites share when only a literal differs, and not one a single suite holds', () => {
    const root = mkdtempSync(join(tmpdir(), 'setup-blocks-'));
    try {
      mkdirSync(join(root, 'test'));
      const suite = (label: string, extra = '') =>
        `describe('x', () => {\n  beforeAll(async () => {\n    h = await start({ name: '${label}' }); // ${label}\n  });\n${extra}});\n`;
      writeFileSync(join(root, 'test', 'a.test.ts'), suite('a', '  afterAll(() => only());\n'));
      writeFileSync(join(root, 'test', 'b.test.ts'), suite('b'));
      expect(findRepeatedSetupBlocks(root)).toEqual([
        { hook: 'beforeAll', normalised: '{ h = await start ( { name : <str> } ) ; }', places: ['test/a.test.ts:2', 'test/b.test.ts:2'] },
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
