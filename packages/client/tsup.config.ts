import { defineConfig } from 'tsup';

// The published package: CommonJS (index.js) and ESM (index.mjs) for Node 18+, each with its own
// type declarations. openapi-fetch is bundled in (about 6 kB), so the package has no runtime
// dependency and installs offline. Inside this repository nothing imports dist: jest and tsc map
// @hookrelay/client to src (jest.config.ts, tsconfig.json).
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['cjs', 'esm'],
  target: 'node18',
  platform: 'node',
  noExternal: ['openapi-fetch'],
  dts: true,
  clean: true,
  sourcemap: false,
  tsconfig: 'tsconfig.build.json',
});
