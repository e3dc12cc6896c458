import { CorruptHistoryError, LeaseLostError } from '../../../libs/redurable/src/core/errors/library.errors.js';
import type { NewEvent } from '../../../libs/redurable/src/core/events.js';
import type {
  AcquireResult,
  CacheCursor,
  CloseSpec,
  CommitRequest,
  CommitResult,
  CompletionOptions,
  CompletionResult,
  ExternalOptions,
  ExternalResult,
  FailedTask,
  HistoryWriter,
  Lease,
  SpeculativeResult,
  SpeculativeStep,
  TaskRetry,
  WorkflowTaskStore,
} from '../../../libs/redurable/src/core/ports/index.js';
import { searchAttributesAfter } from '../../../libs/redurable/src/core/search/search-attributes.js';
import type { WorkflowMeta } from '../../../libs/redurable/src/core/workflow-state.js';
import { shardOf } from '../../../libs/redurable/src/store/shards.js';
import { MemoryHistoryReads, streamIdAfter, type MetaRecord, type RunRecord } from './memory-history-reads.js';

type Started = NewEvent & { type: 'WorkflowExecutionStarted' };

/**
 * The histories and metas of workflows in maps, with the semantics of the Lua scripts the
 * engine's ports run on Redis (store/lua/*.lua, store/history-store.ts): the task lease and its
 * fencing token, first outcome wins through each run's done set, the dirty flag (events no task
 * has taken), the dispatch mark, task failures with backoff, and the due index the recovery
 * sweep reads (`checkSoon` on every change, `forgetCheck` on close). Each method does what its
 * script does, in the same order, as one synchronous step (a script is atomic).
 *
 * Simplified, as no test here needs them: request ids and the lease memo (a reply is never lost
 * in memory, so no copy is ever resent); retention (closed runs are kept); the listing, type and
 * search attribute indexes (the meta keeps its search attributes, nothing indexes them); the
 * closed and cancel channels; id reuse and conflict policies (`start` only creates new ids);
 * long histories returned by id (whole-history.lua's kind 2: here every lease carries its events).
 */
