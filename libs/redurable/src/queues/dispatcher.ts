import type { JobsOptions } from 'bullmq';
import type { CommandEvent, NewCommand } from '../core/events.js';
import { jobPriority } from '../core/flow/priority.js';
import { jobIdPart } from '../store/keys.js';
import type { QueueSet } from './queue-set.js';
import type { RunDeadline } from '../core/workflow-timeouts.js';
import { activityJobData, type ActivityJobData } from './queue-set.js';
import type {
  ActivityHandover,
  CommandJob,
  JobDispatcher,
  JobOwner,
  JobPresence,
  TaskJobOptions,
} from '../core/ports/index.js';

/** Bounds on the finished jobs BullMQ keeps (for Bull Board); the history is the source of truth. */
export interface JobRetention {
  completed: number;
  failed: number;
}

/** Attempts are decided by the activity's retry policy, not by BullMQ; this only has to be large. */
const UNLIMITED_ATTEMPTS = 2_147_483_647;
export const BACKOFF_TYPE = 'redurable';
/** A timer or workflow-task job that hit an error (Redis unavailable, say) is tried again, with backoff. */
const WORKFLOW_JOB_RETRY = { attempts: 20, backoff: { type: 'exponential', delay: 500 } } as const;

export function activityJobId(workflowId: string, runId: string, seq: number): string {
  return `a|${jobIdPart(workflowId)}|${runId}|${seq}`;
}

export function timerJobId(workflowId: string, runId: string, seq: number): string {
  return `t|${jobIdPart(workflowId)}|${runId}|${seq}`;
}

/** The job that closes a run at its workflow timeout (one per run). */
export function timeoutJobId(workflowId: string, runId: string): string {
  return `x|${jobIdPart(workflowId)}|${runId}`;
}

export interface DispatcherDeps {
  queues: QueueSet;
  /** Finished jobs kept for Bull Board. */
  retention: JobRetention;
}

/**
 * Turns committed commands into BullMQ jobs. Job ids are deterministic, so dispatching the
 * same command twice (after a crash, on replay) adds nothing.
 */
export class Dispatcher implements JobDispatcher {
  private readonly queues: QueueSet;
  private readonly retention: JobRetention;

  constructor(deps: DispatcherDeps) {
    this.queues = deps.queues;
    this.retention = deps.retention;
  }

  /**
   * Adds the jobs of the activity and timer commands among `commands` (other commands have no
   * job; child workflows are started by the engine). `commands` carry `ts` when they were
   * recorded earlier (re-dispatch after replay).
   */
  async dispatch(workflow: JobOwner, commands: (NewCommand | CommandEvent)[], now: number): Promise<void> {
    const byQueue = new Map<string, { name: string; data: ActivityJobData; opts: JobsOptions }[]>();
    const timers: Promise<unknown>[] = [];
    for (const cmd of commands) {
      const recordedAt = 'ts' in cmd ? cmd.ts : now;
      if (cmd.type === 'ActivityTaskScheduled') {
        const jobs = byQueue.get(cmd.options.taskQueue) ?? [];
        jobs.push(this.activityJob(workflow, cmd, recordedAt));
        byQueue.set(cmd.options.taskQueue, jobs);
      } else if (cmd.type === 'TimerStarted') {
        const delay = Math.max(0, recordedAt + cmd.durationMs - Date.now());
        const queue = await this.queues.workflowFor(workflow.taskQueue, workflow.workflowId);
        timers.push(
          queue.add(
            'timer',
            {
              workflowId: workflow.workflowId,
              runId: workflow.runId,
              seq: cmd.seq,
              dueAt: recordedAt + cmd.durationMs,
              ...(workflow.priority !== undefined ? { priority: workflow.priority } : {}),
            },
            {
              jobId: timerJobId(workflow.workflowId, workflow.runId, cmd.seq),
              delay,
              priority: jobPriority(workflow.priority),
              ...WORKFLOW_JOB_RETRY,
              removeOnComplete: { count: this.retention.completed },
              removeOnFail: { count: this.retention.failed },
            },
          ),
        );
      }
    }
    const activityQueues = await Promise.all(
      [...byQueue.keys()].map((taskQueue) => this.queues.activityFor(taskQueue, workflow.workflowId)),
    );
    await Promise.all([
      ...[...byQueue.values()].map((jobs, i) =>
        jobs.length === 1
          ? activityQueues[i].add(jobs[0].name, jobs[0].data, jobs[0].opts)
          : activityQueues[i].addBulk(jobs),
      ),
      ...timers,
    ]);
  }

  /** The job of an activity command (`extra`: what a handed-over one adds to its data). */
  private activityJob(
    workflow: JobOwner,
    cmd: Extract<NewCommand | CommandEvent, { type: 'ActivityTaskScheduled' }>,
    recordedAt: number,
    extra?: Partial<ActivityJobData>,
  ): { name: string; data: ActivityJobData; opts: JobsOptions } {
    const data = activityJobData(workflow, cmd, recordedAt);
    if (workflow.trace) data.trace = workflow.trace;
    if (extra) Object.assign(data, extra);
    return {
      name: cmd.activityType,
      data,
      opts: {
        jobId: activityJobId(workflow.workflowId, workflow.runId, cmd.seq),
        priority: jobPriority(cmd.options.priority),
        attempts: UNLIMITED_ATTEMPTS,
        backoff: { type: BACKOFF_TYPE },
        removeOnComplete: { count: this.retention.completed },
        removeOnFail: { count: this.retention.failed },
      },
    };
  }

