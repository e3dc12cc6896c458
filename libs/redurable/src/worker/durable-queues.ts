import type { Queue } from 'bullmq';
import type { DurableRuntime } from '../module/durable-runtime.js';

/** The two BullMQ queues of one task queue. */
export interface TaskQueueQueues {
  taskQueue: string;
  /** Activity jobs (`<taskQueue>-activities`). */
  activities: Queue;
  /** Workflow tasks and durable timers (`<taskQueue>-workflows`). */
  workflows: Queue;
}

/**
 * The BullMQ queues Redurable uses, for dashboards: inject it to put them on your own Bull
 * Board (`redurable-console` does this for you). Read them, retry or remove jobs if you must;
 * the library re-creates any job its workflows still need.
 *
 * @example
 * constructor(private readonly queues: DurableQueues) {}
 * for (const q of this.queues.all()) board.addQueue(new BullMQAdapter(q.activities));
 */
export class DurableQueues {
  /** @internal */
  constructor(private readonly runtime: DurableRuntime) {}

  /** Task queues this process serves (its workers' task queues). */
  servedTaskQueues(): string[] {
    return this.runtime.servedTaskQueues();
  }

  /** The queues of one task queue (served here or elsewhere); created on first use. */
  of(taskQueue: string): TaskQueueQueues {
    return { taskQueue, activities: this.runtime.queues.activity(taskQueue), workflows: this.runtime.queues.workflow(taskQueue) };
  }

  /** The queues of every task queue this process serves. */
  all(): TaskQueueQueues[] {
    return this.servedTaskQueues().map((taskQueue) => this.of(taskQueue));
  }
}
