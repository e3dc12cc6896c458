import type { DurableRuntime } from '../module/durable-runtime.js';

const BATCH = 500;

/**
 * Finds open workflows whose pending work was lost between two Redis writes and enqueues
 * a workflow task for them: a lease that expired (its worker died mid-task) or new events
 * with no task holding the lease (the process died before enqueuing one). The task that
 * follows replays the history and re-dispatches every outstanding activity and timer.
 */
export class RecoverySweep {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly runtime: DurableRuntime,
    private readonly served: Set<string>,
  ) {}

  async start(intervalMs: number): Promise<void> {
    await this.runOnce();
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.runOnce().finally(() => (this.running = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  /** One pass over the running-workflows index and the child-notify index; returns how many tasks it enqueued. */
  async runOnce(): Promise<number> {
    const { redis, keys, store, dispatcher, logger, options } = this.runtime;
    let enqueued = 0;
    try {
      const [seconds, micros] = await redis.time();
      const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      for (let start = 0; ; start += BATCH) {
        const ids = await redis.zrange(keys.statusIndex('running'), String(start), String(start + BATCH - 1));
        if (ids.length === 0) break;
        const metas = await store.getMetas(ids);
        for (const meta of metas) {
          if (!meta || meta.status !== 'running' || !this.served.has(meta.taskQueue)) continue;
          const leaseValid = meta.lease !== undefined && meta.leaseExp >= now;
          const leaseExpired = meta.lease !== undefined && !leaseValid;
          // A task that failed waits for its retry time: a broken workflow costs nothing meanwhile.
          const due = meta.retryAt === undefined || meta.retryAt <= now;
          const orphaned = meta.lease === undefined && meta.dirty && due;
          const undispatched = !leaseValid && due && meta.dispatchAt !== undefined && meta.dispatchAt < now - options.leaseTtlMs;
          if (leaseExpired || orphaned || undispatched) {
            const why = leaseExpired ? 'its lease expired' : orphaned ? 'new events had no task' : 'jobs of its last task may not have been dispatched';
            await dispatcher.enqueueTask(meta.workflowId, meta.runId, meta.taskQueue, `sweep-${meta.historyLength}-${meta.leaseExp}-${meta.dispatchAt ?? 0}`, 0, undispatched);
            logger.log?.(`Recovery: enqueued a task for workflow ${meta.workflowId} (run ${meta.runId}): ${why}`);
            enqueued++;
          }
        }
        if (ids.length < BATCH) break;
      }
      // Children closed for a while whose parent may not have their outcome yet.
      const stale = await redis.zrangebyscore(keys.notifyIndex(), '-inf', String(now - options.leaseTtlMs), 'LIMIT', 0, BATCH);
      for (const childId of stale) await this.runtime.children.notifyParent(childId);
      // Parents closed for a while whose children may not have had the parent-close policy.
      const parents = await redis.zrangebyscore(keys.closedParentsIndex(), '-inf', String(now - options.leaseTtlMs), 'LIMIT', 0, BATCH);
      for (const parentId of parents) await this.runtime.children.applyForClosedParent(parentId);
    } catch (err) {
      logger.error?.(`Recovery sweep failed: ${(err as Error).message}`, (err as Error).stack);
    }
    return enqueued;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
