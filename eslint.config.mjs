// One linter for the whole tree: typescript-eslint with type information (projectService finds each
// file's tsconfig: the root one, or apps/portal's for the browser code). Prettier owns layout, so
// eslint-config-prettier turns off every rule that would argue with it. Why this pair rather than
// Biome: CONTRIBUTING.md.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'apps/portal/.dist-*/**',
      'coverage/**',
      'bench/results/**',
      'packages/client/src/generated/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mts', '**/*.cts'],
    languageOptions: {
      parserOptions: {
        // Files no tsconfig includes on purpose (bundler configs, the packaging test's .cts/.mts
        // consumers) get the default project.
        projectService: { allowDefaultProject: ['packages/*/tsup.config.ts', 'test/packages/*.cts', 'test/packages/*.mts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // The two the codebase most needs a machine to catch: a promise nobody awaits loses its
      // error (an unhandled rejection kills the process), and a cast that changes nothing hides
      // the day it starts to.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // Tests and their kits read JSON answers whose shape is what they assert; typing each one
    // would only restate the assertion. Production code stays free of any.
    files: [
      '**/*.test.ts',
      '**/*-test-kit.ts',
      '**/e2e/**',
      'test/**',
      'packages/testing/**',
      'apps/api/src/openapi-fixture.ts',
      'apps/api/src/sources/provider-cases.ts',
    ],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
