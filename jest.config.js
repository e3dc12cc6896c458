/**
 * Jest for ESM NestJS: ts-jest in ESM mode, one private redis-server for the whole run.
 * Tests import the packages by name (`redurable`, `redurable/testing`, `redurable-console`),
 * which resolve through the workspace links to their built `dist/`: `npm test` builds first.
 */
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testMatch: ['<rootDir>/test/**/*.spec.ts', '<rootDir>/libs/*/src/**/*.spec.ts'],
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  globalSetup: '<rootDir>/test/support/global-setup.js',
  globalTeardown: '<rootDir>/test/support/global-teardown.js',
  testTimeout: 60000,
  maxWorkers: 2,
};
