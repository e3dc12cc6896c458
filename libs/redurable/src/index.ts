/**
 * Redurable: durable execution for NestJS on Redis and BullMQ. The public API; test helpers
 * are in `redurable/testing`.
 */
export { DurableModule, type DurableModuleAsyncOptions, type DurableOptionsFactory } from './module/durable.module.js';
export type { DurableModuleOptions } from './module/durable-options.js';
export type { MetricsOptions } from './observability/metrics.js';
export type { RedisConnectionOption, ClusterConnectionOption } from './connection/redis-connection-option.js';
export * from './decorators/index.js';
export { proxyActivities, executeActivity, proxyLocalActivities, executeLocalActivity, sleep, sideEffect, uuid4, workflowInfo, upsertSearchAttributes, type ActivityProxy } from './runtime/workflow-api.js';
export type { WorkflowInfo } from './runtime/activation.js';
export type { SearchAttributeType, SearchAttributeDeclarations, SearchAttributeValue, SearchAttributes } from './search/search-attributes.js';
export { InvalidSearchAttributeError, ListQueryError } from './errors/search.errors.js';
export { CancellationScope } from './runtime/cancellation-scope.js';
export {
  condition, patched, deprecatePatch, continueAsNew, nonCancellable, isCancellationRequested, allHandlersFinished, withTimeout, startChild, executeChild,
  type ChildWorkflowOptions, type ChildWorkflowHandle,
} from './runtime/workflow-control-api.js';
export { Saga, type SagaOptions } from './saga/saga.js';
export { activityContext, type ActivityContext } from './activities/activity-context.js';
export type { RetryPolicy } from './activities/retry-policy.js';
export { WorkflowClient, type StartWorkflowOptions, type SignalWithStartOptions } from './client/workflow-client.js';
export type { ListWorkflowsFilter, ListWorkflowsPage, WorkflowSummary } from './client/workflow-listing.js';
export type { SearchAttributeRange } from './search/list-plan.js';
export type { IdReusePolicy, IdConflictPolicy } from './history/redis-history-store.js';
export type { ParentClosePolicy, HistoryEvent, EventType } from './history/events.js';
export { timelineOf, type TimelineSpan, type SpanKind } from './history/timeline.js';
export { WorkflowHandle } from './client/workflow-handle.js';
export type { ResetOptions } from './client/workflow-reset.js';
export type { WorkflowTimeoutOptions } from './history/workflow-timeouts.js';
export { WorkflowUpdateHandle } from './client/workflow-updates.js';
export { ActivityCompletionClient, ActivityNotAwaitingError } from './client/activity-completion.js';
export { InvalidTaskTokenError } from './activities/task-token.js';
export { runMethod, type RunArgs, type RunResult, type HandlerName, type HandlerArgs, type HandlerResult } from './client/typed-handles.js';
export { WorkflowInputValidationError } from './client/input-validation.js';
export type { WorkflowDescription, PendingActivity, PendingTimer, CompensationRecord } from './client/workflow-description.js';
export { DurableQueues, type TaskQueueQueues, type PartitionQueues } from './queues/durable-queues.js';
export type { PayloadCodec } from './payload/data-converter.js';
export { AesGcmCodec, encryptedKeyId, type AesGcmCodecOptions, type EncryptionKey } from './payload/aes-gcm-codec.js';
export { previewPayload, type PayloadPreview } from './payload/payload-preview.js';
export type { Duration } from './common/duration.js';
export * from './errors/index.js';
export { ScheduleClient } from './schedules/schedule-client.js';
export type {
  ScheduleOptions, ScheduleSpec, ScheduleAction, SchedulePolicies, ScheduleOverlapPolicy, ScheduleUpdate, BackfillOptions, TriggerOptions,
  ScheduleActionRecord, ScheduleRunningWorkflow, ScheduleDescription, ScheduleSummary,
} from './schedules/schedule-options.js';
