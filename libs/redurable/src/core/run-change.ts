import { WorkflowRunChangedError } from './errors/library.errors.js';

/** How often a write re-reads the current run when it changed under it before giving up. */
export const RUN_CHANGE_ATTEMPTS = 10;

/** What an attempt returns when the run it read is no longer the current one: read again and retry. */
export const RUN_CHANGED = Symbol('the run changed');

/**
 * Runs `attempt` (which reads the workflow's current run, then writes to it) until it does not
 * report RUN_CHANGED: a continue-as-new, a reset or a new start can move the workflow to another
 * run between the read and the write, and the write's script refuses a stale run. After
 * RUN_CHANGE_ATTEMPTS such refusals, a WorkflowRunChangedError naming `action`.
 */
export async function retryWhileRunChanges<T>(
  workflowId: string,
  action: string,
  attempt: (n: number) => Promise<T | typeof RUN_CHANGED>,
): Promise<T> {
  for (let n = 0; n < RUN_CHANGE_ATTEMPTS; n++) {
    const result = await attempt(n);
    if (result !== RUN_CHANGED) return result;
  }
  throw new WorkflowRunChangedError(workflowId, action, RUN_CHANGE_ATTEMPTS);
}
