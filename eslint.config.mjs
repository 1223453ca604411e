// Lint rules that check themselves, after the Temporal TypeScript samples: typed rules (floating
// promises above all), Prettier for layout, and the import boundaries the layout depends on.
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const onlyTests = { group: ['**/test/**', '**/test'], message: 'Only tests import from test/.' };
const onlyDev = {
  group: ['**/dev/**', '**/dev'],
  message: 'dev/ is development only and never built: shipped code cannot import it.',
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.data/', 'test-results/', 'bench/results/', 'coverage/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'object-shorthand': ['error', 'always'],
    },
  },
  {
    // Tests read loosely typed JSON answers field by field.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The development tools and the bench never import the tests.
    files: ['dev/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [onlyTests] }] },
  },
  {
    // Nothing that ships imports the tests or the development-only tools (the build leaves dev/ out).
    files: ['src/**/*.ts', 'activities/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [onlyTests, onlyDev] }] },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, and nothing of ours
    // that could pull them in (types only from src/ and activities/).
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflow code runs in the deterministic sandbox: no Node built-ins.',
          })),
          patterns: [
            onlyTests,
            onlyDev,
            {
              group: ['../src/**', '../activities', '../activities/**'],
              allowTypeImports: true,
              message: 'Workflow code imports only types from src/ and activities/ (they run on Node).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: globals.node },
  },
  prettier,
);