export class MemoryHistories
  extends MemoryHistoryReads
  implements WorkflowTaskStore, Pick<HistoryWriter, 'appendExternal' | 'timeOut'>
{
  /** Every commit request, in order. */
  readonly commits: CommitRequest[] = [];

  // ---- what the tests use to set things up (not recorded in `calls`) ----

  /**
   * A new workflow id's first run, as startWorkflow.lua writes it (no id policy: the id must be
   * new or closed): its started event, dirty (it needs its first task), due one `checkAfterMs` on.
   */
  start(started: Started, { checkAfterMs = 1000 }: { checkAfterMs?: number } = {}): void {
    const { workflowId, runId } = started;
    const old = this.metas.get(workflowId);
    if (old?.status === 'running') throw new Error(`test setup: workflow ${workflowId} is running`);
    const run = this.runOf(workflowId, runId);
    this.addEntry(run, 1, JSON.stringify(started));
    const meta: MetaRecord = {
      workflowId,
      type: started.workflowType,
      status: 'running',
      runId,
      taskQueue: started.taskQueue,
      startedAt: this.clock.now(),
      historyLength: 1,
      dirty: true,
      flowWait: false, // no workflow limits here
      fence: old?.fence ?? 0, // fencing tokens keep growing across runs
      leaseExp: 0,
      checkAfter: checkAfterMs,
      hasChildren: false,
      ...(started.parent ? { parent: started.parent } : {}),
      ...(started.searchAttributes ? { searchAttributes: started.searchAttributes } : {}),
    };
    this.metas.set(workflowId, meta);
    this.checkSoon(meta);
  }

  /** Appends events to the current run as earlier tasks would have committed them (no lease, no flag changes). */
  appendRecorded(workflowId: string, events: (NewEvent & { ts?: number })[]): void {
    const meta = this.metaRecord(workflowId)!;
    this.appendEvents(meta, this.runOf(workflowId, meta.runId), events, '');
  }

  /** Appends an entry whose event field `e` is `text` as is (a corrupt entry when it is not an event's JSON). */
  appendRaw(workflowId: string, text: string): string {
    const meta = this.metaRecord(workflowId)!;
    const run = this.runOf(workflowId, meta.runId);
    return this.addEntry(run, ++meta.historyLength, text);
  }

  // ---- WorkflowTaskStore: the task lease path ----

  async acquire(workflowId: string, runId: string, leaseTtlMs: number, cursor?: CacheCursor): Promise<AcquireResult> {
    await this.enter('acquire');
    const meta = this.metas.get(workflowId);
    if (meta?.status !== 'running') return { kind: 'closed', status: meta?.status ?? 'missing' };
    if (meta.runId !== runId) return { kind: 'closed', status: 'other-run' };
    const lease = this.acquireLease(meta, leaseTtlMs, cursor);
    return lease ? { kind: 'acquired', lease } : { kind: 'busy' };
  }

  async commit(request: CommitRequest): Promise<CommitResult> {
    await this.enter('commit');
    this.commits.push(request);
    const { workflowId, runId, fence, leaseTtlMs } = request;
    const meta = this.metas.get(workflowId);
    if (meta?.status !== 'running' || meta.fence !== fence || meta.lease !== String(fence))
      throw leaseLost(workflowId, runId, fence);
    const now = this.clock.now();
    const run = this.runOf(workflowId, runId);
    if (request.clean && meta.dirty) {
      // Refused: the lease is renewed and the events marked seen; the caller replays the whole history.
      meta.dirty = false;
      meta.leaseExp = now + leaseTtlMs;
      return { kind: 'changed', lease: { fence, full: true, events: this.parsed(workflowId, runId) } };
    }
    const lastId = this.appendEvents(meta, run, request.events, request.lastId);
    this.upsertSearchAttributes(meta, request.events);
    clearTaskFailure(meta);
    if (request.close) {
      this.closeWith(meta, run, request.close, request.lastId);
      return { kind: 'done', lastId };
    }
    this.checkSoon(meta);
    if (request.dispatchMark === 'set') meta.dispatchAt = now;
    else if (request.dispatchMark === 'clear') delete meta.dispatchAt;
    if (!request.release) {
      meta.leaseExp = now + leaseTtlMs;
      return { kind: 'done', lastId };
    }
    if (meta.dirty) {
      // Events arrived while the lease was held: they come back (with this commit's own, all
      // after the caller's last id) and the lease is kept for the next round.
      meta.dirty = false;
      meta.leaseExp = now + leaseTtlMs;
      return { kind: 'more', lastId, events: this.after(workflowId, runId, request.lastId) };
    }
    meta.lease = undefined;
    return { kind: 'done', lastId };
  }

  async completeAndCommit(step: SpeculativeStep): Promise<SpeculativeResult> {
    await this.enter('completeAndCommit');
    const { workflowId, runId, outcome, close } = step;
    const meta = this.metas.get(workflowId);
    if (meta?.status !== 'running' || meta.runId !== runId) return { kind: 'ignored' };
    const run = this.runOf(workflowId, runId);
    const now = this.clock.now();
    if (!this.leaseHeld(meta) && meta.fence === step.cachedFence && !meta.dirty) {
      if (run.done.has(outcome.seq)) return { kind: 'ignored' };
      run.done.add(outcome.seq);
      const fence = ++meta.fence;
      const lastId = this.appendEvents(meta, run, [outcome, ...step.events], '');
      this.upsertSearchAttributes(meta, step.events);
      if (close) {
        // Nobody touched the run since its last task: no signal to carry over to a next run.
        this.closeWith(meta, run, close, undefined);
      } else {
        meta.lease = step.keepLease ? String(fence) : undefined;
        if (step.keepLease) meta.leaseExp = now + step.leaseTtlMs;
        meta.dirty = false;
        if (step.dispatch) meta.dispatchAt = now;
        this.checkSoon(meta);
      }
      return { kind: 'committed', fence, lastId };
    }
    // Someone moved the workflow on: the outcome only, as appendCompletion records it (inline).
    return this.afterOutcome(meta, this.appendOutcome(meta, run, runId, outcome), true, step.leaseTtlMs, undefined);
  }

  async appendCompletion(
    workflowId: string,
    runId: string,
    event: NewEvent & { seq: number; ts?: number },
    { leaseTtlMs, inline = false, cursor }: CompletionOptions,
  ): Promise<CompletionResult> {
    await this.enter('appendCompletion');
    const meta = this.metas.get(workflowId);
    if (!meta) return { kind: 'ignored' };
    const appended = this.appendOutcome(meta, this.runOf(workflowId, runId), runId, event);
    return this.afterOutcome(meta, appended, inline, leaseTtlMs, cursor);
  }

  async renewLease(
    workflowId: string,
    runId: string,
    fence: number,
    _lastId: string,
    leaseTtlMs: number,
  ): Promise<void> {
    await this.enter('renewLease');
    // commitTask with nothing to append and the lease kept.
    const meta = this.metas.get(workflowId);
    if (meta?.status !== 'running' || meta.fence !== fence || meta.lease !== String(fence))
      throw leaseLost(workflowId, runId, fence);
    clearTaskFailure(meta);
    this.checkSoon(meta);
    meta.leaseExp = this.clock.now() + leaseTtlMs;
  }

  async failTask(
    workflowId: string,
    fence: number,
    message: string,
    retry: TaskRetry,
  ): Promise<FailedTask | undefined> {
    await this.enter('failTask');
    const meta = this.metas.get(workflowId);
    if (!meta || meta.lease !== String(fence)) return undefined;
    const attempt = (meta.taskAttempt ?? 0) + 1;
    const delayMs = Math.min(retry.maxMs, retry.baseMs * 2 ** (attempt - 1));
    const now = this.clock.now();
    Object.assign(meta, {
      taskAttempt: attempt,
      lease: undefined,
      dirty: true,
      taskFailure: message,
      retryAt: now + delayMs,
    });
    this.checkSoon(meta);
    return { attempt, delayMs, ...(meta.priority !== undefined ? { priority: meta.priority } : {}) };
  }

  async markHasChildren(workflowId: string): Promise<void> {
    await this.enter('markHasChildren');
    const meta = this.metas.get(workflowId);
    if (meta) meta.hasChildren = true;
  }

  /** Not kept here: a replay in these tests prints every workflowLogger() line past its recorded commands. */
  async seenThrough(): Promise<string | undefined> {
    return undefined;
  }

  // ---- writes from outside a task ----

  /** A signal, update or cancellation request (request ids are not remembered: see the class comment). */
  async appendExternal(
    workflowId: string,
    runId: string,
    event: NewEvent,
    options: ExternalOptions,
  ): Promise<ExternalResult> {
    await this.enter('appendExternal');
    const meta = this.metas.get(workflowId);
    if (meta?.runId !== runId) return { kind: 'retry' };
    if (meta.status !== 'running') return { kind: 'not-running', status: meta.status };
    if (options.expectLen !== undefined && meta.historyLength !== options.expectLen) return { kind: 'changed' };
    this.appendFromOutside(meta, this.runOf(workflowId, runId), event);
    return this.leaseHeld(meta) ? { kind: 'recorded' } : { kind: 'needs-task' };
  }

  /** Closes the run as timed_out with `event` (terminate.lua). */
  async timeOut(
    workflowId: string,
    runId: string,
    event: NewEvent & { type: 'WorkflowExecutionTimedOut' },
  ): Promise<ExternalResult> {
    await this.enter('timeOut');
    const meta = this.metas.get(workflowId);
    if (meta?.runId !== runId) return { kind: 'retry' };
    if (meta.status !== 'running') return { kind: 'not-running', status: meta.status };
    const run = this.runOf(workflowId, runId);
    const json = JSON.stringify(event);
    this.addEntry(run, ++meta.historyLength, json);
    this.closeRun(meta, 'timed_out', json);
    return { kind: 'recorded' };
  }

  // ---- the scripts' includes ----

  /** append-events.lua's appendEvents: numbered after the meta's length; returns the last id (or `lastId`). */
  private appendEvents(meta: MetaRecord, run: RunRecord, events: object[], lastId: string): string {
    for (const event of events) lastId = this.addEntry(run, ++meta.historyLength, JSON.stringify(event));
    return lastId;
  }

  /** append-events.lua's appendFromOutside: appended, marked dirty, its check pulled near. */
  private appendFromOutside(meta: MetaRecord, run: RunRecord, event: object): void {
    this.appendEvents(meta, run, [event], '');
    meta.dirty = true;
    this.checkSoon(meta);
  }

  /** The meta keeps the map after the events' last upsert (commitTask's `sa`). */
  private upsertSearchAttributes(meta: MetaRecord, events: NewEvent[]): void {
    const map = searchAttributesAfter(events);
    if (map) meta.searchAttributes = map;
  }

  /** lease-held.lua */
  private leaseHeld(meta: MetaRecord): boolean {
    return meta.lease !== undefined && meta.leaseExp > this.clock.now();
  }

  /** acquire-lease.lua: free or expired, the lease is taken under the next fence. */
  private acquireLease(meta: MetaRecord, ttl: number, cursor: CacheCursor | undefined): Lease | undefined {
    if (this.leaseHeld(meta)) return undefined;
    const fence = ++meta.fence;
    Object.assign(meta, { lease: String(fence), leaseExp: this.clock.now() + ttl, dirty: false });
    this.checkSoon(meta);
    const { workflowId, runId } = meta;
    try {
      if (cursor && cursor.fence + 1 === fence && cursor.lastId)
        return { fence, full: false, events: this.after(workflowId, runId, cursor.lastId) };
      return { fence, full: true, events: this.parsed(workflowId, runId) };
    } catch (err) {
      // As RedisHistoryStore.lease(): the lease is held all the same; the error says which fence.
      if (err instanceof CorruptHistoryError) err.leaseFence = fence;
      throw err;
    }
  }

  /** append-outcome.lua's appendOutcome: first result wins through the done set. */
  private appendOutcome(
    meta: MetaRecord,
    run: RunRecord,
    runId: string,
    event: NewEvent & { seq: number },
  ): 'closed' | 'dup' | 'ok' {
    if (meta.status !== 'running' || meta.runId !== runId) return 'closed';
    if (run.done.has(event.seq)) return 'dup';
    run.done.add(event.seq);
    this.appendFromOutside(meta, run, event);
    return 'ok';
  }

  /** append-outcome.lua's afterOutcome. */
  protected afterOutcome(
    meta: MetaRecord,
    appended: 'closed' | 'dup' | 'ok',
    inline: boolean,
    ttl: number,
    cursor: CacheCursor | undefined,
  ): CompletionResult {
    if (appended === 'closed') return { kind: 'ignored' };
    // A duplicate whose events a task has already taken needs nothing.
    if (appended === 'dup' && !meta.dirty) return { kind: 'ignored' };
    if (inline) {
      const lease = this.acquireLease(meta, ttl, cursor);
      return lease ? { kind: 'acquired', lease } : { kind: 'recorded' };
    }
    return this.leaseHeld(meta) ? { kind: 'recorded' } : { kind: 'needs-task' };
  }

  private closeWith(meta: MetaRecord, run: RunRecord, close: CloseSpec, lastId: string | undefined): void {
    if (close.status === 'continued') this.continueRun(meta, run, close, lastId);
    else this.closeRun(meta, close.status, close.value);
  }

  /** close-run.lua's closeRun (retention and the closed channel left out). */
  private closeRun(meta: MetaRecord, status: Exclude<WorkflowMeta['status'], 'running'>, value: string): void {
    const now = this.clock.now();
    this.forgetCheck(meta);
    Object.assign(meta, { status, closedAt: now, closeValue: value, lease: undefined, dirty: false });
    delete meta.dispatchAt;
    clearTaskFailure(meta);
    const shard = shardOf(meta.workflowId, this.shardCount);
    if (meta.parent) {
      indexOf(this.notify, shard).set(meta.workflowId, now);
      this.notifyData.set(meta.workflowId, { parent: meta.parent, status, value, runId: meta.runId });
    }
    if (meta.hasChildren) {
      indexOf(this.closedParents, shard).set(meta.workflowId, now);
      this.closedParentsData.set(meta.workflowId, meta.runId);
    }
  }

  /**
   * continue-run.lua: the next run starts on the same meta with its started event, and the
   * signals and cancellation requests after `lastId` (which the old run's code never saw) move to it.
   */
  private continueRun(meta: MetaRecord, old: RunRecord, close: CloseSpec, lastId: string | undefined): void {
    const next = close.next!;
    const run = this.runOf(meta.workflowId, next.runId);
    this.addEntry(run, 1, JSON.stringify(next.started));
    let len = 1;
    if (lastId) {
      for (const [id, fields] of old.entries) {
        const json = fields[fields.indexOf('e') + 1];
        const type = (JSON.parse(json) as NewEvent).type;
        if (streamIdAfter(id, lastId) && (type === 'SignalReceived' || type === 'WorkflowCancelRequested'))
          this.addEntry(run, ++len, json);
      }
    }
    // next-run.lua's startNextRun: the fence keeps growing; type, task queue, parent and checkAfter stay.
    Object.assign(meta, {
      runId: next.runId,
      startedAt: this.clock.now(),
      historyLength: len,
      dirty: true,
      lease: undefined,
      leaseExp: 0,
      hasChildren: false,
    });
    for (const field of ['dispatchAt', 'closeValue', 'closedAt'] as const) delete meta[field];
    clearTaskFailure(meta);
    this.checkSoon(meta);
  }

  /** due-check.lua's checkSoon: the check moves to at most `checkAfter` from now (ZADD LT). */
  private checkSoon(meta: MetaRecord): void {
    const index = this.dueIndex(shardOf(meta.workflowId, this.shardCount), meta.taskQueue);
    const at = this.clock.now() + meta.checkAfter;
    const current = index.get(meta.workflowId);
    if (current === undefined || at < current) index.set(meta.workflowId, at);
  }

  private forgetCheck(meta: MetaRecord): void {
    this.dueIndex(shardOf(meta.workflowId, this.shardCount), meta.taskQueue).delete(meta.workflowId);
  }
}

function indexOf(indexes: Map<number, Map<string, number>>, shard: number): Map<string, number> {
  let index = indexes.get(shard);
  if (!index) indexes.set(shard, (index = new Map()));
  return index;
}

function clearTaskFailure(meta: MetaRecord): void {
  delete meta.taskFailure;
  delete meta.taskAttempt;
  delete meta.retryAt;
}

/** The error replies.ts makes of LEASE_LOST. */
function leaseLost(workflowId: string, runId: string, fence: number): LeaseLostError {
  return new LeaseLostError(
    `Workflow '${workflowId}' (run ${runId}): lease ${fence} was lost; another worker owns the workflow task`,
  );
}
