import { RedisUnavailableError, WorkflowNotFoundError } from '../core/errors/library.errors.js';
import { WorkflowNotRunningError } from '../core/errors/workflow-control.js';
import { WorkflowFailedError } from '../core/errors/temporal-failure.js';
import { ListQueryError } from '../core/errors/search.errors.js';
import { ScheduleNotFoundError } from '../core/errors/schedule.errors.js';

/** Exit codes of the `redurable` command, for scripts. */
export const EXIT = {
  ok: 0,
  /** Anything not listed below (the message says what). */
  error: 1,
  /** A bad command line: unknown command or option, missing argument, unparsable value (a `--query` too). */
  usage: 2,
  /** No workflow (or schedule) with that id. */
  notFound: 3,
  /** signal, cancel or terminate of a workflow that is not running. */
  notRunning: 4,
  redisUnavailable: 5,
  /** `result` of a workflow that failed, was cancelled, terminated or timed out. */
  workflowFailed: 6,
} as const;

/** The exit code for an error a command threw. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof WorkflowNotFoundError || err instanceof ScheduleNotFoundError) return EXIT.notFound;
  if (err instanceof ListQueryError) return EXIT.usage;
  if (err instanceof WorkflowNotRunningError) return EXIT.notRunning;
  if (err instanceof RedisUnavailableError) return EXIT.redisUnavailable;
  if (err instanceof WorkflowFailedError) return EXIT.workflowFailed;
  return EXIT.error;
}
