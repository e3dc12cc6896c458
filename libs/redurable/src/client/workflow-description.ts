import type { SerializedFailure } from '../core/errors/failure-codec.js';
import type { SearchAttributes } from '../core/search/search-attributes.js';

/** An activity the history says is scheduled and not yet finished. */
export interface PendingActivity {
  seq: number;
  activityType: string;
  taskQueue: string;
  scheduledAt: Date;
  /** Attempt now running or next to run, from 1. */
  attempt: number;
  /** Message of the last failed attempt, if any. */
  lastFailure?: string;
  /** When the next attempt is due, while it waits to retry (`delayed`). */
  nextAttemptAt?: Date;
  /** Set while the attempt waits to be completed from outside (`completeAsync()`): since when. */
  awaitingCompletion?: { since: Date };
  /** Its BullMQ job's id in `queue`. */
  jobId: string;
  /** The BullMQ queue holding its job (the workflow's partition of the task queue's activity queue). */
  queue: string;
  /**
   * BullMQ job state: waiting (BullMQ's `prioritized`: every job carries its workflow's priority), active, delayed (waiting to retry), ...; `running` for an eager
   * activity (run by the worker that claimed it, with no job: see `eager`); `missing` when its
   * job is gone (the recovery sweep re-adds it).
   */
  state: string;
  /**
   * Set while it waits for a flow limit (`@Activity({ concurrency, rateLimit })`), using no
   * attempt: the limit's name and the call's key (`''` for a limit without a key function), with
   * how many wait before it (a concurrency limit) or when it asks again (a rate limit).
   */
  waitingFor?: { limit: string; key: string; ahead: number } | { limit: string; key: string; retryAt: Date };
  /** Set while an eager activity runs: on which worker (host/pid/id), since when, and until when its claim holds (renewed while it runs). */
  eager?: { worker: string; since: Date; claimedUntil: Date };
  /** True when the saga scheduled it to undo an earlier step. */
  compensation: boolean;
}

/** A durable timer (sleep, condition timeout) that has not fired yet. */
export interface PendingTimer {
  seq: number;
  startedAt: Date;
  dueAt: Date;
  /** BullMQ job state of its timer job (`delayed` until due); `missing` when the job is gone (the recovery sweep re-adds it after the due time). */
  state: string;
  /** Its BullMQ job's id in `queue`. */
  jobId: string;
  /** The BullMQ queue holding its job (the workflow's partition of its task queue's workflow queue). */
  queue: string;
}

/** A compensation the saga scheduled, and how it ended. */
export interface CompensationRecord {
  seq: number;
  activityType: string;
  status: 'pending' | 'completed' | 'failed';
}

/** What `handle.describe()` returns. */
export interface WorkflowDescription {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  /** The BullMQ queues holding its jobs (its partition of the task queue's activity and workflow queues), for dashboards. */
  jobQueues: { activities: string; workflows: string };
  /**
   * `compensation_failed` when the workflow ended with steps its saga could not undo,
   * `timed_out` when it ran past its workflowExecutionTimeout or workflowRunTimeout. An earlier
   * run (`getHandle(id, runId)`) that handed over to the next one is `continued_as_new` or `reset`.
   */
  status: 'running' | 'completed' | 'failed' | 'compensation_failed' | 'canceled' | 'terminated' | 'timed_out' | string;
  startTime: Date;
  closeTime?: Date;
  /** When the execution is closed as `timed_out` if still open (its workflowExecutionTimeout), across continue-as-new. */
  executionDeadline?: Date;
  /** When this run is closed as `timed_out` if still open (its workflowRunTimeout). */
  runDeadline?: Date;
  /** Set on a run started by `handle.reset()`: the run it was reset from, the event its history was kept up to, and why. */
  resetFrom?: { runId: string; eventId: number; reason: string };
  historyLength: number;
  /** Decoded result when completed. */
  result?: unknown;
  /** Instead of `result`, when this process cannot decode it (no codec, or not the key it was encrypted with). */
  undecodableResult?: { stored: string; error: string };
  /** Failure when failed. */
  failure?: SerializedFailure;
  /** The last workflow-task failure (for example a non-determinism error) while it is retried. */
  taskFailure?: { message: string; attempt: number; retryAt?: Date };
  pendingActivities: PendingActivity[];
  /** Timers not fired yet, with their due time and job state. */
  pendingTimers: PendingTimer[];
  /**
   * Set while the run waits for a slot of its type's concurrency limit (`@Workflow({ concurrency })`),
   * before its first task: the limit's name, the run's key (`''` for a limit without a key
   * function), and how many runs wait before it (unknown for a moment after a crash: the recovery
   * sweep puts it back in line).
   */
  waitingFor?: { limit: string; key: string; ahead?: number };
  /**
   * Set while a debounced run waits for its start (`client.start(..., { debounce })`): when it
   * starts, unless another debounced start of its id pushes it back.
   */
  startsAt?: Date;
  /** The build (module option `buildId`) of the process that started the run, when it set one. */
  buildId?: string;
  /** The build of the worker that ran the run's last workflow task, when it set one. */
  lastTaskBuild?: string;
  /**
   * A pinned run's build (`@Workflow({ versioning: 'pinned' })`): only its workers run the
   * run's tasks. `live` is false while no worker of that build runs: the run waits for one
   * (start one, or move the run with `handle.updateBuild()`).
   */
  pinnedBuild?: { build: string; live: boolean };
  /** The run's priority, 1 (first) … 10 (last). */
  priority: number;
  /** What the saga undid (or tried to), in the order it was scheduled. */
  compensations: CompensationRecord[];
  /**
   * Signals in this run's history that the workflow's class has no `@Signal` handler for, by
   * name with how many arrived (sent by a process that does not have the class, which cannot
   * refuse them). Set only when the describing process has the class.
   */
  unhandledSignals?: { name: string; count: number }[];
  /** Current search attributes (datetimes as Dates); `{}` when it has none. */
  searchAttributes: SearchAttributes;
  /** The memo given at start, decoded (absent when none was given). */
  memo?: Record<string, unknown>;
  /** Memo fields this process cannot decode (no codec, or not the key they were encrypted with), instead of in `memo`. */
  undecodableMemo?: Record<string, { stored: string; error: string }>;
}
