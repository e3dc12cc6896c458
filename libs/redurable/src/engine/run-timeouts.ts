import { crashPoint } from '../core/crash-points.js';
import type { Logger, RunClosing } from '../core/ports/index.js';
import type { RunDeadline } from '../core/workflow-timeouts.js';
import type { WorkflowWrites } from '../queues/workflow-writes.js';

export interface RunTimeoutsDeps {
  writes: WorkflowWrites;
  runs: RunClosing;
  logger: Logger;
}

/** Closes runs past their workflow timeout: its timeout job fired, or the sweep found the job lost. */
export class RunTimeouts {
  constructor(private readonly deps: RunTimeoutsDeps) {}

  async timeOut(
    workflowId: string,
    runId: string,
    deadline: Pick<RunDeadline, 'timeoutType' | 'timeoutMs'>,
  ): Promise<void> {
    const { writes, runs, logger } = this.deps;
    if (!(await writes.timeOut(workflowId, runId, deadline))) return;
    crashPoint('timeout.after-close');
    await runs.closedFromOutside(workflowId, runId);
    const option = deadline.timeoutType === 'WORKFLOW_RUN' ? 'workflowRunTimeout' : 'workflowExecutionTimeout';
    logger.log(`Workflow ${workflowId} (run ${runId}) timed out: it ran past its ${option} of ${deadline.timeoutMs}ms`);
  }
}
