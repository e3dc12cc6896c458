import type { CommandEvent, NewCommand, TraceCarrier } from '../events.js';
import type { RunDeadline } from '../workflow-timeouts.js';

/** The run whose jobs these are, and the task queue its workflow tasks go to. */
export interface JobOwner {
  workflowId: string;
  runId: string;
  taskQueue: string;
  /** The run's trace context, copied into its activity jobs. */
  trace?: TraceCarrier;
  /** The run's priority (absent: the default): of its timer jobs, and of the tasks its jobs' outcomes wake. */
  priority?: number;
}

/** How a workflow task job is added. */
export interface TaskJobOptions {
  /** Wait this long first, ms. @default 0 */
  delay?: number;
  /** Rebuild the execution from history and re-dispatch everything outstanding. @default false */
  replay?: boolean;
  /** The run's priority (absent: the default, 5); see core/flow/priority.ts. */
  priority?: number;
  /** The build a pinned run's tasks go to: the task goes to that build's queue, not the task queue's. */
  build?: string;
}

/** The job of one command of a run: an activity's (on its own task queue) or a timer's (on the run's). */
export type CommandJob = { kind: 'activity'; seq: number; taskQueue: string } | { kind: 'timer'; seq: number };

/** What the recovery sweep finds of a job: none, waiting or running, or finished (completed or failed). */
export type JobPresence = 'missing' | 'pending' | 'finished';

/** How an eager activity goes on in its queue. */
export interface ActivityHandover {
  /**
   * Attempts already made in process: the job's first attempt is the next. Absent when none
   * ran here (a flow limit refused the activity before its first attempt).
   */
  attemptBase?: number;
  /** Delay before the job runs (a retry's backoff, a parked attempt's deadline), ms. */
  delayMs: number;
  /** Set for an attempt parked until completed from outside (`completeAsync()`). */
  awaiting?: { attempt: number; startedAt: number };
  /** Heartbeat details the attempt left (encoded). */
  heartbeat?: string;
  /** A retry: the failed attempt's message (describe() shows it as the last failure). */
  lastFailure?: string;
  /** Refused by a flow limit: the limit the job waits for (describe() shows it). */
  waitingFor?: { kind: 'concurrency' | 'rate'; limit: string; key: string };
}

/**
 * The jobs that move workflows on: activity and timer jobs of committed commands, workflow tasks,
 * workflow timeout jobs. Job ids are deterministic, so adding one twice adds nothing. The
 * Dispatcher implements it on BullMQ.
 */
export interface JobDispatcher {
  /** Adds the jobs of the activity and timer commands among `commands` (recorded earlier when they carry `ts`). */
  dispatch(workflow: JobOwner, commands: (NewCommand | CommandEvent)[], now: number): Promise<void>;
  /** Adds the job of an eager activity handed to its queue: a retry after its backoff, a parked attempt, a shutdown. */
  handOver(
    workflow: JobOwner,
    cmd: CommandEvent & { type: 'ActivityTaskScheduled' },
    handover: ActivityHandover,
  ): Promise<void>;
  /** Enqueues a workflow task; `tag` dedupes tasks asked for the same state of the history. */
  enqueueTask(
    workflowId: string,
    runId: string,
    taskQueue: string,
    tag: string,
    options?: TaskJobOptions,
  ): Promise<void>;
  /** Adds the delayed job that closes a run at its workflow timeout. */
  scheduleTimeout(workflow: JobOwner, deadline: RunDeadline): Promise<void>;
  /** Removes a closed run's timeout job (best effort). */
  cancelTimeout(workflow: JobOwner): Promise<void>;
  /** Whether each command job of the run exists, and whether it finished. */
  jobStates(workflow: JobOwner, jobs: CommandJob[]): Promise<JobPresence[]>;
  /** Removes one command job (a finished one whose outcome was lost, before adding it again). */
  removeJob(workflow: JobOwner, job: CommandJob): Promise<void>;
}
