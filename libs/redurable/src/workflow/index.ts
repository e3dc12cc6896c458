/**
 * `redurable/workflow`: what may run inside workflow code (a `@WorkflowRun` method, its signal,
 * query and update handlers, and what they call). Every call here is recorded in the workflow's
 * history and replayed, so it is deterministic; outside workflow code each throws a
 * NotInWorkflowContextError. The client, the Nest module and the decorators are in `redurable`.
 *
 * @packageDocumentation
 *
 * @example
 * import { proxyActivities, sleep, condition } from 'redurable/workflow';
 */
export {
  proxyActivities,
  executeActivity,
  proxyLocalActivities,
  executeLocalActivity,
  sleep,
  sideEffect,
  uuid4,
  workflowInfo,
  upsertSearchAttributes,
  type ActivityProxy,
} from './workflow-api.js';
export type { WorkflowInfo } from './context.js';
export { workflowLogger, type WorkflowLogger } from './workflow-logger.js';
export { CancellationScope } from './cancellation-scope.js';
export {
  condition,
  patched,
  deprecatePatch,
  continueAsNew,
  nonCancellable,
  isCancellationRequested,
  allHandlersFinished,
  withTimeout,
  startChild,
  executeChild,
  type ChildWorkflowOptions,
  type ChildWorkflowHandle,
} from './workflow-control-api.js';
export { Saga, type SagaOptions } from './saga.js';
export type { ActivityCallOptions, LocalActivityOptions } from '../core/definitions/metadata.js';
export type { Duration } from '../core/duration.js';
export type { SearchAttributes, SearchAttributeValue } from '../core/search/search-attributes.js';
// The failures workflow code throws and catches (also exported by `redurable`, for callers).
export {
  DurableFailure,
  ApplicationFailure,
  ActivityFailure,
  TimeoutFailure,
  CompensationFailure,
  type ApplicationFailureOptions,
  type RetryState,
  type TimeoutType,
  type NotUndoneStep,
} from '../core/errors/temporal-failure.js';
export { CancelledFailure, ChildWorkflowFailure } from '../core/errors/workflow-control.js';
