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

/** A pass listed in the schedule holds (see `hold`): its schedule and its lock owner. */
export interface ScheduleHold {
  scheduleId: string;
  owner: string;
}

/**
 * What schedules need from their store. Writers hold the schedule's lock (see `lock`), and
 * every state write checks it, so a read-modify-write of the state never interleaves.
 */
export interface ScheduleRecords {
  read(scheduleId: string): Promise<ScheduleRecord | undefined>;
  /** Many records (ids without a record are undefined). */
  readMany(scheduleIds: string[]): Promise<(ScheduleRecord | undefined)[]>;
  /**
   * Writes definition and state (create, update), listing the id first, while `owner` holds
   * the lock; false when it does not (nothing written but the listing).
   */
  write(scheduleId: string, record: ScheduleRecord, owner: string): Promise<boolean>;
  /**
   * Writes the state and, atomically with it, the actions it took (newest last in `actions`),
   * while `owner` holds the lock; false when it does not (nothing written).
   */
  writeState(
    scheduleId: string,
    state: ScheduleState,
    actions: ScheduleActionRecord[],
    owner: string,
  ): Promise<boolean>;
  /** The schedule's recent actions, newest first. */
  recentActions(scheduleId: string, limit?: number): Promise<ScheduleActionRecord[]>;
  /** Drops the schedule and unlists it. */
  delete(scheduleId: string): Promise<void>;
  /** Every listed schedule id, sorted. */
  ids(): Promise<string[]>;
  /** Takes (or renews) the schedule's lock for `ttlMs`; false when another owner holds it. */
  lock(scheduleId: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Extends this owner's lock to `ttlMs` from now; false when it is no longer this owner's (never takes it back). */
  renewLock(scheduleId: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Gives back this owner's lock of the schedule (another owner's is left alone). */
  unlock(scheduleId: string, owner: string): Promise<void>;
  /** The owner of the schedule's lock, if it is held. */
  lockHolder(scheduleId: string): Promise<string | undefined>;
  /**
   * Lists (or keeps listed) a pass handling the schedule, until `ttlMs` from now (Redis' clock):
   * written before the lock is taken and before each renewal, so a pass whose process dies is
   * found by `lapsedHolds` once its lock has expired.
   */
  hold(scheduleId: string, owner: string, ttlMs: number): Promise<void>;
  /** Unlists the pass (after it let go of the lock). */
  unhold(scheduleId: string, owner: string): Promise<void>;
  /** Passes listed past their time (their process died or stalled, or unlisting failed), at most `limit`. */
  lapsedHolds(limit: number): Promise<ScheduleHold[]>;
}
