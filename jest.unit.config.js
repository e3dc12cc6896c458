/**
 * `npm run test:unit`: the tests that need no Redis and no build (pure logic, the replayer fed
 * recorded events, the engine against in-memory ports). They import the sources directly, so
 * they run on a fresh checkout in seconds. `npm test` runs them too, in its `redis` project.
 */
export default {
  displayName: 'unit',
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/libs/.*/dist/'],
  testMatch: ['<rootDir>/libs/*/src/**/*.spec.ts', '<rootDir>/test/unit/**/*.spec.ts'],
  testTimeout: 10000,
};
