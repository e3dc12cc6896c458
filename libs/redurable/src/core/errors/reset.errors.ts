import { RedurableError } from './redurable.error.js';

/**
 * `handle.reset()` was given a point it cannot reset to (an event id out of range, an event that
 * is a command or ends the run, or a run that is not the workflow's current one). Nothing was written.
 */
export class InvalidResetPointError extends RedurableError {
  constructor(
    readonly workflowId: string,
    readonly runId: string,
    problem: string,
  ) {
    super(`Cannot reset workflow '${workflowId}' (run ${runId}): ${problem}. Nothing was written`);
  }
}
