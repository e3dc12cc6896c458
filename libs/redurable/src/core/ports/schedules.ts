import type {
  ScheduleActionRecord,
  ScheduleOverlapPolicy,
  ScheduleRunningWorkflow,
} from '../schedules/schedule-options.js';
import type { StoredSpec } from '../schedules/schedule-spec.js';

/** What a schedule is, as stored (`def` field): changed by create and update only. */
export interface StoredDefinition {
  spec: StoredSpec;
  /** `timeouts`: the workflowExecutionTimeout and workflowRunTimeout each started workflow gets (ms). */
  action: {
    workflowType: string;
    taskQueue?: string;
    args: string[];
    workflowId: string;
    timeouts?: { executionTimeoutMs?: number; runTimeoutMs?: number };
  };
  policies: { overlap: ScheduleOverlapPolicy; catchupWindowMs: number; catchup: 'ALL' | 'LAST' };
  origin: 'client' | 'decorator';
}

/** Where a schedule is (`state` field): changed by every fire. */
export interface ScheduleState {
  paused: boolean;
  note?: string;
  /** The latest fire time handled (ms): the next wake looks at fire times after it. */
  cursor: number;
  /** `since`: real time (ms) it was buffered, to space out the checks of a long wait. */
  buffered?: { fireTime: number; cause: ScheduleActionRecord['cause']; since?: number };
  running: ScheduleRunningWorkflow[];
  counts: { started: number; skipped: number; missed: number; failed: number };
  createdAt: number;
  updatedAt: number;
}

export interface ScheduleRecord {
  def: StoredDefinition;
  state: ScheduleState;
}

/** How many recent actions a schedule keeps. */
export const RECENT_ACTIONS = 20;

/**
 * What schedules need from their store. Writers hold the schedule's lock (see `lock`), so a
 * read-modify-write of the state never interleaves.
 */
export interface ScheduleRecords {
  read(scheduleId: string): Promise<ScheduleRecord | undefined>;
  /** Many records (ids without a record are undefined). */
  readMany(scheduleIds: string[]): Promise<(ScheduleRecord | undefined)[]>;
  /** Writes definition and state (create, update), listing the id first. */
  write(scheduleId: string, record: ScheduleRecord): Promise<void>;
  /** Writes the state and, atomically with it, the actions it took (newest last in `actions`). */
  writeState(scheduleId: string, state: ScheduleState, actions?: ScheduleActionRecord[]): Promise<void>;
  /** The schedule's recent actions, newest first. */
  recentActions(scheduleId: string, limit?: number): Promise<ScheduleActionRecord[]>;
  /** Drops the schedule and unlists it. */
  delete(scheduleId: string): Promise<void>;
  /** Every listed schedule id, sorted. */
  ids(): Promise<string[]>;
  /** Takes (or renews) the schedule's lock for `ttlMs`; false when another owner holds it. */
  lock(scheduleId: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Gives back this owner's lock of the schedule (another owner's is left alone). */
  unlock(scheduleId: string, owner: string): Promise<void>;
}
