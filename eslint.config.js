/**
 * The house rules: typescript-eslint on the two packages, and the layers of `redurable`, each a
 * folder whose imports run one way (see the README's Layout). `npm run lint` also runs prettier
 * and tools/lint/check-imports.js (no import cycle, type imports included; no file over 500 lines).
 */
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const src = './libs/redurable/src';
/** Each layer and the folders it may import from (its own included). Root files (runtime.ts, options.ts, index.ts, internal.ts) see everything. */
const layers = {
  core: ['core'],
  observability: ['core', 'observability'],
  workflow: ['core', 'workflow'],
  store: ['core', 'store'],
  queues: ['core', 'store', 'queues'],
  engine: ['core', 'observability', 'workflow', 'store', 'queues', 'engine'],
  client: ['core', 'observability', 'workflow', 'store', 'queues', 'client'],
  cli: ['core', 'observability', 'store', 'queues', 'client', 'cli', 'runtime.ts', 'options.ts'],
  nest: [
    'core',
    'observability',
    'workflow',
    'store',
    'queues',
    'engine',
    'client',
    'nest',
    'runtime.ts',
    'options.ts',
  ],
  testing: [
    'core',
    'observability',
    'workflow',
    'store',
    'queues',
    'engine',
    'client',
    'nest',
    'testing',
    'runtime.ts',
    'options.ts',
  ],
};
const everything = [...Object.keys(layers), 'runtime.ts', 'options.ts', 'index.ts', 'internal.ts'];
const zones = Object.entries(layers).flatMap(([layer, allowed]) =>
  everything
    .filter((other) => !allowed.includes(other))
    .map((other) => ({
      target: `${src}/${layer}`,
      from: `${src}/${other}`,
      message: `${layer}/ may import only ${allowed.join(', ')}`,
    })),
);
// The composition root does not reach the entry points above it.
for (const root of ['runtime.ts', 'options.ts']) {
  for (const above of ['nest', 'cli', 'testing', 'index.ts', 'internal.ts']) {
    zones.push({
      target: `${src}/${root}`,
      from: `${src}/${above}`,
      message: `${root} is below nest/, cli/, testing/ and the entry points`,
    });
  }
}

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'test/install/app/**',
      'coverage/**',
      '.redurable/**',
      'docs/.vitepress/cache/**',
    ],
  },
  {
    files: ['libs/*/src/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    plugins: { 'import-x': importX },
    // Nest's injection reads constructor parameter types at run time: imports used there stay values.
    languageOptions: { parserOptions: { emitDecoratorMetadata: true, experimentalDecorators: true } },
    settings: {
      'import-x/resolver-next': [
        createTypeScriptImportResolver({ project: 'libs/*/tsconfig.json', noWarnOnMultipleProjects: true }),
      ],
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        // `import('@opentelemetry/api')` types stay: optional peers are named only where they are loaded.
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      'import-x/no-restricted-paths': ['error', { zones }],
      'import-x/no-self-import': 'error',
      'import-x/no-useless-path-segments': 'error',
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@nestjs/*'], message: 'Only nest/ and testing/ import Nest' }] },
      ],
    },
  },
  {
    files: [`${src.slice(2)}/nest/**/*.ts`, `${src.slice(2)}/testing/**/*.ts`, 'libs/redurable-console/src/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // The console uses the public API only.
    files: ['libs/redurable-console/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/redurable/src/**', '**/redurable/dist/**', 'redurable/internal'],
              message: 'The console uses the public API only',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
