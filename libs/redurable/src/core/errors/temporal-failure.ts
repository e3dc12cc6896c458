/**
 * Root of the failure hierarchy that crosses the workflow boundary: everything a
 * workflow can catch from a durable call, and what a failed workflow's `result()` rejects with.
 */
export class DurableFailure extends Error {
  constructor(message: string, options?: { cause?: Error }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Options of {@link ApplicationFailure.create}. */
export interface ApplicationFailureOptions {
  message: string;
  /** A type name; retry policies match it against `nonRetryableErrorTypes`. @default 'Error' */
  type?: string;
  /** When true the activity is not retried, whatever its retry policy. @default false */
  nonRetryable?: boolean;
  /** Extra data for the catcher; must be serializable. */
  details?: unknown[];
  cause?: Error;
}

/**
 * A failure raised by user code. Any error thrown by an activity reaches the workflow as the
 * `cause` of an {@link ActivityFailure}, converted to an ApplicationFailure that keeps its
 * `type` (the original error's name), message and stack.
 *
 * @example
 * throw ApplicationFailure.nonRetryable('account is frozen', 'AccountFrozen');
 */
export class ApplicationFailure extends DurableFailure {
  readonly type: string;
  readonly nonRetryable: boolean;
  readonly details: unknown[];

  constructor(message: string, type = 'Error', nonRetryable = false, details: unknown[] = [], cause?: Error) {
    super(message, { cause });
    this.type = type;
    this.nonRetryable = nonRetryable;
    this.details = details;
  }

  static create(options: ApplicationFailureOptions): ApplicationFailure {
    return new ApplicationFailure(options.message, options.type, options.nonRetryable, options.details, options.cause);
  }

  /** A failure that is retried according to the activity's retry policy. */
  static retryable(message: string, type?: string, ...details: unknown[]): ApplicationFailure {
    return new ApplicationFailure(message, type, false, details);
  }

  /** A failure that is never retried: the activity fails at once. */
  static nonRetryable(message: string, type?: string, ...details: unknown[]): ApplicationFailure {
    return new ApplicationFailure(message, type, true, details);
  }
}

/** Why an activity stopped being retried. */
export type RetryState = 'NON_RETRYABLE_FAILURE' | 'MAXIMUM_ATTEMPTS_REACHED' | 'TIMEOUT';

/** What a workflow catches when an activity failed for good. `cause` is the activity's last error. */
export class ActivityFailure extends DurableFailure {
  constructor(
    message: string,
    readonly activityType: string,
    readonly activityId: number,
    readonly retryState: RetryState,
    readonly attempt: number,
    cause?: Error,
  ) {
    super(message, { cause });
  }
}

/**
 * Which timeout fired: one of an activity's, the one `withTimeout` gave a scope of workflow
 * code, or a workflow's own (`workflowExecutionTimeout`, `workflowRunTimeout`).
 */
export type TimeoutType =
  'START_TO_CLOSE' | 'SCHEDULE_TO_CLOSE' | 'HEARTBEAT' | 'SCOPE' | 'WORKFLOW_EXECUTION' | 'WORKFLOW_RUN';

/** An activity attempt (or the whole activity) ran past one of its timeouts, `withTimeout`'s time ran out, or a workflow passed its own timeout. */
export class TimeoutFailure extends DurableFailure {
  constructor(
    message: string,
    readonly timeoutType: TimeoutType,
  ) {
    super(message);
  }
}

/** A workflow execution failed; `cause` is the error the workflow threw. Rejected by `handle.result()`. */
export class WorkflowFailedError extends DurableFailure {
  constructor(
    message: string,
    readonly workflowId: string,
    readonly runId: string,
    cause?: Error,
  ) {
    super(message, { cause });
  }
}

/** One saga step whose compensation did not complete. */
export interface NotUndoneStep {
  /** What the step was (the forward activity's type, or the name given to the compensation). */
  step: string;
  /** Why it was not undone: the compensation's failure, or that it never ran. */
  reason: string;
}

/**
 * Thrown by `saga.compensate()` when a compensation still failed after its retries. A workflow
 * that ends with it is closed as `compensation_failed`, and `notUndone` lists every step
 * that was not undone, so nothing is dropped silently.
 */
export class CompensationFailure extends DurableFailure {
  constructor(
    message: string,
    readonly notUndone: NotUndoneStep[],
    cause?: Error,
  ) {
    super(message, { cause });
  }
}
