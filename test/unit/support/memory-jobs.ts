import type { CommandEvent, NewCommand } from '../../../libs/redurable/src/core/events.js';
import type {
  ActivityHandover,
  CommandJob,
  JobDispatcher,
  JobOwner,
  JobPresence,
  TaskJobOptions,
} from '../../../libs/redurable/src/core/ports/index.js';
import type { RunDeadline } from '../../../libs/redurable/src/core/workflow-timeouts.js';
import { activityJobId, timeoutJobId, timerJobId } from '../../../libs/redurable/src/queues/dispatcher.js';
import { jobIdPart } from '../../../libs/redurable/src/store/keys.js';

export type JobKind = 'activity' | 'timer' | 'task' | 'timeout';

/** A job as a queue holds it. */
export interface MemoryJob {
  kind: JobKind;
  /** `activities:<taskQueue>` or `workflows:<taskQueue>` (partitions are not modelled). */
  queue: string;
  id: string;
  state: 'pending' | 'finished';
  data: Record<string, unknown>;
  /** Tasks: how long after being added they may run. */
  delay?: number;
  /** Timers and timeouts: when they fire (workflow time). */
  dueAt?: number;
}

/**
 * The engine's jobs in maps, as queues/dispatcher.ts adds them to BullMQ: the same
 * deterministic job ids (queues/dispatcher.ts' own functions, and the task id it builds), and
 * adding a job whose id its queue holds does nothing, whatever that job's state. Finished
 * activity and timer jobs are kept (BullMQ keeps a bounded number for Bull Board); task and
 * timeout jobs go when they finish (`removeOnComplete: true`).
 */
export class MemoryJobs implements JobDispatcher {
  private readonly jobs = new Map<string, MemoryJob>();
  /** Runs (once) when the job states are next read: what happened while the sweep looked. */
  beforeJobStates?: () => unknown;

  async dispatch(workflow: JobOwner, commands: (NewCommand | CommandEvent)[], now: number): Promise<void> {
    const { workflowId, runId, taskQueue } = workflow;
    for (const cmd of commands) {
      const recordedAt = 'ts' in cmd ? cmd.ts : now;
      if (cmd.type === 'ActivityTaskScheduled') {
        this.add({
          kind: 'activity',
          queue: `activities:${cmd.options.taskQueue}`,
          id: activityJobId(workflowId, runId, cmd.seq),
          data: {
            workflowId,
            runId,
            seq: cmd.seq,
            activityType: cmd.activityType,
            input: cmd.input,
            scheduledAt: recordedAt,
          },
        });
      } else if (cmd.type === 'TimerStarted') {
        this.add({
          kind: 'timer',
          queue: `workflows:${taskQueue}`,
          id: timerJobId(workflowId, runId, cmd.seq),
          data: { workflowId, runId, seq: cmd.seq },
          dueAt: recordedAt + cmd.durationMs,
        });
      }
    }
  }

  /** An eager activity handed to its queue: its job, with the handover's attemptBase and what its attempt left. */
  async handOver(
    workflow: JobOwner,
    cmd: CommandEvent & { type: 'ActivityTaskScheduled' },
    handover: ActivityHandover,
  ): Promise<void> {
    const { workflowId, runId } = workflow;
    this.add({
      kind: 'activity',
      queue: `activities:${cmd.options.taskQueue}`,
      id: activityJobId(workflowId, runId, cmd.seq),
      data: { workflowId, runId, seq: cmd.seq, activityType: cmd.activityType, ...handover },
      delay: handover.delayMs,
    });
  }

  async enqueueTask(
    workflowId: string,
    runId: string,
    taskQueue: string,
    tag: string,
    { delay = 0, replay = false }: TaskJobOptions = {},
  ): Promise<void> {
    this.add({
      kind: 'task',
      queue: `workflows:${taskQueue}`,
      // As Dispatcher.enqueueTask builds it.
      id: `w|${jobIdPart(workflowId)}|${runId}|${jobIdPart(tag)}`,
      data: replay ? { workflowId, runId, replay } : { workflowId, runId },
      delay,
    });
  }

  async scheduleTimeout(workflow: JobOwner, deadline: RunDeadline): Promise<void> {
    const { workflowId, runId, taskQueue } = workflow;
    this.add({
      kind: 'timeout',
      queue: `workflows:${taskQueue}`,
      id: timeoutJobId(workflowId, runId),
      data: { workflowId, runId, timeoutType: deadline.timeoutType, timeoutMs: deadline.timeoutMs },
      dueAt: deadline.at,
    });
  }

  async cancelTimeout(workflow: JobOwner): Promise<void> {
    this.jobs.delete(key(`workflows:${workflow.taskQueue}`, timeoutJobId(workflow.workflowId, workflow.runId)));
  }

  async jobStates(workflow: JobOwner, jobs: CommandJob[]): Promise<JobPresence[]> {
    const before = this.beforeJobStates;
    this.beforeJobStates = undefined;
    await before?.();
    return jobs.map((job) => this.jobs.get(this.locate(workflow, job))?.state ?? 'missing');
  }

  async removeJob(workflow: JobOwner, job: CommandJob): Promise<void> {
    this.jobs.delete(this.locate(workflow, job));
  }

  // ---- for the tests ----

  /** Every job held, in the order added, optionally of one kind. */
  list(kind?: JobKind): MemoryJob[] {
    return [...this.jobs.values()].filter((j) => kind === undefined || j.kind === kind);
  }

  ids(kind?: JobKind): string[] {
    return this.list(kind).map((j) => j.id);
  }

  /** The job with this id (ids are unique across the queues of a test). */
  get(id: string): MemoryJob | undefined {
    return this.list().find((j) => j.id === id);
  }

  /** The job ran to its end (a task or timeout job then goes). */
  finish(id: string): void {
    const job = this.get(id);
    if (!job) throw new Error(`no job ${id}`);
    if (job.kind === 'task' || job.kind === 'timeout') this.jobs.delete(key(job.queue, id));
    else job.state = 'finished';
  }

  /** The job is gone without having run (removed in Bull Board, lost in a failover). */
  lose(id: string): void {
    const job = this.get(id);
    if (job) this.jobs.delete(key(job.queue, id));
  }

  /** Takes the waiting task jobs, as workers that ran them (they go: removeOnComplete). */
  takeTasks(): MemoryJob[] {
    const tasks = this.list('task');
    for (const t of tasks) this.jobs.delete(key(t.queue, t.id));
    return tasks;
  }

  private add(job: Omit<MemoryJob, 'state'>): void {
    const k = key(job.queue, job.id);
    if (!this.jobs.has(k)) this.jobs.set(k, { ...job, state: 'pending' });
  }

  private locate(workflow: JobOwner, job: CommandJob): string {
    const { workflowId, runId, taskQueue } = workflow;
    return job.kind === 'activity'
      ? key(`activities:${job.taskQueue}`, activityJobId(workflowId, runId, job.seq))
      : key(`workflows:${taskQueue}`, timerJobId(workflowId, runId, job.seq));
  }
}

function key(queue: string, id: string): string {
  return `${queue}/${id}`;
}
