import {
  ActivityNotAwaitingError,
  InvalidArgumentError,
  InvalidDurationError,
  InvalidTaskTokenError,
  RedisUnavailableError,
  UnknownWorkflowTypeError,
  WorkflowAlreadyStartedError,
  WorkflowNotFoundError,
} from '../core/errors/library.errors.js';
import { WorkflowNotRunningError } from '../core/errors/workflow-control.js';
import { WorkflowFailedError } from '../core/errors/temporal-failure.js';
import { ListQueryError } from '../core/errors/search.errors.js';
import {
  InvalidScheduleError,
  ScheduleAlreadyExistsError,
  ScheduleNotFoundError,
} from '../core/errors/schedule.errors.js';
import { WorkflowIdReuseError } from '../core/errors/id-policy.errors.js';
import { NoDataUnderPrefixError } from './prefix-data.js';
import { NoWorkerAnsweredError } from '../core/errors/remote.errors.js';

/** Exit codes of the `redurable` command, for scripts. */
export const EXIT = {
  ok: 0,
  /** Anything not listed below (the message says what). */
  error: 1,
  /**
   * A bad command line or bad input: unknown command or option, missing argument, unparsable
   * value (a `--query` too), an unknown workflow type, an invalid schedule file, a task token
   * that is not one (or the wrong `--task-token-secret`). Nothing was written.
   */
  usage: 2,
  /** No workflow (or schedule) with that id, or no Redurable data under the prefix at all. */
  notFound: 3,
  /** signal, cancel or terminate of a workflow that is not running; completion of an activity that no longer waits for one. */
  notRunning: 4,
  redisUnavailable: 5,
  /** `result` of a workflow that failed, was cancelled, terminated or timed out. */
  workflowFailed: 6,
  /** `workflow start` of an id that is running (or whose reuse policy refuses a new run); `schedule create` of an id that exists. */
  alreadyExists: 7,
  /** `workflow query` or `update`: no worker serving the workflow's task queue answered within `--timeout`. */
  noWorker: 8,
} as const;

/** The exit code for an error a command threw. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof WorkflowNotFoundError || err instanceof ScheduleNotFoundError) return EXIT.notFound;
  if (err instanceof NoDataUnderPrefixError) return EXIT.notFound;
  if (
    err instanceof ListQueryError ||
    err instanceof UnknownWorkflowTypeError ||
    err instanceof InvalidScheduleError ||
    err instanceof InvalidTaskTokenError ||
    err instanceof InvalidArgumentError ||
    err instanceof InvalidDurationError
  )
    return EXIT.usage;
  if (err instanceof WorkflowNotRunningError || err instanceof ActivityNotAwaitingError) return EXIT.notRunning;
  if (err instanceof RedisUnavailableError) return EXIT.redisUnavailable;
  if (err instanceof WorkflowFailedError) return EXIT.workflowFailed;
  if (
    err instanceof WorkflowAlreadyStartedError ||
    err instanceof WorkflowIdReuseError ||
    err instanceof ScheduleAlreadyExistsError
  )
    return EXIT.alreadyExists;
  if (err instanceof NoWorkerAnsweredError) return EXIT.noWorker;
  return EXIT.error;
}
