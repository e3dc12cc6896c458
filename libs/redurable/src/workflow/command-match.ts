import { deserializeFailure } from '../core/errors/failure-codec.js';
import { ActivityFailure, CompensationFailure } from '../core/errors/temporal-failure.js';
import { CancelledFailure, ChildWorkflowFailure } from '../core/errors/workflow-control.js';
import type {
  ActivityTaskFailed,
  ChildWorkflowFailed,
  ChildWorkflowScheduled,
  CommandEvent,
  HistoryEvent,
  NewCommand,
} from '../core/events.js';
import type { ScopeState } from './scopes.js';

/** How the run ends, once the code has returned or thrown. `continued` carries the next run's input. */
export type Closing =
  | { status: 'completed'; value: string }
  | { status: 'failed' | 'compensation_failed' | 'canceled'; value: string }
  | { status: 'continued'; value: string; input: string[] };

/** The history event that records a closing. */
export function closeTypeOf(status: Closing['status']): HistoryEvent['type'] {
  switch (status) {
    case 'completed':
      return 'WorkflowExecutionCompleted';
    case 'canceled':
      return 'WorkflowExecutionCanceled';
    case 'continued':
      return 'WorkflowExecutionContinuedAsNew';
    default:
      return 'WorkflowExecutionFailed';
  }
}

/** Whether the code's command is the one the history recorded at its sequence number. */
export function sameCommand(recorded: CommandEvent, cmd: NewCommand): boolean {
  if (recorded.type !== cmd.type) return false;
  if (recorded.type === 'ActivityTaskScheduled' && cmd.type === 'ActivityTaskScheduled')
    return recorded.activityType === cmd.activityType;
  if (recorded.type === 'MarkerRecorded' && cmd.type === 'MarkerRecorded')
    return recorded.name === cmd.name && (cmd.name !== 'patch' || recorded.value === cmd.value);
  if (recorded.type === 'ChildWorkflowScheduled' && cmd.type === 'ChildWorkflowScheduled')
    return recorded.workflowType === cmd.workflowType;
  if (recorded.type === 'WorkflowUpdateCompleted' && cmd.type === 'WorkflowUpdateCompleted')
    return recorded.updateId === cmd.updateId;
  return true;
}

export function scopeCancelled(workflowId: string, scope: ScopeState): CancelledFailure {
  return new CancelledFailure(
    `A cancellation scope of workflow '${workflowId}' was cancelled${scope.reason ? `: ${scope.reason}` : ''}`,
  );
}

/** A rejected promise that does not count as unhandled (workflow code may never await it). */
export function rejected<T>(err: Error): Promise<T> {
  const p = Promise.reject(err);
  p.catch(() => undefined);
  return p;
}

/** Waits until the microtask queue is empty, so each delivered event settles before the next. */
export const drainMicrotasks = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What a workflow's `await` of an activity rejects with when the activity failed for good. */
export function activityFailureOf(event: ActivityTaskFailed): ActivityFailure {
  const failure = deserializeFailure(event.failure);
  if (failure instanceof ActivityFailure) return failure;
  return new ActivityFailure(event.failure.message, '', event.seq, 'NON_RETRYABLE_FAILURE', event.attempt, failure);
}

/** What a workflow's `await` of a child rejects with when the child did not complete. */
export function childFailureOf(
  event: ChildWorkflowFailed,
  cmd: NewCommand & ChildWorkflowScheduledCommand,
): ChildWorkflowFailure {
  const { workflowId, workflowType } = cmd;
  return new ChildWorkflowFailure(
    `Child workflow '${workflowId}' ${event.status}: ${event.failure.message}`,
    workflowId,
    workflowType,
    event.status,
    deserializeFailure(event.failure),
  );
}

type ChildWorkflowScheduledCommand = Pick<ChildWorkflowScheduled, 'workflowId' | 'workflowType'>;

/** How a run that threw `err` ends: a saga that could not undo, a cancellation that was requested, or a failure. */
export function failedStatusOf(err: unknown, cancelRequested: boolean): 'compensation_failed' | 'canceled' | 'failed' {
  if (err instanceof CompensationFailure) return 'compensation_failed';
  return err instanceof CancelledFailure && cancelRequested ? 'canceled' : 'failed';
}

export function assertNever(x: never): never {
  throw new Error(`Unhandled history event ${(x as HistoryEvent).type}`);
}
