import {
  ActivityFailure,
  ApplicationFailure,
  CompensationFailure,
  type DurableFailure,
  TimeoutFailure,
  WorkflowFailedError,
  type NotUndoneStep,
  type RetryState,
  type TimeoutType,
} from './temporal-failure.js';
import { CancelledFailure, ChildWorkflowFailure } from './workflow-control.js';

/** The JSON form of a failure as it is stored in history. */
export interface SerializedFailure {
  kind: 'application' | 'activity' | 'timeout' | 'workflow' | 'compensation' | 'cancelled' | 'child';
  message: string;
  /** ApplicationFailure type: the original error's name. */
  type?: string;
  stack?: string;
  nonRetryable?: boolean;
  details?: unknown[];
  activityType?: string;
  activityId?: number;
  retryState?: RetryState;
  attempt?: number;
  timeoutType?: TimeoutType;
  notUndone?: NotUndoneStep[];
  workflowId?: string;
  workflowType?: string;
  status?: string;
  cause?: SerializedFailure;
}

function errorType(err: Error): string {
  if (err instanceof ApplicationFailure) return err.type;
  return err.name && err.name !== 'Error' ? err.name : err.constructor?.name || 'Error';
}

/** Converts anything thrown into its stored form, keeping type, message, stack and cause chain. */
export function serializeFailure(thrown: unknown, depth = 0): SerializedFailure {
  const err =
    thrown instanceof Error ? thrown : new Error(typeof thrown === 'string' ? thrown : JSON.stringify(thrown));
  const base = { message: err.message, stack: err.stack };
  const cause = err.cause instanceof Error && depth < 8 ? serializeFailure(err.cause, depth + 1) : undefined;
  if (err instanceof ActivityFailure) {
    return {
      ...base,
      kind: 'activity',
      activityType: err.activityType,
      activityId: err.activityId,
      retryState: err.retryState,
      attempt: err.attempt,
      cause,
    };
  }
  if (err instanceof CancelledFailure) return { ...base, kind: 'cancelled', cause };
  if (err instanceof ChildWorkflowFailure)
    return {
      ...base,
      kind: 'child',
      workflowId: err.workflowId,
      workflowType: err.workflowType,
      status: err.status,
      cause,
    };
  if (err instanceof CompensationFailure) return { ...base, kind: 'compensation', notUndone: err.notUndone, cause };
  if (err instanceof TimeoutFailure) return { ...base, kind: 'timeout', timeoutType: err.timeoutType, cause };
  if (err instanceof WorkflowFailedError) return { ...base, kind: 'workflow', cause };
  const app = err instanceof ApplicationFailure ? err : undefined;
  return {
    ...base,
    kind: 'application',
    type: errorType(err),
    nonRetryable: app?.nonRetryable ?? false,
    details: app?.details ?? [],
    cause,
  };
}

/** Rebuilds the failure class from its stored form (used on replay and by `result()`). */
export function deserializeFailure(f: SerializedFailure): DurableFailure {
  const cause = f.cause ? deserializeFailure(f.cause) : undefined;
  let out: DurableFailure;
  switch (f.kind) {
    case 'activity':
      out = new ActivityFailure(
        f.message,
        f.activityType ?? '',
        f.activityId ?? 0,
        f.retryState ?? 'NON_RETRYABLE_FAILURE',
        f.attempt ?? 0,
        cause,
      );
      break;
    case 'timeout':
      out = new TimeoutFailure(f.message, f.timeoutType ?? 'START_TO_CLOSE');
      break;
    case 'cancelled':
      out = new CancelledFailure(f.message, { cause });
      break;
    case 'child':
      out = new ChildWorkflowFailure(f.message, f.workflowId ?? '', f.workflowType ?? '', f.status ?? 'failed', cause);
      break;
    case 'compensation':
      out = new CompensationFailure(f.message, f.notUndone ?? [], cause);
      break;
    case 'workflow':
      out = new WorkflowFailedError(f.message, '', '', cause);
      break;
    default:
      out = new ApplicationFailure(f.message, f.type ?? 'Error', f.nonRetryable ?? false, f.details ?? [], cause);
  }
  if (f.stack) out.stack = f.stack;
  return out;
}
