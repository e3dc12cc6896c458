import { currentActivation } from './context.js';

/** What `workflowLogger()` returns. */
export interface WorkflowLogger {
  log(message: string): void;
  warn(message: string): void;
  /** `error` gives its stack (an Error) to the logger. */
  error(message: string, error?: unknown): void;
  debug(message: string): void;
}

/**
 * A logger for workflow code, replay-aware: each line is printed once, when the code first runs
 * it, and never while a worker replays the workflow's history (after a restart, a cache
 * eviction). Lines go to the module's logger (Nest's `Logger` unless `logger` says otherwise),
 * each prefixed with the workflow's type, id and run id:
 * `OrderWorkflow order-42 (run 5f0c…): stock reserved`. A workflow task that fails before it
 * commits logs its lines again when it is retried.
 *
 * @example
 * const log = workflowLogger();
 * log.log(`charging ${amount}`);
 */
export function workflowLogger(): WorkflowLogger {
  const activation = currentActivation('workflowLogger()');
  const { workflowType, workflowId, runId } = activation.info;
  const line = (message: string) => `${workflowType} ${workflowId} (run ${runId}): ${message}`;
  return {
    log: (message) => activation.logs.write('log', line(message)),
    warn: (message) => activation.logs.write('warn', line(message)),
    error: (message, error) =>
      activation.logs.write('error', line(message), error instanceof Error ? error.stack : undefined),
    debug: (message) => activation.logs.write('debug', line(message)),
  };
}
