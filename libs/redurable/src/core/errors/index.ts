export { RedurableError } from './redurable.error.js';
export {
  DurableFailure,
  ApplicationFailure,
  ActivityFailure,
  TimeoutFailure,
  WorkflowFailedError,
  CompensationFailure,
  type ApplicationFailureOptions,
  type RetryState,
  type TimeoutType,
  type NotUndoneStep,
} from './temporal-failure.js';
export {
  InvalidOptionsError,
  UnknownWorkflowTypeError,
  DuplicateRegistrationError,
  WorkflowAlreadyStartedError,
  WorkflowNotFoundError,
  PayloadError,
  PayloadTooLargeError,
  NotInWorkflowContextError,
  NotInActivityContextError,
  LeaseLostError,
  NonDeterminismError,
  RedisUnavailableError,
  RedisConfigurationError,
  InvalidWorkflowClassError,
  WorkflowRunChangedError,
  CorruptHistoryError,
  KeyLayoutMismatchError,
  InvalidDurationError,
  InvalidArgumentError,
  InvalidTaskTokenError,
  ActivityNotAwaitingError,
  WorkflowInputValidationError,
} from './library.errors.js';
export type { SerializedFailure } from './failure-codec.js';
export {
  CancelledFailure,
  ChildWorkflowFailure,
  QueryMutationError,
  UnknownQueryError,
  UnknownSignalError,
  WorkflowNotRunningError,
} from './workflow-control.js';
export { WorkflowIdReuseError, QueryUnavailableError } from './id-policy.errors.js';
export {
  UnknownUpdateError,
  WorkflowUpdateRejectedError,
  WorkflowUpdateFailedError,
  UpdateNotFoundError,
  UpdateUnavailableError,
  UpdateContentionError,
} from './update.errors.js';
export { InvalidResetPointError } from './reset.errors.js';
export { NoWorkerAnsweredError, type WorkerMessageKind } from './remote.errors.js';
export { DeterminismViolationError } from './determinism.errors.js';
export {
  InvalidScheduleError,
  ScheduleAlreadyExistsError,
  ScheduleNotFoundError,
  ScheduleBusyError,
} from './schedule.errors.js';
export { InvalidSearchAttributeError, ListQueryError } from './search.errors.js';
export type { Divergence, DivergenceRow } from './divergence.js';
export { ReplayCheckError } from './replay-check.errors.js';
