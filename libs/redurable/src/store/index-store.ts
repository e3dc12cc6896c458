import type {
  ChildIndexes,
  ChildNotification,
  IndexChoice,
  IndexEntry,
  ListCursor,
  ListingIndex,
  RecoveryIndex,
  ScoreRange,
  WorkflowSlotRecords,
} from '../core/ports/index.js';
import type { RecordedWorkflowFlow } from '../core/flow/workflow-flow.js';
import type { WorkflowMeta } from '../core/workflow-state.js';
import type { KeyNames } from './keys.js';
import { defineScripts, type ScriptRunner } from './lua/runner.js';
import { execAll, perShard } from './per-shard.js';
import type { RedisClient } from './redis-client.js';

/**
 * The indexes of each shard, beside its workflows (under the same hash tag): the listing
 * indexes (status, type, all, search attributes), which the scripts keep current, the recovery
 * sweep's due indexes and claims, and the child notification and closed-parent indexes. Reads
 * across shards are pipelined per shard (a Cluster pipeline stays on one node).
 */
export class RedisIndexStore implements ListingIndex, RecoveryIndex, ChildIndexes, WorkflowSlotRecords {
  private readonly run: ScriptRunner;

  constructor(
    private readonly redis: RedisClient,
    readonly keys: KeyNames,
  ) {
    this.run = defineScripts(redis);
  }

  /** The sorted set of one shard that an index choice names. */
  private indexKey(shard: number, index: IndexChoice): string {
    if (index === 'all') return this.keys.allIndex(shard);
    if (index === 'waiting') return this.keys.flowWaitingIndex(shard);
    if ('status' in index) return this.keys.statusIndex(shard, index.status);
    if ('type' in index) return this.keys.typeIndex(shard, index.type);
    return this.keys.searchIndex(shard, index.attribute, 'value' in index ? index.value : undefined);
  }

  /**
   * Up to `limit` entries of one index from every shard, highest score first, within `range`
   * and after `cursor` (in score, then id, descending); one list per shard. The score is the
   * start time, except in a number or datetime attribute's index (its value).
   */
  async entries(
    index: IndexChoice,
    range: ScoreRange,
    cursor: ListCursor | undefined,
    limit: number,
  ): Promise<IndexEntry[][]> {
    return Promise.all(
      this.keys.allShards().map(async (shard) => {
        const key = this.indexKey(shard, index);
        const pipe = this.redis.pipeline();
        // A cursor's entry was within the range: read what is strictly older, then the ids that
        // share its score and come after it (ties go by id, descending, as ZREVRANGE does).
        pipe.zrevrangebyscore(
          key,
          cursor ? `(${cursor.startedAt}` : range.max,
          range.min,
          'WITHSCORES',
          'LIMIT',
          0,
          limit,
        );
        if (cursor) pipe.zrangebyscore(key, cursor.startedAt, cursor.startedAt);
        const [older, tied] = (await execAll(pipe)) as [string[], string[] | undefined];
        const entries: IndexEntry[] =
          cursor && tied
            ? tied
                .filter((id) => Buffer.compare(Buffer.from(id), Buffer.from(cursor.workflowId)) < 0)
                .reverse()
                .map((workflowId) => ({ workflowId, startedAt: cursor.startedAt }))
            : [];
        for (let i = 0; i < older.length; i += 2)
          entries.push({ workflowId: older[i], startedAt: Number(older[i + 1]) });
        return entries.slice(0, limit);
      }),
    );
  }

