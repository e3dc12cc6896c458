/**
 * Redurable: durable execution for NestJS on Redis and BullMQ. This file is the only public entry.
 */
export { DurableModule, type DurableModuleAsyncOptions } from './module/durable.module.js';
export type { DurableModuleOptions, ResolvedDurableOptions } from './module/durable-options.js';
export { resolveDurableOptions } from './module/durable-options.js';
export { DURABLE_OPTIONS } from './module/durable.constants.js';
export { DurableRuntime } from './module/durable-runtime.js';
export * from './decorators/index.js';
export { DurableRegistry, type WorkflowDefinition, type ActivityDefinition } from './discovery/registry.js';
export { proxyActivities, executeActivity, sleep, sideEffect, uuid4, workflowInfo, type ActivityProxy } from './runtime/workflow-api.js';
export type { WorkflowInfo } from './runtime/activation.js';
export {
  condition, patched, deprecatePatch, continueAsNew, nonCancellable, isCancellationRequested, startChild, executeChild,
  type ChildWorkflowOptions, type ChildWorkflowHandle,
} from './runtime/workflow-control-api.js';
export { Saga, type SagaOptions } from './saga/saga.js';
export { activityContext, type ActivityContext } from './activities/activity-context.js';
export type { RetryPolicy } from './activities/retry-policy.js';
export { WorkflowClient, type StartWorkflowOptions, type SignalWithStartOptions } from './client/workflow-client.js';
export type { ListWorkflowsFilter, ListWorkflowsPage, WorkflowSummary } from './client/workflow-listing.js';
export type { IdReusePolicy, IdConflictPolicy } from './history/redis-history-store.js';
export type { ParentClosePolicy } from './history/events.js';
export { WorkflowHandle } from './client/workflow-handle.js';
export { WorkflowInputValidationError } from './client/input-validation.js';
export type { WorkflowDescription, PendingActivity } from './client/workflow-description.js';
export type { HistoryEvent, EventType } from './history/events.js';
export { KeyNames } from './history/keys.js';
export type { PayloadCodec } from './payload/data-converter.js';
export type { Duration } from './common/duration.js';
export * from './errors/index.js';
export { replayHistory, type ReplayResult } from './testing/replay-history.js';
export { TestWorkflowEnvironment, type TestEnvironmentOptions } from './testing/test-environment.js';
