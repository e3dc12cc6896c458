import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { Queue } from 'bullmq';
import { DurableQueues } from 'redurable';
import { CONSOLE_OPTIONS, type RedurableConsoleOptions } from './console-options.js';
import { QUEUE_BOARD, type QueueBoard } from './queue-board.js';

/**
 * Puts every BullMQ queue the library uses on Bull Board: for each task queue this process
 * serves, its activity queue and its workflow queue (workflow tasks and timers), per partition,
 * and the prefix's schedule queue.
 * Runs at application bootstrap, once the library has discovered the workflows and activities.
 */
@Injectable()
export class BoardQueuesRegistrar implements OnApplicationBootstrap {
  private readonly registered = new Set<string>();

  constructor(
    @Inject(DurableQueues) private readonly queues: DurableQueues,
    @Inject(QUEUE_BOARD) private readonly board: QueueBoard,
    @Inject(CONSOLE_OPTIONS) private readonly options: RedurableConsoleOptions,
  ) {}

  onApplicationBootstrap(): void {
    this.add(this.queues.schedules(), 'Schedule wakes: one job scheduler per schedule');
    for (const taskQueue of [...this.queues.servedTaskQueues(), ...(this.options.taskQueues ?? [])])
      this.register(taskQueue);
  }

  /** Adds the two queues of `taskQueue` (idempotent); also usable for task queues served elsewhere. */
  register(taskQueue: string): void {
    if (this.registered.has(taskQueue)) return;
    this.registered.add(taskQueue);
    const { partitions } = this.queues.of(taskQueue);
    for (const { partition, activities, workflows } of partitions) {
      const of = `task queue '${taskQueue}'${partitions.length > 1 ? ` (partition ${partition})` : ''}`;
      this.add(activities, `Activity jobs of ${of}`);
      this.add(workflows, `Workflow tasks and durable timers of ${of}`);
    }
  }

  private add(queue: Queue, description: string): void {
    this.board.addQueue(new BullMQAdapter(queue, { description, readOnlyMode: this.options.readOnly ?? false }));
  }
}
