import { randomUUID } from 'node:crypto';
import { outstandingOf } from '../core/outstanding.js';
import { crashPoint } from '../core/crash-points.js';
import type {
  ActivityClaims,
  CommandJob,
  DurableMetrics,
  HistoryReader,
  JobDispatcher,
  Logger,
  RecoveryIndex,
} from '../core/ports/index.js';
import type { WorkflowMeta } from '../core/workflow-state.js';
import { deadlineOf, type RunDeadline } from '../core/workflow-timeouts.js';
import type { ChildWorkflows } from './child-workflows.js';
import type { WorkflowSlots } from '../queues/workflow-slots.js';

export interface RecoverySweepDeps {
  histories: HistoryReader;
  /** The due indexes, the child indexes and the store's clock. */
  indexes: RecoveryIndex;
  /** Eager activities' claims: a live one is left alone, an expired one taken over. */
  claims: ActivityClaims;
  /** Adds tasks and lost jobs, and says which jobs exist. */
  dispatcher: JobDispatcher;
  children: Pick<ChildWorkflows, 'notifyParent' | 'applyForClosedParent'>;
  /** Workflow concurrency slots: a waiting run asks again, a closed run's slot left held is freed. */
  slots: Pick<WorkflowSlots, 'recheck' | 'releaseStale' | 'hasStale'>;
  /** Closes a run past its workflow timeout whose timeout job was lost. */
  timeouts: { timeOut(workflowId: string, runId: string, deadline: RunDeadline): Promise<unknown> };
  logger: Logger;
  metrics: DurableMetrics;
  settings: { leaseTtlMs: number; sweepIntervalMs: number };
  /** The task queues whose due indexes this sweep reads. */
  served: Iterable<string>;
}

const BATCH = 500;
const NO_CLAIMS = { live: new Map<number, number>(), taken: [] as number[] };

interface Verdict {
  repaired: boolean;
  /** When to look again; undefined: only after the workflow changes. */
  next?: number;
  /** Every job the last commit owed exists: its dispatch mark can go. */
  dispatchVerified?: boolean;
}
/** At most this many batches per task queue and pass; the rest stays due for the next pass. */
const MAX_BATCHES = 20;
/** Workflows checked concurrently within a batch. */
const LANES = 16;
/** Shards swept concurrently. */
const SHARD_LANES = 4;
/** The sweep's claim on the child indexes of a shard (not a task queue name: those cannot hold '#'). */
const CHILDREN = '#children';
/** The sweep's claim on the flow release index of a shard. */
const FLOW = '#flow';

/**
 * Finds running workflows whose pending work was lost and repairs it: a lease that expired
 * (its worker died mid-task), new events with no task (the process died before enqueuing
 * one), jobs of a committed task that may never have been added, and activity or timer jobs
 * that disappeared (removed in Bull Board, an obliterated queue, a failover that lost the
 * last second of writes). Job ids are deterministic, so re-adding a job is idempotent.
 *
 * A pass reads only the workflows whose check is due (the due index, see
 * lua/includes/due-check.lua): any change pulls a workflow's check to one lease ttl later, and
 * after looking the sweep sets the next one. So a lost task or activity job is found within
 * `leaseTtl` + `sweepInterval`, a lost timer job within `leaseTtl` + `sweepInterval` after its
 * due time, and workflows parked on long timers cost nothing until then.
 *
 * The due indexes are per shard: a pass claims one shard at a time (in a random order) and
 * skips those another worker is sweeping, so several workers split the shards between them.
 */
export class RecoverySweep {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private backfill?: Promise<unknown>;
  private stopped = false;
  /** Identifies this sweep's claims on shards. */
  private readonly owner = randomUUID();
  /** When the last pass ended (health: a sweep that stops passing is lagging). */
  lastPassAt?: number;

  private readonly served: Set<string>;

  constructor(private readonly deps: RecoverySweepDeps) {
    this.served = new Set(deps.served);
  }

