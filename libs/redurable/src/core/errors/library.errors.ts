import { divergenceText, type Divergence } from './divergence.js';
import { RedurableError } from './redurable.error.js';

export { RedurableError };

/** Module options failed validation. The message names every bad option. */
export class InvalidOptionsError extends RedurableError {}

/**
 * A duration that is not one: a negative or non-finite number, or a string that is not a number
 * with a unit from milliseconds to days. In workflow code it fails the workflow task (retried
 * with backoff, shown by `describe()`), with nothing recorded, not the workflow.
 */
export class InvalidDurationError extends RedurableError {
  constructor(readonly value: unknown) {
    super(
      typeof value === 'string'
        ? `Invalid duration '${value}': use milliseconds or a string like '500ms', '30s', '5m', '2h', '3 days'`
        : `Invalid duration ${String(value)}: expected a non-negative number of milliseconds or a string like '30s'`,
    );
  }
}

/** A workflow type is not registered by any `@Workflow` class this app or a worker knows. */
export class UnknownWorkflowTypeError extends RedurableError {
  constructor(readonly workflowType: string) {
    super(
      `Unknown workflow type '${workflowType}': no process of this prefix registered it. Decorate the class with @Workflow() and register it in the worker's module with DurableModule.forFeature([${/^[A-Za-z_$][\w$]*$/.test(workflowType) ? workflowType : 'TheWorkflowClass'}]) (or its providers), or check the name`,
    );
  }
}

/** Two `@Workflow` classes or two `@Activity` methods registered the same name. */
export class DuplicateRegistrationError extends RedurableError {}

/** `start()` was called with the id of a workflow that is still running. Nothing was written. */
export class WorkflowAlreadyStartedError extends RedurableError {
  constructor(
    readonly workflowId: string,
    readonly runId: string,
  ) {
    super(
      `Workflow '${workflowId}' is already running (run ${runId}): pick another workflowId, or use getHandle('${workflowId}') to reach the running one`,
    );
  }
}

/** No workflow with that id exists. */
export class WorkflowNotFoundError extends RedurableError {
  constructor(
    readonly workflowId: string,
    /** Set when the workflow exists but has no run with this id. */
    readonly runId?: string,
  ) {
    super(
      runId
        ? `Workflow '${workflowId}' has no run '${runId}': check the run id (handle.runId, or the explorer's run list)`
        : `Workflow '${workflowId}' was not found: check the id, and that the client uses the same Redis and prefix as the worker`,
    );
  }
}

/** A value could not be encoded into, or decoded from, a payload. */
export class PayloadError extends RedurableError {}

/** A payload exceeds `maxPayloadBytes`. Nothing was written. */
export class PayloadTooLargeError extends PayloadError {}

/** A durable API (proxyActivities calls, sleep, uuid4, ...) was used outside workflow code. */
export class NotInWorkflowContextError extends RedurableError {
  constructor(api: string) {
    super(`${api} can only be called from workflow code (inside a @WorkflowRun method or what it calls)`);
  }
}

/** `activityContext()` was called outside an activity. */
export class NotInActivityContextError extends RedurableError {
  constructor() {
    super('activityContext() can only be called while an @Activity method is running');
  }
}

/** The worker lost the workflow's lease (another worker took over); its writes were refused. */
export class LeaseLostError extends RedurableError {}

/**
 * The workflow code no longer matches its recorded history. The workflow task is retried
 * (so a fixed deployment can resume it) and nothing is written.
 */
export class NonDeterminismError extends RedurableError {
  constructor(
    readonly workflowId: string,
    readonly runId: string,
    readonly eventId: number,
    readonly recorded: string,
    readonly produced: string,
    /** The events around the first mismatch, the history's side and the code's, and the code's call site when known. */
    readonly divergence?: Divergence,
  ) {
    super(
      `Non-deterministic workflow '${workflowId}' (run ${runId}) at history event #${eventId}: ` +
        `history recorded ${recorded}, but the code ${produced}. ` +
        'Check that your workflow is deterministic; to change a running workflow safely, deploy code that replays its existing history.' +
        (divergence ? `\n${divergenceText(divergence)}` : ''),
    );
  }
}

