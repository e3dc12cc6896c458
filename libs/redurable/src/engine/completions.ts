import type { Clock } from '../core/ports/index.js';
import type { WorkflowWrites } from '../queues/workflow-writes.js';
import type { CompletionSink } from './activity-jobs.js';
import type { ServedQueues } from './served-queues.js';
import type { WorkflowTaskRunner } from './task-runner.js';

export interface CompletionsDeps {
  served: ServedQueues;
  runner: WorkflowTaskRunner;
  writes: WorkflowWrites;
  clock: Clock;
}

/**
 * Where activity and timer outcomes go: into the workflow's next task run in this process when
 * it serves the workflow's task queue (the steady-state step: outcome and next command in one
 * script), else recorded and the workflow woken. If the process dies during that task, BullMQ
 * restarts the job, which finds its outcome recorded and does not run the activity again; the
 * lease expires and the sweep resumes the workflow.
 */
export class Completions {
  constructor(private readonly deps: CompletionsDeps) {}

  readonly record: CompletionSink = async (target, event) => {
    const { served, runner, writes, clock } = this.deps;
    const { workflowId, runId, workflowTaskQueue, workflowPriority: priority } = target;
    if (served.has(workflowTaskQueue))
      return runner.complete(workflowId, runId, workflowTaskQueue, { ...event, ts: clock.now() }, priority);
    await writes.recordOutcome(
      { workflowId, runId, taskQueue: workflowTaskQueue, priority },
      event,
      'completion.after-append',
    );
  };
}
