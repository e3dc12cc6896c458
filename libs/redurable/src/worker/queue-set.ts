import { Queue, type ConnectionOptions } from 'bullmq';
import { activityQueueName, workflowQueueName } from '../history/keys.js';

/** Job data of an activity job. */
export interface ActivityJobData {
  workflowId: string;
  runId: string;
  seq: number;
  activityType: string;
  input: string[];
  options: import('../history/events.js').RecordedActivityOptions;
  /** When the activity was first scheduled (ms), for scheduleToClose. */
  scheduledAt: number;
  /** Task queue of the workflow, to run its next task inline when this worker serves it. */
  workflowTaskQueue: string;
  /** Scheduled inside `nonCancellable()`: a cancellation request does not abort it (termination does). */
  nonCancellable?: boolean;
  /** The workflow's trace context: the attempt's span is its child. */
  trace?: import('../observability/tracing.js').TraceCarrier;
}

/** Job data of a workflow-queue job: a workflow task, or a timer when `seq` is set. */
export interface WorkflowJobData {
  workflowId: string;
  runId: string;
  seq?: number;
  /** Rebuild the execution from history and re-dispatch everything outstanding. */
  replay?: boolean;
  /** A timer's due time in workflow time (ms): it never fires before it. */
  dueAt?: number;
}

/** The BullMQ queues of the library, created on first use and shared by client and workers. */
export class QueueSet {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly connection: ConnectionOptions,
    readonly bullPrefix: string,
  ) {}

  activity(taskQueue: string): Queue<ActivityJobData> {
    return this.get(activityQueueName(taskQueue)) as Queue<ActivityJobData>;
  }

  workflow(taskQueue: string): Queue<WorkflowJobData> {
    return this.get(workflowQueueName(taskQueue)) as Queue<WorkflowJobData>;
  }

  /** Every queue created so far (for Bull Board and shutdown). */
  all(): Queue[] {
    return [...this.queues.values()];
  }

  private get(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.bullPrefix });
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }
    return queue;
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((q) => q.close()));
    this.queues.clear();
  }
}
