/**
 * Redurable: durable execution for NestJS on Redis and BullMQ. This entry is what the app uses
 * around its workflows: the Nest module, the decorators, the client, `activityContext()` and the
 * errors. What runs inside workflow code (`proxyActivities`, `sleep`, `condition`, `Saga`...) is
 * in `redurable/workflow`; test helpers are in `redurable/testing`.
 *
 * @packageDocumentation
 */
export { DurableModule, type DurableModuleAsyncOptions, type DurableOptionsFactory } from './nest/durable.module.js';
export type { DurableModuleOptions } from './options.js';
/** What the module's `logger` option takes: Nest's `Logger` and `LoggerService` fit it. */
export type { Logger as RedurableLogger } from './core/ports/logger.js';
export { RedurableExceptionFilter, type RedurableErrorBody } from './nest/redurable-exception.filter.js';
export { ERROR_STATUSES, httpStatusOf } from './nest/error-statuses.js';
export type { MetricsOptions } from './observability/metrics.js';
export type { RedisConnectionOption, ClusterConnectionOption } from './store/connection-option.js';
export * from './core/definitions/index.js';
export type {
  SearchAttributeType,
  SearchAttributeDeclarations,
  SearchAttributeValue,
  SearchAttributes,
} from './core/search/search-attributes.js';
export { activityContext, type ActivityContext } from './engine/activity-context.js';
export type { RetryPolicy } from './core/retry-policy.js';
export { WorkflowClient, type StartWorkflowOptions, type SignalWithStartOptions } from './client/workflow-client.js';
export type { ListWorkflowsFilter, ListWorkflowsPage, WorkflowSummary } from './client/workflow-listing.js';
export type { SearchAttributeRange } from './core/search/list-plan.js';
export type { IdReusePolicy, IdConflictPolicy, WorkflowStatus } from './core/workflow-state.js';
export type { ParentClosePolicy, HistoryEvent, EventType } from './core/events.js';
export { timelineOf, type TimelineSpan, type SpanKind } from './core/timeline.js';
export { WorkflowHandle } from './client/workflow-handle.js';
export type { BuildUpdate } from './client/workflow-build.js';
export type { ResetOptions } from './client/workflow-reset.js';
export type { WorkflowTimeoutOptions } from './core/workflow-timeouts.js';
export { WorkflowUpdateHandle } from './client/workflow-updates.js';
export { ActivityCompletionClient } from './client/activity-completion.js';
export {
  runMethod,
  type RunArgs,
  type RunResult,
  type HandlerName,
  type HandlerArgs,
  type HandlerResult,
} from './client/typed-handles.js';
export type {
  WorkflowDescription,
  PendingActivity,
  PendingTimer,
  CompensationRecord,
} from './client/workflow-description.js';
export { DurableQueues, type TaskQueueQueues, type PartitionQueues } from './queues/durable-queues.js';
export type { PayloadCodec } from './core/payload/data-converter.js';
export {
  AesGcmCodec,
  encryptedKeyId,
  type AesGcmCodecOptions,
  type EncryptionKey,
} from './core/payload/aes-gcm-codec.js';
export { previewPayload, type PayloadPreview } from './core/payload/payload-preview.js';
export type { Duration } from './core/duration.js';
export type { ConcurrencyLimit, RateLimit, FlowKeyFunction } from './core/flow/flow-options.js';
export * from './core/errors/index.js';
export { ScheduleClient } from './client/schedules/schedule-client.js';
export type {
  ScheduleOptions,
  ScheduleSpec,
  ScheduleAction,
  SchedulePolicies,
  ScheduleOverlapPolicy,
  ScheduleUpdate,
  BackfillOptions,
  TriggerOptions,
  ScheduleActionRecord,
  ScheduleRunningWorkflow,
  ScheduleDescription,
  ScheduleSummary,
} from './core/schedules/schedule-options.js';