  async start(intervalMs: number): Promise<void> {
    await this.runOnce();
    this.backfill = this.backfillDueIndex().catch((err: Error) =>
      this.deps.logger.error(`Recovery sweep could not index running workflows: ${err.message}`, err.stack),
    );
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.runOnce().finally(() => (this.running = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  /** One pass over the due index of each served task queue and the child indexes, shard by shard; returns how many workflows it repaired. */
  async runOnce(): Promise<number> {
    const { indexes, logger } = this.deps;
    let repaired = 0;
    let failed = false;
    try {
      const now = await indexes.serverTime();
      const shards = shuffled(indexes.shards());
      // A few shards at a time (on a Cluster they are on different masters). A shard that fails
      // is logged and the lane goes on, so no lane outlives the pass.
      await Promise.all(
        Array.from({ length: SHARD_LANES }, async () => {
          for (let shard = shards.pop(); shard !== undefined; shard = shards.pop()) {
            try {
              for (const taskQueue of this.served) {
                const due = async () => (await indexes.dueForCheck(shard!, taskQueue, now, 1)).length > 0;
                const n = await this.claimed(
                  shard,
                  taskQueue,
                  due,
                  (renew) => this.sweepDue(shard!, taskQueue, now, renew),
                  0,
                );
                repaired += n; // added after the await: lanes run concurrently
              }
              const before = now - this.deps.settings.leaseTtlMs;
              await this.claimed(
                shard,
                FLOW,
                () => this.deps.slots.hasStale(shard!, before),
                () => this.deps.slots.releaseStale(shard!, before, BATCH),
                0,
              );
              await this.claimed(
                shard,
                CHILDREN,
                () => this.childrenDue(shard!, now),
                () => this.sweepChildren(shard!, now),
                undefined,
              );
            } catch (err) {
              failed = true;
              logger.error(`Recovery sweep failed on shard ${shard}: ${(err as Error).message}`, (err as Error).stack);
            }
          }
        }),
      );
      if (!failed) this.lastPassAt = Date.now();
    } catch (err) {
      logger.error(`Recovery sweep failed: ${(err as Error).message}`, (err as Error).stack);
    }
    return repaired;
  }

  /**
   * Runs `work` on a shard when `due` says it has something to do and no other worker's sweep
   * holds it (else `skipped`); `work` renews the claim as it goes (a long sweep keeps it).
   */
  private async claimed<T>(
    shard: number,
    what: string,
    due: () => Promise<boolean>,
    work: (renew: () => Promise<void>) => Promise<T>,
    skipped: T,
  ): Promise<T> {
    const { indexes, settings: options } = this.deps;
    if (!(await due())) return skipped; // nothing due: no claim to take (most shards, most passes)
    // Held at most this long if this process dies mid-shard.
    const ttl = Math.max(options.leaseTtlMs, 3 * options.sweepIntervalMs);
    if (!(await indexes.claimSweep(what, shard, this.owner, ttl))) return skipped;
    const renew = async () => {
      await indexes.claimSweep(what, shard, this.owner, ttl);
    };
    try {
      return await work(renew);
    } finally {
      await indexes.releaseSweep(what, shard, this.owner);
    }
  }

  private async childrenDue(shard: number, now: number): Promise<boolean> {
    const { indexes, settings: options } = this.deps;
    const before = now - options.leaseTtlMs;
    const [children, parents] = await Promise.all([
      indexes.staleNotifications(shard, before, 1),
      indexes.staleClosedParents(shard, before, 1),
    ]);
    return children.length + parents.length > 0;
  }

  /** Children closed for a while whose parent may not have their outcome, and parents whose children may not have had the parent-close policy. */
  private async sweepChildren(shard: number, now: number): Promise<void> {
    const { indexes, settings: options, children } = this.deps;
    for (const childId of await indexes.staleNotifications(shard, now - options.leaseTtlMs, BATCH))
      await children.notifyParent(childId);
    for (const parentId of await indexes.staleClosedParents(shard, now - options.leaseTtlMs, BATCH))
      await children.applyForClosedParent(parentId);
  }

  private async sweepDue(shard: number, taskQueue: string, now: number, renew: () => Promise<void>): Promise<number> {
    const { histories: store, indexes, logger } = this.deps;
    let repaired = 0;
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      if (batch > 0) await renew();
      const ids = await indexes.dueForCheck(shard, taskQueue, now, BATCH);
      const metas = await store.getMetas(ids);
      // Workflows are independent: check a few at a time.
      let next = 0;
      const lane = async () => {
        for (let i = next++; i < metas.length; i = next++) {
          const meta = metas[i]?.status === 'running' ? metas[i] : undefined;
          try {
            // Closed or expired: it leaves the index (unless a new run started meanwhile).
            const verdict = meta ? await this.check(meta, now) : { repaired: false };
            if (verdict.repaired) repaired++;
            // If it changed meanwhile, the script moves its check to one lease ttl from now.
            await indexes.rescheduleCheck(taskQueue, ids[i], meta, verdict.next, verdict.dispatchVerified === true);
          } catch (err) {
            // One workflow that cannot be checked must not stop the others; it is tried again next pass.
            logger.error(
              `Recovery sweep could not check workflow ${ids[i]}${meta ? ` (run ${meta.runId})` : ''}: ${(err as Error).message}`,
              (err as Error).stack,
            );
          }
        }
      };
      await Promise.all(Array.from({ length: LANES }, lane));
      if (ids.length < BATCH) break;
    }
    return repaired;
  }

  /** Repairs what is lost, and says when to look again (undefined: only after the next change). */
  private async check(meta: WorkflowMeta, now: number): Promise<Verdict> {
    const { dispatcher, logger, settings: options } = this.deps;
    const ttl = options.leaseTtlMs;
    const { workflowId, runId, taskQueue } = meta;
    // A run waiting for its concurrency slot asks again: it may have lost its place in line or
    // its wake-up (a crash between its start and its request, or during a release).
    if (meta.flowWait) {
      const granted = await this.deps.slots.recheck(meta);
      if (granted) logger.log(`Recovery: workflow ${workflowId} (run ${runId}) got its concurrency slot`);
      return { repaired: granted, next: now + ttl };
    }
    // A debounced run before its start time: its delayed task comes then; look once it should have run.
    if (meta.startAt !== undefined && meta.startAt > now) return { repaired: false, next: meta.startAt + ttl };
    const leaseValid = meta.lease !== undefined && meta.leaseExp >= now;
    if (leaseValid) return { repaired: false, next: meta.leaseExp + 1 };
    // A run whose tasks keep failing never reaches checkJobs: its workflow timeout is checked here.
    if (meta.taskFailure !== undefined) {
      const deadline = deadlineOf((await this.deps.histories.startedEvent(workflowId, runId))?.timeouts);
      if (deadline && deadline.at <= now) return this.closePastDeadline(workflowId, runId, deadline);
    }
    // A task that failed waits for its retry time: a broken workflow costs nothing meanwhile.
    if (meta.retryAt !== undefined && meta.retryAt > now) return { repaired: false, next: meta.retryAt };
    const leaseExpired = meta.lease !== undefined;
    if (leaseExpired || meta.dirty) {
      const why = leaseExpired ? 'its lease expired' : 'new events had no task';
      await dispatcher.enqueueTask(workflowId, runId, taskQueue, `sweep-${meta.historyLength}-${meta.leaseExp}`, {
        priority: meta.priority,
        build: meta.pinnedBuild,
      });
      logger.log(`Recovery: enqueued a task for workflow ${workflowId} (run ${runId}): ${why}`);
      this.deps.metrics.sweepRepair(leaseExpired ? 'lease-expired' : 'events-without-task');
      return { repaired: true, next: now + ttl };
    }
    // A commit whose jobs were to be added after it (the dispatch mark): once a lease ttl has
    // passed, check that they exist: re-add what is missing, or clear the mark.
    if (meta.dispatchAt !== undefined && meta.dispatchAt >= now - ttl)
      return { repaired: false, next: meta.dispatchAt + ttl + 1 };
    return this.checkJobs(meta, now, meta.dispatchAt !== undefined);
  }

  /** A run past its workflow timeout whose timeout job was lost (removed, or lost by Redis) is closed here. */
  private async closePastDeadline(workflowId: string, runId: string, deadline: RunDeadline): Promise<Verdict> {
    await this.deps.timeouts.timeOut(workflowId, runId, deadline);
    this.deps.logger.warn(
      `Recovery: workflow ${workflowId} (run ${runId}) was past its ${deadline.timeoutType === 'WORKFLOW_RUN' ? 'workflowRunTimeout' : 'workflowExecutionTimeout'} with no timeout job; closed it as timed_out`,
    );
    this.deps.metrics.sweepRepair('lost-job');
    return { repaired: true };
  }

  /**
   * Re-adds the jobs of outstanding activities, and of timers past their due time (all timers
   * after a commit whose dispatch is unconfirmed), that do not exist or finished without their
   * outcome in the history; children that a commit
   * scheduled and that were never started get a replay, which starts them.
   */
  private async checkJobs(meta: WorkflowMeta, now: number, afterCommit: boolean): Promise<Verdict> {
    const { histories: store, dispatcher, logger, settings: options } = this.deps;
    const ttl = options.leaseTtlMs;
    const { workflowId, runId, taskQueue } = meta;
    // Unreadable entries are the workflow task's problem (it records them); look at the rest.
    const { events } = await store.readHistoryLeniently(workflowId, runId);
    const { activities, timers, children } = outstandingOf(events);
    const started = events[0]?.type === 'WorkflowExecutionStarted' ? events[0] : undefined;
    const trace = started?.trace;
    // A run past its workflow timeout whose timeout job was lost (removed, or lost by Redis).
    const deadline = deadlineOf(started?.timeouts);
    if (deadline && deadline.at <= now) return this.closePastDeadline(workflowId, runId, deadline);
    const dueTimers = afterCommit ? timers : timers.filter((t) => t.dueAt <= now);
    if (afterCommit && children.length > 0) {
      const metas = await store.getMetas(children.map((c) => c.workflowId));
      if (children.some((c, i) => metas[i]?.parent?.runId !== runId || metas[i]?.parent?.seq !== c.seq)) {
        await dispatcher.enqueueTask(
          workflowId,
          runId,
          taskQueue,
          `sweep-children-${meta.historyLength}-${meta.dispatchAt}`,
          { replay: true, priority: meta.priority, build: meta.pinnedBuild },
        );
        logger.log(
          `Recovery: enqueued a replay of workflow ${workflowId} (run ${runId}): a child it scheduled may not have been started`,
        );
        this.deps.metrics.sweepRepair('child-not-started');
        return { repaired: true, next: now + ttl };
      }
    }
    // An eager activity runs in its worker's process under a claim, with no job: a live claim is
    // left alone (looked at again when it expires); an expired one is taken over (its worker can
    // no longer renew it) and the activity's job is added below, as for a lost job.
    const claims =
      activities.length > 0
        ? await this.claimsOf(workflowId, runId, new Set(activities.map((a) => a.seq)), now)
        : NO_CLAIMS;
    const watched: {
      event: (typeof activities)[number] | (typeof dueTimers)[number];
      job: CommandJob;
      what: string;
    }[] = [
      ...activities
        .filter((a) => !claims.live.has(a.seq))
        .map((a) => ({
          event: a,
          job: { kind: 'activity' as const, seq: a.seq, taskQueue: a.options.taskQueue },
          what: `activity '${a.activityType}' (seq ${a.seq})`,
        })),
      ...dueTimers.map((t) => ({
        event: t,
        job: { kind: 'timer' as const, seq: t.seq },
        what: `timer (seq ${t.seq})`,
      })),
    ];
    const owner = { workflowId, runId, taskQueue, trace, priority: meta.priority };
    let repaired = false;
    if (watched.length > 0) {
      const states = await dispatcher.jobStates(
        owner,
        watched.map((w) => w.job),
      );
      // The meta was read before the jobs: if the run closed since, its missing or finished jobs
      // are as they should be (a closed run refuses outcomes), so nothing is re-added.
      if (states.some((s) => s !== 'pending')) {
        const current = await store.getMeta(workflowId);
        if (current?.status !== 'running' || current.runId !== runId) return { repaired: false };
      }
      // A finished job whose outcome is not in the history while its run still runs lost it: the
      // history's write was acknowledged, then lost in a failover before it reached the replica
      // (its job's queue lives on another master). Read again after the job's state (the outcome
      // may have been recorded, or the run closed, which refuses outcomes, since the sweep read
      // the meta), then run it again.
      const finished = watched.filter((_, i) => states[i] === 'finished');
      const unrecorded = (
        await Promise.all(
          finished.map(async (w) =>
            (await store.outcomeState(workflowId, runId, w.event.seq)) === 'outstanding' ? w : undefined,
          ),
        )
      ).filter((w) => w !== undefined);
      for (const w of unrecorded) await dispatcher.removeJob(owner, w.job);
      if (unrecorded.length > 0) {
        logger.warn(
          `Recovery: workflow ${workflowId} (run ${runId}) had no outcome for the finished job of ${unrecorded.map((m) => m.what).join(', ')} (lost by Redis, as in a failover); running it again`,
        );
      }
      const missing = [...watched.filter((_, i) => states[i] === 'missing'), ...unrecorded];
      if (missing.length > 0) {
        await dispatcher.dispatch(
          owner,
          missing.map((m) => m.event),
          now,
        );
        logger.warn(
          `Recovery: workflow ${workflowId} (run ${runId}) had lost the job of ${missing.map((m) => m.what).join(', ')} (removed, or lost by Redis); re-added`,
        );
        this.deps.metrics.sweepRepair('lost-job');
        repaired = true;
      }
    }
    // Taken-over claims go once the activity's job exists (added above, or by its worker's handover).
    for (const seq of claims.taken) await this.deps.claims.releaseClaim(workflowId, runId, seq);
    if (repaired) return { repaired, next: now + ttl }; // look again: then the mark can go
    let next: number | undefined = activities.length > 0 || timers.some((t) => t.dueAt <= now) ? now + ttl : undefined;
    for (const expiresAt of claims.live.values()) next = Math.min(next ?? Infinity, expiresAt + 1);
    for (const t of timers) if (t.dueAt > now) next = Math.min(next ?? Infinity, t.dueAt + ttl);
    if (deadline) next = Math.min(next ?? Infinity, deadline.at + ttl);
    return { repaired, next, dispatchVerified: afterCommit };
  }

  /** The run's claims: live ones (by seq, until when), and the seqs of expired ones, taken over now (or before). */
  private async claimsOf(
    workflowId: string,
    runId: string,
    outstanding: Set<number>,
    now: number,
  ): Promise<{ live: Map<number, number>; taken: number[] }> {
    const { claims, logger } = this.deps;
    const live = new Map<number, number>();
    const taken: number[] = [];
    for (const claim of await claims.claimsOf(workflowId, runId)) {
      if (!outstanding.has(claim.seq)) continue;
      if (!claim.taken && claim.expiresAt >= now) {
        live.set(claim.seq, claim.expiresAt);
        continue;
      }
      const res = claim.taken ? ({ kind: 'taken' } as const) : await claims.takeOverClaim(workflowId, runId, claim.seq);
      crashPoint('sweep.after-takeover');
      if (res.kind === 'live') {
        live.set(claim.seq, res.expiresAt);
      } else {
        taken.push(claim.seq);
        if (!claim.taken)
          logger.warn(
            `Recovery: the claim of worker ${claim.owner} on activity seq ${claim.seq} of workflow ${workflowId} (run ${runId}) expired (the worker died or stalled); its job is added`,
          );
      }
    }
    return { live, taken };
  }

  /**
   * Once per process, in the background: running workflows that are in no due index (started,
   * or last touched, by a version without one) become due now, so every running workflow is
   * watched. Reads each running workflow's meta once, 500 at a time.
   */
  private async backfillDueIndex(): Promise<void> {
    const { histories: store, indexes, logger } = this.deps;
    let added = 0;
    for (const shard of indexes.shards()) {
      for (let start = 0; !this.stopped; start += BATCH) {
        const ids = await indexes.runningIds(shard, start, BATCH);
        if (ids.length === 0) break;
        const metas = (await store.getMetas(ids)).filter(
          (m): m is WorkflowMeta => m !== undefined && this.served.has(m.taskQueue),
        );
        added += await indexes.backfillDueIndex(metas, await indexes.serverTime());
        if (ids.length < BATCH) break;
      }
    }
    if (added > 0)
      logger.log(
        `Recovery sweep: ${added} running workflows were in no due index (started by an older version); they are checked now`,
      );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.backfill;
  }
}

/** A copy of `items` in a random order (so that concurrent sweeps start on different shards). */
function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
