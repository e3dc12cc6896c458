import type { FirstTasks, HistoryReader, JobDispatcher, Lease, Logger } from '../core/ports/index.js';
import type { ServedQueues } from './served-queues.js';
import type { WorkflowTaskRunner } from './task-runner.js';

export interface EagerFirstTasksDeps {
  served: ServedQueues;
  runner: WorkflowTaskRunner;
  dispatcher: JobDispatcher;
  /** Reads the run's priority when its first task has to be enqueued after all. */
  histories: Pick<HistoryReader, 'getMeta'>;
  logger: Logger;
}

/**
 * Eager start: a run's first workflow task runs here, in the background, when this process
 * serves its task queue, under the lease the start took, so the start skips the job's round
 * trips (add, fetch, finish) and the lease's. Should the task fail to run (Redis unavailable,
 * say), a task job is enqueued after all; should the process die, the recovery sweep enqueues one.
 */
export class EagerFirstTasks implements FirstTasks {
  /** First tasks running here, awaited on shutdown. */
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly deps: EagerFirstTasksDeps) {}

  serves(taskQueue: string): boolean {
    const { served } = this.deps;
    return served.has(taskQueue) && !served.draining && !served.superseded.has(taskQueue);
  }

  runFirstTask(workflowId: string, runId: string, taskQueue: string, lease?: Lease): boolean {
    const { runner, dispatcher, histories, logger } = this.deps;
    if (!this.serves(taskQueue)) return false;
    const task: Promise<void> = runner
      .run(workflowId, runId, taskQueue, lease)
      .catch(async (err: Error) => {
        logger.warn(
          `The first task of workflow ${workflowId} (run ${runId}) did not run here (${err.message}); enqueuing it`,
        );
        // The run's recorded priority (the start knew it, but did not pass it: the task was to run here).
        const meta = await histories.getMeta(workflowId);
        const priority = meta?.runId === runId ? meta.priority : undefined;
        await dispatcher.enqueueTask(workflowId, runId, taskQueue, 'start', { priority });
      })
      .catch((err: Error) =>
        logger.error(
          `Workflow ${workflowId} (run ${runId}): its first task could not be enqueued (${err.message}); the recovery sweep will enqueue it`,
        ),
      )
      .finally(() => this.running.delete(task));
    this.running.add(task);
    return true;
  }

  /** Resolves once the first tasks running here are done. */
  async settled(): Promise<void> {
    await Promise.all(this.running);
  }
}