  /**
   * Adds the job of an eager activity that goes on in its queue (idempotent, like every job):
   * the job looks for a recorded outcome first, and counts attempts on from those made in process.
   */
  async handOver(
    workflow: JobOwner,
    cmd: CommandEvent & { type: 'ActivityTaskScheduled' },
    handover: ActivityHandover,
  ): Promise<void> {
    const { delayMs, ...extra } = handover; // attemptBase, and what the attempt left (undefined ones are not stored)
    const job = this.activityJob(workflow, cmd, cmd.ts, extra);
    const queue = await this.queues.activityFor(cmd.options.taskQueue, workflow.workflowId);
    await queue.add(job.name, job.data, { ...job.opts, delay: Math.max(0, delayMs) });
  }

  /**
   * Adds the delayed job that closes a run at its deadline (workflow time, like a timer's due
   * time); idempotent. The recovery sweep closes the run if the job is lost.
   */
  async scheduleTimeout(
    workflow: { workflowId: string; runId: string; taskQueue: string },
    deadline: RunDeadline,
  ): Promise<void> {
    const { workflowId, runId, taskQueue } = workflow;
    const queue = await this.queues.workflowFor(taskQueue, workflowId);
    await queue.add(
      'timeout',
      { workflowId, runId, dueAt: deadline.at, timeoutType: deadline.timeoutType, timeoutMs: deadline.timeoutMs },
      {
        jobId: timeoutJobId(workflowId, runId),
        delay: Math.max(0, deadline.at - Date.now()),
        ...WORKFLOW_JOB_RETRY,
        removeOnComplete: true,
        removeOnFail: { count: this.retention.failed },
      },
    );
  }

  /** Removes a closed run's timeout job, so it does not wait in the queue until its deadline (best effort: a left one fires and does nothing). */
  async cancelTimeout(workflow: { workflowId: string; runId: string; taskQueue: string }): Promise<void> {
    const queue = await this.queues.workflowFor(workflow.taskQueue, workflow.workflowId);
    await queue.remove(timeoutJobId(workflow.workflowId, workflow.runId)).catch(() => 0);
  }

  /** Whether each command job of the run exists, and whether it finished (one HMGET each, pipelined per queue). */
  async jobStates(workflow: JobOwner, jobs: CommandJob[]): Promise<JobPresence[]> {
    return this.queues.jobStates(await Promise.all(jobs.map((job) => this.locate(workflow, job))));
  }

  /** Removes one command job (a finished one whose outcome was lost, before adding it again). */
  async removeJob(workflow: JobOwner, job: CommandJob): Promise<void> {
    const { queue, jobId } = await this.locate(workflow, job);
    await queue.remove(jobId);
  }

  /** The queue and id of a command's job. */
  private async locate(workflow: JobOwner, job: CommandJob) {
    const { workflowId, runId } = workflow;
    return job.kind === 'activity'
      ? {
          queue: await this.queues.activityFor(job.taskQueue, workflowId),
          jobId: activityJobId(workflowId, runId, job.seq),
        }
      : {
          queue: await this.queues.workflowFor(workflow.taskQueue, workflowId),
          jobId: timerJobId(workflowId, runId, job.seq),
        };
  }

  /** Enqueues a workflow task; `tag` dedupes tasks asked for the same state of the history. */
  async enqueueTask(
    workflowId: string,
    runId: string,
    taskQueue: string,
    tag: string,
    { delay = 0, replay = false, priority, build }: TaskJobOptions = {},
  ): Promise<void> {
    const queue = build
      ? await this.queues.ofBuild(taskQueue, build, workflowId)
      : await this.queues.workflowFor(taskQueue, workflowId);
    await queue.add('task', replay ? { workflowId, runId, replay } : { workflowId, runId }, {
      jobId: taskJobId(workflowId, runId, tag),
      delay,
      priority: jobPriority(priority),
      ...WORKFLOW_JOB_RETRY,
      removeOnComplete: true,
      removeOnFail: { count: this.retention.failed },
    });
  }

  /** Removes a workflow task job that is no longer needed (if it still waits: one being run stays). */
  async removeTask(workflowId: string, runId: string, taskQueue: string, tag: string): Promise<void> {
    const queue = await this.queues.workflowFor(taskQueue, workflowId);
    await queue.remove(taskJobId(workflowId, runId, tag));
  }
}

/** The id of a workflow task job; `tag` dedupes tasks asked for the same state of the history. */
function taskJobId(workflowId: string, runId: string, tag: string): string {
  return `w|${jobIdPart(workflowId)}|${runId}|${jobIdPart(tag)}`;
}
