import { DurableFailure } from './temporal-failure.js';
import { RedurableError } from './redurable.error.js';

/**
 * The workflow was cancelled (`handle.cancel()`). Pending durable calls reject with it, and so
 * do new ones outside `nonCancellable()`. Catch it to clean up; a workflow that ends by
 * throwing it is closed as `canceled`.
 */
export class CancelledFailure extends DurableFailure {}

/** A child workflow ended without completing; `cause` is its failure. */
export class ChildWorkflowFailure extends DurableFailure {
  constructor(
    message: string,
    readonly workflowId: string,
    readonly workflowType: string,
    readonly status: string,
    cause?: Error,
  ) {
    super(message, { cause });
  }
}

/** Thrown by `continueAsNew()` to end the run; the library starts the next one. Do not catch it. */
export class ContinueAsNew extends Error {
  constructor(readonly args: unknown[]) {
    super('continue-as-new');
    this.name = 'ContinueAsNew';
  }
}

/** A query handler tried to schedule work (queries are read-only). */
export class QueryMutationError extends RedurableError {}

/** `handle.query()` named a query the workflow class does not declare. */
export class UnknownQueryError extends RedurableError {}

/** A signal the workflow's class (registered in this process) has no `@Signal` handler for; nothing was recorded. */
export class UnknownSignalError extends RedurableError {
  constructor(
    readonly workflowId: string,
    readonly workflowType: string,
    readonly signalName: string,
    known: string[],
  ) {
    super(
      `Workflow '${workflowId}' (${workflowType}) has no signal '${signalName}': known signals are ${known.join(', ') || '(none)'}. ` +
        'Nothing was recorded; add a @Signal() method of that name to the workflow class, or fix the name',
    );
  }
}

/** The workflow is not running (signal, cancel or terminate of a closed run). */
export class WorkflowNotRunningError extends RedurableError {
  constructor(
    readonly workflowId: string,
    readonly status: string,
    action: string,
  ) {
    super(`Cannot ${action} workflow '${workflowId}': it is ${status}, not running`);
  }
}
