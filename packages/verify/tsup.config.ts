import { defineConfig } from 'tsup';

// The published package: CommonJS (index.js) and ESM (index.mjs) for Node 18+, each with its own
// type declarations. Inside this repository nothing imports dist: jest and tsc map
// @hookrelay/verify to src (jest.config.ts, tsconfig.json), so nobody builds before testing.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['cjs', 'esm'],
  target: 'node18',
  platform: 'node',
  dts: true,
  clean: true,
  sourcemap: false,
  tsconfig: 'tsconfig.build.json',
});
