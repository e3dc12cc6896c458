import type { Queue } from 'bullmq';
import type { QueueSet } from './queue-set.js';

/** The BullMQ queues of one partition of a task queue. */
export interface PartitionQueues {
  partition: number;
  /** Activity jobs. */
  activities: Queue;
  /** Workflow tasks and durable timers. */
  workflows: Queue;
}

/** The BullMQ queues of one task queue: those of partition 0, and of every partition. */
export interface TaskQueueQueues extends PartitionQueues {
  taskQueue: string;
  /** Every partition's queues (one entry unless the task queue has `partitions`). */
  partitions: PartitionQueues[];
}

/**
 * The BullMQ queues Redurable uses, for dashboards: inject it to put them on your own Bull
 * Board (`redurable-console` does this for you). Read them, retry or remove jobs if you must;
 * the library re-creates any job its workflows still need.
 *
 * @example
 * constructor(private readonly queues: DurableQueues) {}
 * for (const q of this.queues.all()) for (const p of q.partitions) board.addQueue(new BullMQAdapter(p.activities));
 */
export class DurableQueues {
  /** @internal */
  constructor(
    private readonly queues: QueueSet,
    private readonly served: () => string[],
  ) {}

  /** Task queues this process serves (its workers' task queues). */
  servedTaskQueues(): string[] {
    return this.served();
  }

  /** The queues of one task queue (served here or elsewhere); created on first use. */
  of(taskQueue: string): TaskQueueQueues {
    const count = this.queues.partitions.knownOf(taskQueue);
    const partitions = Array.from({ length: count }, (_, partition) => ({
      partition,
      activities: this.queues.activity(taskQueue, partition),
      workflows: this.queues.workflow(taskQueue, partition),
    }));
    return { taskQueue, ...partitions[0], partitions };
  }

  /** The queue whose job schedulers wake the schedules (one per prefix). */
  schedules(): Queue {
    return this.queues.schedules();
  }

  /** The queues of every task queue this process serves. */
  all(): TaskQueueQueues[] {
    return this.servedTaskQueues().map((taskQueue) => this.of(taskQueue));
  }
}
