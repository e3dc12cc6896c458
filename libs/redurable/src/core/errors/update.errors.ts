import { RedurableError } from './redurable.error.js';

/** An update the workflow's class has no `@Update` handler for; nothing was recorded. */
export class UnknownUpdateError extends RedurableError {
  constructor(
    readonly workflowId: string,
    readonly workflowType: string,
    readonly updateName: string,
    known: string[],
  ) {
    super(
      `Workflow '${workflowId}' (${workflowType}) has no update '${updateName}': known updates are ${known.join(', ') || '(none)'}. ` +
        'Nothing was recorded; add an @Update() method of that name to the workflow class, or fix the name',
    );
  }
}

/** The update's validator refused it (`cause` is what it threw); nothing was recorded. */
export class WorkflowUpdateRejectedError extends RedurableError {
  constructor(
    readonly workflowId: string,
    readonly updateName: string,
    cause: Error,
  ) {
    super(
      `Update '${updateName}' of workflow '${workflowId}' was rejected by its validator: ${cause.message}. Nothing was recorded`,
      { cause },
    );
  }
}

/**
 * An accepted update did not return a value: its handler threw (`cause`), or the run closed
 * before the handler finished (the workflow should wait for its handlers, see `allHandlersFinished`).
 */
export class WorkflowUpdateFailedError extends RedurableError {
  constructor(
    message: string,
    readonly workflowId: string,
    readonly runId: string,
    readonly updateId: string,
    cause?: Error,
  ) {
    super(message, { cause });
  }
}

/** No update with this id was accepted by the workflow's run (`getUpdateHandle(id).result()`). */
export class UpdateNotFoundError extends RedurableError {
  constructor(
    readonly workflowId: string,
    readonly updateId: string,
  ) {
    super(`Workflow '${workflowId}' has no update with id '${updateId}'`);
  }
}

/** An update to a workflow whose class this process does not register: its validator cannot run here, so nothing was recorded. */
export class UpdateUnavailableError extends RedurableError {}

/**
 * The workflow's history kept growing while the update was validated (other updates, signals,
 * outcomes arriving), for longer than the update waits: nothing was recorded; send it again.
 */
export class UpdateContentionError extends RedurableError {
  constructor(
    readonly workflowId: string,
    readonly updateName: string,
    waitedMs: number,
  ) {
    super(
      `Update '${updateName}' of workflow '${workflowId}' was not recorded: the workflow's history changed under every validation for ${waitedMs} ms. Nothing was recorded; send it again`,
    );
  }
}
