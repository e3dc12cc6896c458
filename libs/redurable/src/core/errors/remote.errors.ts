import { RedurableError } from './redurable.error.js';

/** What a process without the workflow's class asks a worker for. */
export type WorkerMessageKind = 'query' | 'update';

/**
 * A query or update sent by a process that does not register the workflow's class (the command
 * line, the console, a client-only app) got no answer in time from a worker serving the
 * workflow's task queue: none runs, none has the class, or all are too busy. For an update,
 * `taken` says whether a worker had taken the request (then it may have been recorded; send it
 * again with the same update id to find out) or not (then nothing was recorded).
 */
export class NoWorkerAnsweredError extends RedurableError {
  constructor(
    readonly kind: WorkerMessageKind,
    readonly workflowId: string,
    readonly runId: string,
    readonly workflowType: string,
    /** The query's or update's name. */
    readonly messageName: string,
    readonly taskQueue: string,
    readonly timeoutMs: number,
    /** Whether a worker took the request before the time ran out. */
    readonly taken: boolean,
    /** The update's id (updates only). */
    readonly updateId?: string,
  ) {
    const head = `No worker serving task queue '${taskQueue}' answered ${kind} '${messageName}' of workflow '${workflowId}' (run ${runId}) within ${timeoutMs} ms`;
    const advice =
      `This process does not register the workflow's class (${workflowType}), so a worker that does must answer: ` +
      `start one for task queue '${taskQueue}' (DurableModule.forFeature([${workflowType}])), ` +
      `or register the class in this process to ${kind} it here`;
    const outcome = !taken
      ? kind === 'update'
        ? '. Nothing was recorded. '
        : '. '
      : kind === 'update'
        ? `: a worker took the request but did not answer in time, so the update may have been recorded. Await handle.getUpdateHandle('${updateId}').result(), or send it again with startUpdateWithId('${updateId}', ...), which records it at most once. `
        : ': a worker took the request but did not answer in time (a long replay, or a busy worker). ';
    super(`${head}${outcome}${advice}`);
  }
}
