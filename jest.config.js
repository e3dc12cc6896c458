/**
 * Jest for ESM NestJS: ts-jest in ESM mode, against one private redis-server and one private
 * 3-master Redis Cluster that the global setup starts for the whole run. Two projects: `redis`
 * runs every test on the single server; `cluster` runs the end-to-end and crash suites again on
 * the Cluster. Tests import the packages by name (`redurable`, `redurable/testing`,
 * `redurable-console`), which resolve through the workspace links to their built `dist/`:
 * `npm test` builds first.
 */
const common = {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  // Tests may read the library's key names (redurable/internal) to inspect what it wrote.
  testEnvironmentOptions: { customExportConditions: ['node', 'node-addons', 'redurable-internal'] },
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
};

export default {
  globalSetup: '<rootDir>/test/support/global-setup.js',
  globalTeardown: '<rootDir>/test/support/global-teardown.js',
  testTimeout: 60000,
  // Three: most tests wait on leases, sweeps and child processes rather than compute.
  maxWorkers: 3,
  projects: [
    {
      ...common,
      displayName: 'redis',
      testMatch: ['<rootDir>/test/**/*.spec.ts', '<rootDir>/libs/*/src/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'cluster',
      setupFiles: ['<rootDir>/test/support/target-cluster.js'],
      testMatch: [
        '<rootDir>/test/e2e/**/*.spec.ts',
        '<rootDir>/test/crash/**/*.spec.ts',
        '<rootDir>/test/contracts/**/*.spec.ts',
      ],
      // lost-replies and lost-script-replies drop replies through a TCP proxy in front of one server (a Cluster's
      // redirects name the real nodes); fail-fast starts and kills a server of its own. The engine's SIGKILL
      // suite (its crash points lie between scripts, in code that does not depend on the server) runs on the
      // single server only, to keep `npm test` within 10 minutes on 2 cores; on the Cluster the flow and
      // schedule crash suites, the failover test and every script's contract cover what is Cluster-specific.
      testPathIgnorePatterns: [
        '/lost-replies\\.spec\\.ts$',
        '/lost-script-replies\\.spec\\.ts$',
        '/fail-fast\\.spec\\.ts$',
        '/crash/sigkill\\.spec\\.ts$',
      ],
    },
  ],
};
