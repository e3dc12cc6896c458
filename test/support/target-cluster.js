// The `cluster` Jest project: its test files run against the private 3-master Redis Cluster
// (test/support/test-app.ts reads this to pick the connection).
process.env.REDURABLE_TEST_TARGET = 'cluster';
