import type { Config } from 'jest';

// Tests run on TypeScript source through SWC: nobody builds before testing.
const transform: Config['transform'] = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
};

const shared = {
  transform,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  // The published packages' package.json names their built dist; the repo runs them from source.
  moduleNameMapper: { '^@hookrelay/(verify|client)$': '<rootDir>/packages/$1/src/index.ts' },
};

const config: Config = {
  // One Redis for the whole run: REDIS_URL when set, else a private redis-server.
  globalSetup: '<rootDir>/packages/testing/src/jest-global-setup.ts',
  globalTeardown: '<rootDir>/packages/testing/src/jest-global-teardown.ts',
  maxWorkers: 2,
  // Jest reads testTimeout from the top level only; a project's own value is ignored. Slow suites
  // (faults, browsers) set longer per-test timeouts themselves.
  testTimeout: 30_000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,packages}/*/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts', '!**/*.int.test.ts'],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,packages}/*/src/**/*.int.test.ts', '<rootDir>/test/**/*.int.test.ts', '!**/test/reliability/**'],
    },
    {
      ...shared,
      // Faults, hostile receivers and hostile input (issue 8): each suite runs its own redis-server,
      // which it kills and restarts, so these never touch the shared one.
      displayName: 'reliability',
      testMatch: ['<rootDir>/test/reliability/**/*.int.test.ts', '!**/isolation.int.test.ts'],
    },
    {
      ...shared,
      // Suites that compare latencies measured in one run: npm test (scripts/run-tests.mjs) runs
      // them after the others, alone, so neighbouring suites' CPU is not what they measure.
      displayName: 'timing',
      testMatch: ['<rootDir>/test/reliability/isolation.int.test.ts'],
    },
  ],
};

export default config;
