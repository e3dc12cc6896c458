import { InvalidOptionsError } from './errors/library.errors.js';
import { serializeFailure } from './errors/failure-codec.js';
import { TimeoutFailure } from './errors/temporal-failure.js';
import { toMs, type Duration } from './duration.js';
import type { NewEvent, RecordedWorkflowTimeouts, WorkflowExecutionTimedOut } from './events.js';

/** A workflow's own timeouts, as `start()` and `startChild()` take them. */
export interface WorkflowTimeoutOptions {
  /**
   * How long the whole execution may take, across continue-as-new: past it, the run that is
   * open then is closed as `timed_out`. @default unlimited
   */
  workflowExecutionTimeout?: Duration;
  /** How long one run may take (each run of a continue-as-new chain gets it anew). @default unlimited */
  workflowRunTimeout?: Duration;
}

/** The deadline a run is closed at, and which timeout it comes from. */
export interface RunDeadline {
  at: number;
  timeoutType: WorkflowExecutionTimedOut['timeoutType'];
  /** The timeout it comes from, ms (for the message). */
  timeoutMs: number;
}

/** Reads the options into milliseconds; throws InvalidDurationError (or InvalidOptionsError for 0) before anything is written. */
export function timeoutsInMs(
  options: WorkflowTimeoutOptions,
  what: string,
): Pick<RecordedWorkflowTimeouts, 'executionTimeoutMs' | 'runTimeoutMs'> | undefined {
  const out: Pick<RecordedWorkflowTimeouts, 'executionTimeoutMs' | 'runTimeoutMs'> = {};
  for (const [name, key] of [
    ['workflowExecutionTimeout', 'executionTimeoutMs'],
    ['workflowRunTimeout', 'runTimeoutMs'],
  ] as const) {
    const value = options[name];
    if (value === undefined) continue;
    const ms = toMs(value);
    if (ms <= 0)
      throw new InvalidOptionsError(
        `Invalid ${name} ${JSON.stringify(value)} for ${what}: use a positive duration such as '1h', or leave it out for no limit`,
      );
    out[key] = ms;
  }
  return out.executionTimeoutMs === undefined && out.runTimeoutMs === undefined ? undefined : out;
}

/**
 * The timeouts recorded in a new run's started event: the execution deadline is inherited
 * (continue-as-new, reset) or set from `now`; the run deadline is always set from `now`.
 */
export function recordTimeouts(
  ms: Pick<RecordedWorkflowTimeouts, 'executionTimeoutMs' | 'runTimeoutMs'> | undefined,
  now: number,
  executionDeadline?: number,
): RecordedWorkflowTimeouts | undefined {
  if (!ms) return undefined;
  const out: RecordedWorkflowTimeouts = { ...ms };
  if (ms.executionTimeoutMs !== undefined) out.executionDeadline = executionDeadline ?? now + ms.executionTimeoutMs;
  if (ms.runTimeoutMs !== undefined) out.runDeadline = now + ms.runTimeoutMs;
  return out;
}

/** The earlier of a run's two deadlines, if it has any. */
export function deadlineOf(t: RecordedWorkflowTimeouts | undefined): RunDeadline | undefined {
  if (!t) return undefined;
  const execution =
    t.executionDeadline !== undefined
      ? { at: t.executionDeadline, timeoutType: 'WORKFLOW_EXECUTION' as const, timeoutMs: t.executionTimeoutMs ?? 0 }
      : undefined;
  const run =
    t.runDeadline !== undefined
      ? { at: t.runDeadline, timeoutType: 'WORKFLOW_RUN' as const, timeoutMs: t.runTimeoutMs ?? 0 }
      : undefined;
  if (execution && run) return run.at < execution.at ? run : execution;
  return execution ?? run;
}

/** The event that closes a run past its deadline; its failure is the TimeoutFailure `result()` rejects with (as the cause). */
export function timedOutEvent(
  workflowId: string,
  runId: string,
  deadline: Pick<RunDeadline, 'timeoutType' | 'timeoutMs'>,
): NewEvent & { type: 'WorkflowExecutionTimedOut' } {
  const option = deadline.timeoutType === 'WORKFLOW_RUN' ? 'workflowRunTimeout' : 'workflowExecutionTimeout';
  const failure = new TimeoutFailure(
    `Workflow '${workflowId}' (run ${runId}) timed out: it ran past its ${option} of ${deadline.timeoutMs}ms`,
    deadline.timeoutType,
  );
  return { type: 'WorkflowExecutionTimedOut', timeoutType: deadline.timeoutType, failure: serializeFailure(failure) };
}
