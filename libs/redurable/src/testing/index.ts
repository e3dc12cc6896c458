/**
 * `redurable/testing`: helpers for testing your workflows.
 *
 * @packageDocumentation
 */
export { replayHistory, type ReplayOptions, type ReplayResult } from './replay-history.js';
export { replayHistories, type ReplayHistoriesResult } from './replay-histories.js';
export { TestWorkflowEnvironment, type TestEnvironmentOptions } from './test-environment.js';
