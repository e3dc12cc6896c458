import type { PlanIndex } from '../search/list-plan.js';
import type { ParentInfo, WorkflowMeta } from '../workflow-state.js';

/**
 * What the client and the recovery sweep need from the indexes kept beside the histories. Each
 * index is split into logical shards (a workflow's entries live in its shard): listings merge
 * the shards, the sweep claims them one at a time.
 */

/** An entry of a listing index: a workflow id and its score (its start time, or a ranged attribute's value). */
export interface IndexEntry {
  workflowId: string;
  startedAt: number;
}

/** Where a listing page ended: the last entry returned (pages go by score, then id, descending). */
export type ListCursor = IndexEntry;

/** Listing order: highest score first, then by id descending in Redis' byte order (as ZREVRANGEBYSCORE orders ties). */
export function compareEntries(a: IndexEntry, b: IndexEntry): number {
  return b.startedAt - a.startedAt || Buffer.compare(Buffer.from(b.workflowId), Buffer.from(a.workflowId));
}

/** Which listing index to read: by status, by type, all workflows, or a search attribute's (see planListing). */
export type IndexChoice = PlanIndex;

/** A score range, as Redis takes it: numbers, `(` before an exclusive bound, `-inf` and `+inf`. */
export interface ScoreRange {
  min: string;
  max: string;
}

/** Listing and counting workflows (`client.list()`, `client.count()`). */
export interface ListingIndex {
  /**
   * Up to `limit` entries of one index from every shard, highest score first, within `range`
   * and after `cursor` (in score, then id, descending); one list per shard.
   */
  entries(
    index: IndexChoice,
    range: ScoreRange,
    cursor: ListCursor | undefined,
    limit: number,
  ): Promise<IndexEntry[][]>;
  /** How many entries of an index score within `range`, over every shard. */
  count(index: IndexChoice, range: ScoreRange): Promise<number>;
}

/** A closed child whose parent must be told its outcome (stored when the child closed). */
export interface ChildNotification {
  parent: ParentInfo;
  status: string;
  value: string;
  runId: string;
}

/**
 * What is left to do between a parent and its children once one of them closed: a child's
 * outcome to record in its parent, a parent's children to apply the parent-close policy to.
 * Each stays indexed until done, so a crash between the steps is retried.
 */
export interface ChildIndexes {
  /** Closed children of one shard, closed before `before`, whose parent may not have their outcome yet. */
  staleNotifications(shard: number, before: number, limit: number): Promise<string[]>;
  /** What a closed child's parent must be told (undefined when it was told already). */
  notificationOf(childWorkflowId: string): Promise<ChildNotification | undefined>;
  /** The child's parent has its outcome: it leaves the index. */
  childNotified(childWorkflowId: string): Promise<void>;
  /** Closed parents of one shard, closed before `before`, whose children may not have had the parent-close policy. */
  staleClosedParents(shard: number, before: number, limit: number): Promise<string[]>;
  /** The closed run of a parent whose children still need the parent-close policy. */
  closedParentRun(parentWorkflowId: string): Promise<string | undefined>;
  /** The parent's children have had the parent-close policy: it leaves the index. */
  parentHandled(parentWorkflowId: string): Promise<void>;
}

/**
 * What the recovery sweep needs: per shard and task queue, which running workflows are due for
 * a check (the due index), a claim on a shard so several workers split them, and the store's
 * clock, which due times and leases use.
 */
export interface RecoveryIndex extends Pick<ChildIndexes, 'staleNotifications' | 'staleClosedParents'> {
  /** Every shard number, 0 to shards - 1. */
  shards(): number[];
  /** The store's clock, ms (leases and due times use it, never a worker's). */
  serverTime(): Promise<number>;
  /** Running workflows of one shard and task queue whose check is due at `now`, oldest first. */
  dueForCheck(shard: number, taskQueue: string, now: number, limit: number): Promise<string[]>;
  /**
   * Sets when the sweep looks at a workflow next (undefined: only when something changes), and
   * optionally clears its dispatch mark, provided it is as the sweep read it (`seen`; undefined
   * when it was missing or closed). False when it changed meanwhile.
   */
  rescheduleCheck(
    taskQueue: string,
    workflowId: string,
    seen: WorkflowMeta | undefined,
    nextAt: number | undefined,
    clearDispatchMark?: boolean,
  ): Promise<boolean>;
  /**
   * Claims (or renews) the sweep of one shard for `ttlMs`; true when this owner holds it, false
   * while another owner does. `what` names the due index swept.
   */
  claimSweep(what: string, shard: number, owner: string, ttlMs: number): Promise<boolean>;
  /** Gives back this owner's claim on the sweep of one shard (another owner's is left alone). */
  releaseSweep(what: string, shard: number, owner: string): Promise<void>;
  /** Running workflow ids of one shard, by start time, `count` from `start`. */
  runningIds(shard: number, start: number, count: number): Promise<string[]>;
  /** Puts running workflows that are in no due index into their task queue's, due `now`; returns how many it added. */
  backfillDueIndex(metas: WorkflowMeta[], now: number): Promise<number>;
}
