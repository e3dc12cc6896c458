import type { Type } from '../types.js';
import type { Duration } from '../duration.js';
import type { WorkflowTimeoutOptions } from '../workflow-timeouts.js';

/**
 * When a schedule fires: a cron expression (5 fields, or 6 with seconds first) read in an IANA
 * time zone, or a fixed interval. Interval fire times are multiples of the interval since the
 * Unix epoch (so `every: '1h'` fires on the hour, as BullMQ's job schedulers do).
 *
 * @example { cron: '0 30 9 * * 1-5', timezone: 'Europe/Paris' } // 09:30:00 Paris time, weekdays
 * @example { every: '15m' }
 */
export type ScheduleSpec = (
  { cron: string; timezone?: string; every?: never } | { every: Duration; cron?: never; timezone?: never }
) & {
  /** No fire before this time. @default none */
  startAt?: Date;
  /** No fire after this time. @default none */
  endAt?: Date;
};

/** What to do when a fire comes while a workflow started by an earlier fire is still running. */
export type ScheduleOverlapPolicy =
  /** Do not start; the fire is recorded as skipped. */
  | 'SKIP'
  /** Keep this fire (at most one; later ones are skipped) and start it when the running one closes. */
  | 'BUFFER_ONE'
  /** Start anyway: runs overlap. */
  | 'ALLOW_ALL'
  /** Request cancellation of the running ones, and start this fire once they have closed. */
  | 'CANCEL_OTHER'
  /** Terminate the running ones, then start at once. */
  | 'TERMINATE_OTHER';

/** Policies of a schedule. */
export interface SchedulePolicies {
  /** See {@link ScheduleOverlapPolicy}. @default 'SKIP' */
  overlap?: ScheduleOverlapPolicy;
  /**
   * After downtime (no worker running, Redis unreachable), fire times older than this are not
   * started (they count as missed). @default '1 hour'
   */
  catchupWindow?: Duration;
  /** Of the missed fire times within the window: start them all, or only the latest. @default 'ALL' */
  catchup?: 'ALL' | 'LAST';
}

/** The workflow a schedule starts at each fire. */
export interface ScheduleAction<A extends unknown[] = unknown[]> extends WorkflowTimeoutOptions {
  /** The `@Workflow` class, or its type name. */
  workflow: Type<object> | string;
  /** Arguments of the `@WorkflowRun` method, the same at every fire. @default [] */
  args?: A;
  /** Task queue to run on. @default the `@Workflow` taskQueue */
  taskQueue?: string;
  /**
   * Id of each started workflow; `{scheduleId}` and `{fireTime}` (ISO 8601, UTC) are replaced.
   * It must contain `{fireTime}`: the id is what makes a fire delivered twice start one workflow.
   * @default '{scheduleId}-{fireTime}'
   */
  workflowId?: string;
}

/** Options of `client.schedule.create()`. */
export interface ScheduleOptions {
  /** Id of the schedule: letters, digits and `._-~@`, at most 200 characters. */
  scheduleId: string;
  spec: ScheduleSpec;
  action: ScheduleAction;
  policies?: SchedulePolicies;
  /** Create it paused (with this note). @default not paused */
  paused?: boolean | string;
}

/** Changes of `client.schedule.update()`: what is given replaces what was set (policies merge). */
export type ScheduleUpdate = Partial<Pick<ScheduleOptions, 'spec' | 'action' | 'policies'>>;

/** Options of `client.schedule.backfill()`. */
export interface BackfillOptions {
  /** Overlap policy for the backfilled fires. @default 'ALLOW_ALL' */
  overlap?: ScheduleOverlapPolicy;
}

/** Options of `client.schedule.trigger()`. */
export interface TriggerOptions {
  /** Overlap policy for this fire. @default the schedule's */
  overlap?: ScheduleOverlapPolicy;
}

/** What one fire did, newest first in `describe().recentActions`. */
export interface ScheduleActionRecord {
  /** The fire time (the spec time; for a trigger, when it was triggered). */
  fireTime: Date;
  /** When it was handled. */
  at: Date;
  /** What caused it. */
  cause: 'scheduled' | 'trigger' | 'backfill';
  /** `started` also when the id's workflow existed (a fire handled twice). */
  outcome: 'started' | 'skipped' | 'buffered' | 'missed' | 'failed';
  workflowId?: string;
  runId?: string;
  /** Why it was skipped, missed or failed. */
  reason?: string;
}

/** A running workflow started by the schedule. */
export interface ScheduleRunningWorkflow {
  workflowId: string;
  runId: string;
}

/** What `client.schedule.describe()` returns. */
export interface ScheduleDescription {
  scheduleId: string;
  spec: { cron?: string; timezone?: string; everyMs?: number; startAt?: Date; endAt?: Date };
  action: {
    workflowType: string;
    taskQueue?: string;
    args: unknown[];
    workflowId: string;
    workflowExecutionTimeout?: number;
    workflowRunTimeout?: number;
  };
  policies: { overlap: ScheduleOverlapPolicy; catchupWindowMs: number; catchup: 'ALL' | 'LAST' };
  paused: boolean;
  /** The note of the last pause or unpause. */
  note?: string;
  /** `client` (created by a call) or `decorator` (`@Schedule` on a workflow class). */
  origin: 'client' | 'decorator';
  /** The next fire times (none when paused or past `endAt`). */
  nextFireTimes: Date[];
  /** The latest fire time handled (fires up to it are done). */
  lastFireTime: Date;
  /** The buffered fire (BUFFER_ONE, CANCEL_OTHER), started when the running workflows close. */
  bufferedFireTime?: Date;
  recentActions: ScheduleActionRecord[];
  running: ScheduleRunningWorkflow[];
  counts: { started: number; skipped: number; missed: number; failed: number };
  createdAt: Date;
  updatedAt: Date;
}

/** One schedule in `client.schedule.list()`. */
export interface ScheduleSummary {
  scheduleId: string;
  workflowType: string;
  spec: ScheduleDescription['spec'];
  paused: boolean;
  note?: string;
  nextFireTime?: Date;
  lastAction?: ScheduleActionRecord;
  running: number;
}
