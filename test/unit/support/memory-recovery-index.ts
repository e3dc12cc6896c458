import type { RecoveryIndex } from '../../../libs/redurable/src/core/ports/index.js';
import type { WorkflowMeta } from '../../../libs/redurable/src/core/workflow-state.js';
import { shardOf } from '../../../libs/redurable/src/store/shards.js';
import type { MemoryHistories } from './memory-histories.js';

/**
 * What the recovery sweep reads and writes of the indexes (store/index-store.ts), over the due,
 * notify and closed-parents indexes that MemoryHistories keeps as its scripts do: due checks in
 * score order, rescheduleCheck.lua's verdict (written only if the workflow is as the sweep read
 * it), sweepClaim.lua's claims with their expiry.
 */
export class MemoryRecoveryIndex implements RecoveryIndex {
  /** Sweep claims by `<what>|<shard>`. */
  private readonly claims = new Map<string, { owner: string; exp: number }>();

  constructor(private readonly store: MemoryHistories) {}

  shards(): number[] {
    return Array.from({ length: this.store.shardCount }, (_, i) => i);
  }

  async serverTime(): Promise<number> {
    return this.store.clock.now();
  }

  async dueForCheck(shard: number, taskQueue: string, now: number, limit: number): Promise<string[]> {
    return upTo(this.store.dueIndex(shard, taskQueue), now, limit);
  }

  async rescheduleCheck(
    taskQueue: string,
    workflowId: string,
    seen: WorkflowMeta | undefined,
    nextAt: number | undefined,
    clearDispatchMark = false,
  ): Promise<boolean> {
    const index = this.store.dueIndex(shardOf(workflowId, this.store.shardCount), taskQueue);
    const meta = this.store.metaRecord(workflowId);
    if (meta?.status !== 'running') {
      index.delete(workflowId);
      return false;
    }
    const changed =
      meta.runId !== seen?.runId ||
      meta.historyLength !== seen.historyLength ||
      meta.fence !== seen.fence ||
      (meta.lease ?? '') !== (seen.lease ?? '');
    if (changed) {
      // ZADD GT: the change's own check (at most checkAfter from now) stands, never earlier.
      const at = this.store.clock.now() + meta.checkAfter;
      if ((index.get(workflowId) ?? -Infinity) < at) index.set(workflowId, at);
      return false;
    }
    if (clearDispatchMark) delete meta.dispatchAt;
    if (nextAt === undefined) index.delete(workflowId);
    else index.set(workflowId, Math.ceil(nextAt));
    return true;
  }

  /** Claims `what` on `shard` for `owner` (a test may claim as another worker). */
  async claimSweep(what: string, shard: number, owner: string, ttlMs: number): Promise<boolean> {
    const key = `${what}|${shard}`;
    const holder = this.holder(key);
    if (holder && holder !== owner) return false;
    this.claims.set(key, { owner, exp: this.store.clock.now() + ttlMs });
    return true;
  }

  async releaseSweep(what: string, shard: number, owner: string): Promise<void> {
    const key = `${what}|${shard}`;
    if (this.holder(key) === owner) this.claims.delete(key);
  }

  async runningIds(shard: number, start: number, count: number): Promise<string[]> {
    return this.store
      .metasOfShard(shard)
      .filter((m) => m.status === 'running')
      .sort((a, b) => a.startedAt - b.startedAt || (a.workflowId < b.workflowId ? -1 : 1))
      .slice(start, start + count)
      .map((m) => m.workflowId);
  }

  async backfillDueIndex(metas: WorkflowMeta[], now: number): Promise<number> {
    let added = 0;
    for (const m of metas.filter((m) => m.status === 'running')) {
      const index = this.store.dueIndex(shardOf(m.workflowId, this.store.shardCount), m.taskQueue);
      if (index.has(m.workflowId)) continue; // ZADD NX
      index.set(m.workflowId, now);
      added++;
    }
    return added;
  }

  async staleNotifications(shard: number, before: number, limit: number): Promise<string[]> {
    return upTo(this.store.notify.get(shard) ?? new Map(), before, limit);
  }

  async staleClosedParents(shard: number, before: number, limit: number): Promise<string[]> {
    return upTo(this.store.closedParents.get(shard) ?? new Map(), before, limit);
  }

  /** Who holds a claim that has not expired. */
  private holder(key: string): string | undefined {
    const claim = this.claims.get(key);
    return claim && claim.exp > this.store.clock.now() ? claim.owner : undefined;
  }
}

/** ZRANGEBYSCORE -inf max LIMIT 0 limit: members by score, then by member. */
function upTo(index: Map<string, number>, max: number, limit: number): string[] {
  return [...index]
    .filter(([, score]) => score <= max)
    .sort(([a, sa], [b, sb]) => sa - sb || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, limit)
    .map(([id]) => id);
}
