import { Queue } from 'bullmq';
import type { TraceCarrier } from '../core/events.js';
import type { JobPresence } from '../core/ports/index.js';
import type { RedisClient } from '../store/redis-client.js';
import { activityQueueName, buildQueueName, scheduleQueueName, workflowQueueName } from '../store/keys.js';
import { partitionOf } from '../store/shards.js';
import type { PartitionTable } from './partitions.js';
import type { ActivityTaskScheduled, RecordedActivityOptions, WorkflowExecutionTimedOut } from '../core/events.js';

/** Job data of an activity job. */
export interface ActivityJobData {
  workflowId: string;
  runId: string;
  seq: number;
  activityType: string;
  input: string[];
  options: RecordedActivityOptions;
  /** When the activity was first scheduled (ms), for scheduleToClose. */
  scheduledAt: number;
  /** Task queue of the workflow, to run its next task inline when this worker serves it. */
  workflowTaskQueue: string;
  /** The workflow's priority, when not the default: of the task the outcome wakes. */
  workflowPriority?: number;
  /** Scheduled inside `nonCancellable()`: a cancellation request does not abort it (termination does). */
  nonCancellable?: boolean;
  /** The workflow's trace context: the attempt's span is its child. */
  trace?: TraceCarrier;
  /** Set while an attempt waits to be completed from outside (`completeAsync()`): the job is delayed until its deadline. */
  awaiting?: { attempt: number; startedAt: number };
  /**
   * Set when the worker that ran it eagerly handed it over (a retry, a parked attempt, a
   * shutdown): the job looks for a recorded outcome before running, and its first attempt is
   * number `attemptBase + 1` (the attempts made in process before it).
   */
  attemptBase?: number;
  /** Heartbeat details the eager attempt left (encoded), for the job's first attempt. */
  heartbeat?: string;
  /** The message of the eager attempt that failed before the job (a retry). */
  lastFailure?: string;
  /** Set while the job waits for a flow limit (`@Activity({ concurrency, rateLimit })`): which one, and its key. */
  waitingFor?: { kind: 'concurrency' | 'rate'; limit: string; key: string };
}

/** What an attempt of activity command `cmd` of `workflow` runs with (a job's data, an eager or a local attempt's). */
export function activityJobData(
  workflow: { workflowId: string; runId: string; taskQueue: string; priority?: number },
  cmd: Pick<ActivityTaskScheduled, 'seq' | 'activityType' | 'input' | 'options' | 'nonCancellable'>,
  scheduledAt: number,
): ActivityJobData {
  const data: ActivityJobData = {
    workflowId: workflow.workflowId,
    runId: workflow.runId,
    seq: cmd.seq,
    activityType: cmd.activityType,
    input: cmd.input,
    options: cmd.options,
    scheduledAt,
    workflowTaskQueue: workflow.taskQueue,
  };
  if (cmd.nonCancellable) data.nonCancellable = true;
  if (workflow.priority !== undefined) data.workflowPriority = workflow.priority;
  return data;
}

/** Job data of a workflow-queue job: a workflow task, or a timer when `seq` is set. */
export interface WorkflowJobData {
  workflowId: string;
  runId: string;
  seq?: number;
  /** Rebuild the execution from history and re-dispatch everything outstanding. */
  replay?: boolean;
  /** A timer's (or a workflow timeout's) due time in workflow time (ms): it never fires before it. */
  dueAt?: number;
  /** A timer's run's priority, when not the default: of the task it wakes. */
  priority?: number;
  /** A workflow timeout job: which timeout, and how long it was (ms). */
  timeoutType?: WorkflowExecutionTimedOut['timeoutType'];
  timeoutMs?: number;
}

/** Job data of a schedule-queue job: a fire of the schedule's job scheduler, or a check of its buffered fire. */
export interface ScheduleJobData {
  scheduleId: string;
}

/** A job the recovery sweep looks for. */
export interface JobRef {
  queue: Queue;
  jobId: string;
}

/**
 * The BullMQ queues of the library, created on first use and shared by client and workers.
 * Each task queue has an activity queue and a workflow queue per partition; a workflow's jobs
 * always go to its partition (a stable hash of its id).
 */
export class QueueSet {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly connection: RedisClient,
    readonly bullPrefix: string,
    readonly partitions: PartitionTable,
  ) {}

  /** The activity queue of `taskQueue` that the workflow's activity jobs go to. */
  async activityFor(taskQueue: string, workflowId: string): Promise<Queue<ActivityJobData>> {
    return this.activity(taskQueue, partitionOf(workflowId, await this.partitions.of(taskQueue)));
  }

  /** The workflow queue of `taskQueue` that the workflow's tasks and timers go to. */
  async workflowFor(taskQueue: string, workflowId: string): Promise<Queue<WorkflowJobData>> {
    return this.workflow(taskQueue, partitionOf(workflowId, await this.partitions.of(taskQueue)));
  }

  activity(taskQueue: string, partition = 0): Queue<ActivityJobData> {
    return this.get(activityQueueName(taskQueue, partition)) as Queue<ActivityJobData>;
  }

  workflow(taskQueue: string, partition = 0): Queue<WorkflowJobData> {
    return this.get(workflowQueueName(taskQueue, partition)) as Queue<WorkflowJobData>;
  }

  /** The queue of `build` on `taskQueue` that the tasks of the workflow go to while it is pinned to that build. */
  async ofBuild(taskQueue: string, build: string, workflowId: string): Promise<Queue<WorkflowJobData>> {
    const partition = partitionOf(workflowId, await this.partitions.of(taskQueue));
    return this.get(buildQueueName(taskQueue, build, partition)) as Queue<WorkflowJobData>;
  }

  /** The queue whose job schedulers wake the schedules (see schedules/schedule-wakeups.ts). */
  schedules(): Queue<ScheduleJobData> {
    return this.get(scheduleQueueName()) as Queue<ScheduleJobData>;
  }

  /** Every queue created so far (for shutdown). */
  all(): Queue[] {
    return [...this.queues.values()];
  }

  /**
   * Whether each job is missing, pending (waiting, delayed, active) or finished (completed or
   * failed), from its hash: one HMGET each, pipelined per queue (a Cluster pipeline stays in one slot).
   */
  async jobStates(refs: JobRef[]): Promise<JobPresence[]> {
    const byQueue = new Map<Queue, number[]>();
    refs.forEach((r, i) => byQueue.set(r.queue, [...(byQueue.get(r.queue) ?? []), i]));
    const out: JobPresence[] = new Array(refs.length).fill('pending');
    await Promise.all(
      [...byQueue].map(async ([queue, positions]) => {
        const pipe = this.connection.pipeline();
        for (const i of positions) pipe.hmget(queue.toKey(refs[i].jobId), 'timestamp', 'finishedOn');
        const res = (await pipe.exec()) ?? [];
        positions.forEach((i, j) => {
          const [err, fields] = res[j] ?? [];
          if (err) throw err;
          const [timestamp, finishedOn] = fields as (string | null)[];
          out[i] = timestamp === null ? 'missing' : finishedOn ? 'finished' : 'pending';
        });
      }),
    );
    return out;
  }

  /** When a delayed job is due (BullMQ scores a delayed job by its due time × 0x1000, plus a counter). */
  async delayedUntil(queue: Queue, jobId: string): Promise<number | undefined> {
    const score = await this.connection.zscore(queue.toKey('delayed'), jobId);
    return score === null ? undefined : Math.floor(Number(score) / 0x1000);
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