  /** How many entries of an index score within [min, max], over every shard. */
  async count(index: IndexChoice, range: ScoreRange): Promise<number> {
    const counts = await Promise.all(
      this.keys.allShards().map((shard) => this.redis.zcount(this.indexKey(shard, index), range.min, range.max)),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  shards(): number[] {
    return this.keys.allShards();
  }

  /** Redis' clock, ms (leases and due times use it, never a worker's). */
  async serverTime(): Promise<number> {
    const [seconds, micros] = await this.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /** Running workflows of one shard and task queue whose recovery check is due at `now`, oldest first. */
  async dueForCheck(shard: number, taskQueue: string, now: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.dueIndex(shard, taskQueue), '-inf', String(now), 'LIMIT', 0, limit);
  }

  /**
   * Sets when the sweep looks at a workflow of `taskQueue`'s due index next (undefined: only
   * when something changes), and optionally clears its dispatch mark, provided it is as the
   * sweep read it (`seen`; undefined when it was missing or closed: then it leaves the index
   * unless a new run started meanwhile). False when it changed meanwhile.
   */
  async rescheduleCheck(
    taskQueue: string,
    workflowId: string,
    seen: WorkflowMeta | undefined,
    nextAt: number | undefined,
    clearDispatchMark = false,
  ): Promise<boolean> {
    return this.run(
      'rescheduleCheck',
      { meta: this.keys.meta(workflowId), dueIndex: this.keys.dueIndexOf(workflowId, taskQueue) },
      {
        workflowId,
        idx: this.keys.indexPrefixOf(workflowId),
        runId: seen?.runId,
        len: seen?.historyLength,
        fence: seen?.fence,
        lease: seen?.lease,
        nextAt: nextAt === undefined ? undefined : Math.ceil(nextAt),
        clearDispatch: clearDispatchMark,
      },
    );
  }

  /**
   * Claims (or renews) the sweep of one shard's due index of a task queue for `ttlMs`, so that
   * several workers split the shards; true when this owner holds it. A claim held by another
   * owner is left alone until it expires.
   */
  async claimSweep(taskQueue: string, shard: number, owner: string, ttlMs: number): Promise<boolean> {
    return this.sweepClaim(taskQueue, shard, owner, ttlMs, false);
  }

  /** Gives back this owner's claim on the sweep of one shard (another owner's is left alone). */
  async releaseSweep(taskQueue: string, shard: number, owner: string): Promise<void> {
    await this.sweepClaim(taskQueue, shard, owner, 0, true);
  }

  private sweepClaim(
    taskQueue: string,
    shard: number,
    owner: string,
    ttlMs: number,
    release: boolean,
  ): Promise<boolean> {
    return this.run(
      'sweepClaim',
      { lock: this.keys.sweepLock(shard, taskQueue) },
      { workflowId: '', idx: this.keys.indexPrefix(shard), owner, ttl: ttlMs, release },
    );
  }

  /** Running workflow ids of one shard, by start time, `count` from `start`. */
  async runningIds(shard: number, start: number, count: number): Promise<string[]> {
    return this.redis.zrange(this.keys.statusIndex(shard, 'running'), String(start), String(start + count - 1));
  }

  /**
   * Puts running workflows that are in no due index (started by a version without it) into
   * their task queue's, due now; returns how many it added.
   */
  async backfillDueIndex(metas: WorkflowMeta[], now: number): Promise<number> {
    const running = metas.filter((m) => m.status === 'running');
    const added = await perShard(
      this.redis,
      this.keys,
      running.map((m) => m.workflowId),
      (pipe, id, i) => pipe.zadd(this.keys.dueIndexOf(id, running[i].taskQueue), 'NX', now, id),
    );
    return added.reduce<number>((n, a) => n + Number(a ?? 0), 0);
  }

  /** Closed children of one shard, closed before `before`, whose parent may not have their outcome yet. */
  async staleNotifications(shard: number, before: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.notifyIndex(shard), '-inf', String(before), 'LIMIT', 0, limit);
  }

  /** What a closed child's parent must be told (undefined when it was told already). */
  async notificationOf(childWorkflowId: string): Promise<ChildNotification | undefined> {
    const raw = await this.redis.hget(this.keys.notifyDataIndex(this.keys.shardOf(childWorkflowId)), childWorkflowId);
    return raw ? (JSON.parse(raw) as ChildNotification) : undefined;
  }

  /** The child's parent has its outcome: it leaves the notify index. */
  async childNotified(childWorkflowId: string): Promise<void> {
    const shard = this.keys.shardOf(childWorkflowId);
    await this.run(
      'childNotified',
      { notifyIndex: this.keys.notifyIndex(shard), notifyData: this.keys.notifyDataIndex(shard) },
      { workflowId: childWorkflowId, idx: this.keys.indexPrefix(shard) },
    );
  }

  /** A run that waited for its concurrency slot got it: it takes tasks from now on (false: it no longer runs). */
  flowGranted(workflowId: string, runId: string): Promise<boolean> {
    const shard = this.keys.shardOf(workflowId);
    return this.run(
      'flowGranted',
      { meta: this.keys.meta(workflowId) },
      { workflowId, runId, idx: this.keys.indexPrefix(shard) },
    );
  }

  /** Flow records of runs of one shard closed before `before` whose concurrency slot may not be free yet. */
  async pendingReleases(shard: number, before: number, limit: number): Promise<RecordedWorkflowFlow[]> {
    const holders = await this.redis.zrangebyscore(
      this.keys.flowReleaseIndex(shard),
      '-inf',
      String(before),
      'LIMIT',
      0,
      limit,
    );
    if (holders.length === 0) return [];
    const data = await this.redis.hmget(this.keys.flowReleaseDataIndex(shard), ...holders);
    return data.filter((d): d is string => d !== null).map((d) => JSON.parse(d) as RecordedWorkflowFlow);
  }

  /** A closed run's slot is free: its holder leaves the release index. */
  async flowReleased(workflowId: string, holder: string): Promise<void> {
    const shard = this.keys.shardOf(workflowId);
    await this.run(
      'flowReleased',
      { releaseIndex: this.keys.flowReleaseIndex(shard), releaseData: this.keys.flowReleaseDataIndex(shard) },
      { workflowId, holder, idx: this.keys.indexPrefix(shard) },
    );
  }

  /** Ids of one shard's workflows waiting for a concurrency slot, oldest wait first. */
  waitingIds(shard: number, start: number, count: number): Promise<string[]> {
    return this.redis.zrange(this.keys.flowWaitingIndex(shard), String(start), String(start + count - 1));
  }

  /** Closed parents of one shard, closed before `before`, whose children may not have had the parent-close policy. */
  async staleClosedParents(shard: number, before: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.closedParentsIndex(shard), '-inf', String(before), 'LIMIT', 0, limit);
  }

  /** The closed run of a parent whose children still need the parent-close policy. */
  async closedParentRun(parentWorkflowId: string): Promise<string | undefined> {
    return (
      (await this.redis.hget(
        this.keys.closedParentsDataIndex(this.keys.shardOf(parentWorkflowId)),
        parentWorkflowId,
      )) ?? undefined
    );
  }

  /** The parent's children have had the parent-close policy: it leaves the closed-parents index. */
  async parentHandled(parentWorkflowId: string): Promise<void> {
    const shard = this.keys.shardOf(parentWorkflowId);
    await this.run(
      'parentHandled',
      {
        closedParentsIndex: this.keys.closedParentsIndex(shard),
        closedParentsData: this.keys.closedParentsDataIndex(shard),
      },
      { workflowId: parentWorkflowId, idx: this.keys.indexPrefix(shard) },
    );
  }
}
