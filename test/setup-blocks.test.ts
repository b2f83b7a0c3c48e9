import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRepeatedSetupBlocks } from '../scripts/setup-blocks';

describe('set-up blocks (scripts/setup-blocks.ts)', () => {
  it('are not copied from suite to suite: shared set-up lives in a fixture (useApiHarness, useEngineHarness, ...)', () => {
    const repeated = findRepeatedSetupBlocks(join(__dirname, '..'));
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
