import type { Type } from '../core/types.js';
import * as errors from '../core/errors/index.js';
import type { RedurableError } from '../core/errors/index.js';

/**
 * The HTTP status of each library error, as `RedurableExceptionFilter` answers it: 404 for what
 * does not exist, 409 for a state that forbids the call, 400 for bad input, 503 when the call
 * could not reach Redis or a worker, 500 for faults (and any error not listed).
 */
export const ERROR_STATUSES: ReadonlyArray<readonly [Type<RedurableError>, number]> = [
  // Not found
  [errors.WorkflowNotFoundError, 404],
  [errors.ScheduleNotFoundError, 404],
  [errors.UpdateNotFoundError, 404],
  // Conflict: the workflow's or schedule's state forbids the call
  [errors.WorkflowNotRunningError, 409],
  [errors.WorkflowAlreadyStartedError, 409],
  [errors.WorkflowIdReuseError, 409],
  [errors.WorkflowUpdateRejectedError, 409],
  [errors.UpdateContentionError, 409],
  [errors.ScheduleAlreadyExistsError, 409],
  [errors.ScheduleBusyError, 409],
  [errors.ActivityNotAwaitingError, 409],
  [errors.WorkflowRunChangedError, 409],
  // Bad input
  [errors.InvalidOptionsError, 400],
  [errors.InvalidArgumentError, 400],
  [errors.InvalidDurationError, 400],
  [errors.WorkflowInputValidationError, 400],
  [errors.UnknownWorkflowTypeError, 400],
  [errors.UnknownSignalError, 400],
  [errors.UnknownQueryError, 400],
  [errors.UnknownUpdateError, 400],
  [errors.ListQueryError, 400],
  [errors.InvalidSearchAttributeError, 400],
  [errors.InvalidScheduleError, 400],
  [errors.InvalidResetPointError, 400],
  [errors.InvalidTaskTokenError, 400],
  [errors.PayloadTooLargeError, 413],
  [errors.PayloadError, 400],
  // The update was accepted and its handler threw: the workflow's own answer
  [errors.WorkflowUpdateFailedError, 422],
  // Unavailable: Redis, or a process that can answer
  [errors.RedisUnavailableError, 503],
  [errors.QueryUnavailableError, 503],
  [errors.UpdateUnavailableError, 503],
  [errors.NoWorkerAnsweredError, 503],
  // Faults: in the app's setup, its workflow code, or its data
  [errors.RedisConfigurationError, 500],
  [errors.KeyLayoutMismatchError, 500],
  [errors.CorruptHistoryError, 500],
  [errors.NonDeterminismError, 500],
  [errors.ReplayCheckError, 500],
  [errors.DeterminismViolationError, 500],
  [errors.QueryMutationError, 500],
  [errors.LeaseLostError, 500],
  [errors.DuplicateRegistrationError, 500],
  [errors.InvalidWorkflowClassError, 500],
  [errors.NotInWorkflowContextError, 500],
  [errors.NotInActivityContextError, 500],
];

/** The HTTP status for `err`: its class's (or nearest listed ancestor's) in `ERROR_STATUSES`, else 500. */
export function httpStatusOf(err: RedurableError): number {
  // Subclasses come before their parents in the table (PayloadTooLargeError before PayloadError).
  return ERROR_STATUSES.find(([type]) => err instanceof type)?.[1] ?? 500;
}