/**
 * Redis could not be reached within `connectTimeout` (at boot, or by a client call), or did
 * not answer a client call in that time. The message names the host and port (never a
 * password) and the last connection error.
 */
export class RedisUnavailableError extends RedurableError {
  constructor(
    readonly endpoint: string,
    message: string,
    cause?: unknown,
  ) {
    super(message, { cause });
  }
}

/** Redis is configured in a way that loses workflows (for example an evicting `maxmemory-policy`). */
export class RedisConfigurationError extends RedurableError {}

/** A `@Workflow` class cannot be used as written (for example its constructor takes parameters). */
export class InvalidWorkflowClassError extends RedurableError {}

/**
 * A write to a workflow (start, signal, cancel, terminate, child start) found its current run
 * replaced on every attempt (rapid continue-as-new or restarts of the same id), so it gave up.
 * Nothing was recorded; the call can be repeated.
 */
export class WorkflowRunChangedError extends RedurableError {
  constructor(
    readonly workflowId: string,
    action: string,
    attempts: number,
  ) {
    super(
      `Could not ${action} workflow '${workflowId}': its current run changed on each of ${attempts} attempts (continue-as-new or new starts of the same id); nothing was recorded, try again`,
    );
  }
}

/**
 * An entry of a workflow's history stream cannot be read (not valid JSON, or not an event).
 * Reading the history throws it; a worker records it as the workflow's task failure, which
 * `describe()` shows, and retries the task with backoff until the entry is repaired.
 */
export class CorruptHistoryError extends RedurableError {
  /** Set when the entry was read while taking the task lease (the worker releases it as failed). */
  leaseFence?: number;

  constructor(
    readonly workflowId: string,
    readonly runId: string,
    readonly streamEntryId: string,
    readonly problem: string,
  ) {
    super(
      `History of workflow '${workflowId}' (run ${runId}) is corrupt at stream entry ${streamEntryId}: ${problem}. ` +
        'Its workflow tasks fail until the entry is repaired; other workflows are not affected',
    );
  }
}

/**
 * The data under the prefix uses a key layout this version of Redurable does not (written by
 * a newer or an older version). Nothing was written; upgrade the app, or use another prefix.
 */
export class KeyLayoutMismatchError extends RedurableError {
  constructor(
    readonly prefix: string,
    readonly found: string,
    readonly expected: number,
  ) {
    const version = Number.parseInt(found, 10);
    super(
      `Redis prefix '${prefix}' holds data in key layout ${Number.isNaN(version) ? JSON.stringify(found) : version}, but this version of Redurable uses layout ${expected}: ` +
        (version > expected
          ? 'upgrade Redurable in this app to the version that wrote it'
          : 'let the workflows under that prefix finish (or terminate them) with the Redurable version that wrote them, then point this app at a new prefix; ' +
            'the two layouts cannot be mixed') +
        '. Nothing was written',
    );
  }
}

/**
 * No activity attempt waits for this token any more: it was completed or failed already, it
 * timed out (a retry, if any, has a new token), or its workflow closed. Nothing was recorded.
 */
export class ActivityNotAwaitingError extends RedurableError {
  constructor(
    readonly token: { workflowId: string; runId: string; seq: number; attempt: number },
    why: string,
  ) {
    super(
      `Activity seq ${token.seq} (attempt ${token.attempt}) of workflow '${token.workflowId}' (run ${token.runId}) is not waiting for completion: ${why}. Nothing was recorded`,
    );
  }
}

/** A workflow argument failed its class-validator DTO's rules. Nothing was written. */
export class WorkflowInputValidationError extends RedurableError {
  constructor(
    readonly workflowType: string,
    readonly argument: number,
    readonly errors: string[],
  ) {
    super(`Invalid argument ${argument} of workflow '${workflowType}': ${errors.join('; ')}`);
  }
}

/** A task token that is not one `completeAsync()` gave (cut, altered, or from another system). */
export class InvalidTaskTokenError extends RedurableError {}

/**
 * An argument of a call is not one it can take (a workflow id, an update id, a memo, a listing
 * cursor, what `saga.proxy()` wraps). Nothing was written; the message says what to pass.
 */
export class InvalidArgumentError extends RedurableError {}
