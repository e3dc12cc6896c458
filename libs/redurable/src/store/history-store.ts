import { randomUUID } from 'node:crypto';
import { CorruptHistoryError } from '../core/errors/library.errors.js';
import type { HistoryEvent, NewEvent } from '../core/events.js';
import type {
  AcquireResult,
  CloseSpec,
  CommitRequest,
  CommitResult,
  CacheCursor,
  CompletionOptions,
  CompletionResult,
  ExternalOptions,
  ExternalResult,
  FailedTask,
  HistoryWriter,
  Lease,
  ResetRequest,
  ResetResult,
  SpeculativeResult,
  SpeculativeStep,
  StartRequest,
  StartResult,
  TaskRetry,
  WorkflowTaskStore,
} from '../core/ports/index.js';
import { claimArgs, upsertedMap } from './script-args.js';
import { parseEntries, type RawEntry, type RunRef } from './entries.js';
import { RedisHistoryReads } from './history-reads.js';
import type { KeyNames } from './keys.js';
import type { LeaseReply, OutcomeReplyResult } from './lua/replies.js';
import { defineScripts, type ScriptRunner } from './lua/runner.js';
import { META_FIELDS as M } from './meta-schema.js';
import type { RedisClient } from './redis-client.js';

/**
 * The per-workflow scripts, one atomic operation each (see lua/): starts, writes from outside a
 * task, and the workflow-task lease path; the reads come from RedisHistoryReads. Payload encoding
 * stays outside. Every call touches one workflow's keys and its shard's indexes, which share a
 * hash tag, so each is legal on a Redis Cluster.
 */
export class RedisHistoryStore extends RedisHistoryReads implements HistoryWriter, WorkflowTaskStore {
  private readonly run: ScriptRunner;

  constructor(
    redis: RedisClient,
    keys: KeyNames,
    /** This process's build: every workflow-task lease it takes records it (meta `build`). */
    private readonly buildId?: string,
  ) {
    super(redis, keys);
    this.run = defineScripts(redis);
  }

  /** The options every script carries: the workflow and its shard's index prefix. */
  private common(workflowId: string): { workflowId: string; idx: string; build?: string } {
    return { workflowId, idx: this.keys.indexPrefixOf(workflowId), ...(this.buildId ? { build: this.buildId } : {}) };
  }

  /**
   * Creates a run under the id policies, atomically; with `signal`, signal-with-start.
   * `currentRunId` is the run the caller read (undefined when the id was unknown).
   */
  async start(args: StartRequest): Promise<StartResult> {
    const { workflowId, runId } = args.started;
    const current = args.currentRunId ?? runId;
    const k = this.keys;
    const res = await this.run(
      'startWorkflow',
      {
        meta: k.meta(workflowId),
        history: k.history(workflowId, runId),
        done: k.done(workflowId, runId),
        currentHistory: k.history(workflowId, current),
        currentDone: k.done(workflowId, current),
        requests: k.requests(workflowId),
        requestTimes: k.requestTimes(workflowId),
      },
      {
        ...this.common(workflowId),
        runId,
        type: args.started.workflowType,
        taskQueue: args.started.taskQueue,
        reuse: args.reuse,
        conflict: args.conflict,
        currentRunId: args.currentRunId,
        closedChannel: k.closedChannel(),
        cancelChannel: k.cancelChannel(),
        retentionMs: args.retentionMs,
        parent: args.parent ? JSON.stringify(args.parent) : undefined,
        requestId: args.requestId,
        checkAfterMs: args.checkAfterMs,
        leaseTtl: args.leaseTtlMs,
        sa: args.started.searchAttributes ? JSON.stringify(args.started.searchAttributes) : undefined,
        priority: args.started.priority,
        flow: args.started.flow ? JSON.stringify(args.started.flow) : undefined,
        debounce: args.debounce?.periodMs,
        maxWait: args.debounce?.maxWaitMs,
      },
      [
        JSON.stringify(args.started),
        JSON.stringify({ type: 'WorkflowExecutionTerminated', reason: args.terminateReason }),
        ...(args.signal ? [JSON.stringify(args.signal)] : args.debounce ? [''] : []),
        // The Lua appends its startAt (the closing brace replaced).
        ...(args.debounce ? [JSON.stringify({ type: 'WorkflowStartDebounced', input: args.debounce.input })] : []),
      ],
      { runId },
    );
    if (res.kind !== 'started') return res;
    if (!res.lease)
      return { kind: 'started', runId: res.runId, ...(res.startAt !== undefined ? { startAt: res.startAt } : {}) };
    // The lease came with the start: the history is the started event just written (as a replay would read it).
    const { fence, firstId: streamId } = res.lease;
    const event = {
      ...JSON.parse(JSON.stringify(args.started)),
      id: 1,
      ts: Number(streamId.slice(0, streamId.indexOf('-'))),
    } as HistoryEvent;
    return { kind: 'started', runId: res.runId, lease: { fence, full: true, events: [{ streamId, event }] } };
  }

  /**
   * Appends a signal or cancellation request to the current run (read as `runId`). A second
   * call with the same `requestId` (within an hour) records nothing.
   */
  async appendExternal(
    workflowId: string,
    runId: string,
    event: NewEvent,
    { requestId, cancel, expectLen }: ExternalOptions,
  ): Promise<ExternalResult> {
    const k = this.keys;
    return this.run(
      'appendExternal',
      {
        meta: k.meta(workflowId),
        history: k.history(workflowId, runId),
        requests: k.requests(workflowId),
        requestTimes: k.requestTimes(workflowId),
      },
      {
        ...this.common(workflowId),
        runId,
        cancelChannel: cancel ? k.cancelChannel() : undefined,
        requestId,
        expectLen,
      },
      [JSON.stringify(event)],
      { runId },
    );
  }

  /** Terminates the current run (read as `runId`); a second call with the same `requestId` reports it recorded. */
  async terminate(
    workflowId: string,
    runId: string,
    reason: string,
    retentionMs: number,
    requestId: string,
  ): Promise<ExternalResult> {
    return this.closeFromOutside(
      workflowId,
      runId,
      { type: 'WorkflowExecutionTerminated', reason },
      retentionMs,
      requestId,
    );
  }

  /**
   * Closes run `runId` as `timed_out` with `event` if it is still the running run (`not-running`
   * otherwise); one request id per run, so the timeout job and the recovery sweep record it once.
   */
  async timeOut(
    workflowId: string,
    runId: string,
    event: NewEvent & { type: 'WorkflowExecutionTimedOut' },
    retentionMs: number,
  ): Promise<ExternalResult> {
    return this.closeFromOutside(workflowId, runId, event, retentionMs, `timeout:${runId}`, 'timed_out');
  }

  private async closeFromOutside(
    workflowId: string,
    runId: string,
    event: NewEvent,
    retentionMs: number,
    requestId: string,
    status?: 'timed_out',
  ): Promise<ExternalResult> {
    const k = this.keys;
    return this.run(
      'terminate',
      {
        meta: k.meta(workflowId),
        history: k.history(workflowId, runId),
        done: k.done(workflowId, runId),
        requests: k.requests(workflowId),
        requestTimes: k.requestTimes(workflowId),
      },
      {
        ...this.common(workflowId),
        runId,
        status,
        closedChannel: k.closedChannel(),
        cancelChannel: k.cancelChannel(),
        retentionMs,
        requestId,
      },
      [JSON.stringify(event)],
      { runId },
    );
  }

  /**
   * Starts run `newRunId` with `events` (its started event first) after run `oldRunId`, whose
   * history must still be `expectLen` long; closes the old run with `reset` if it is running.
   * `retry` when the current run or its history changed since the caller read them.
   */
  async reset(args: ResetRequest): Promise<ResetResult> {
    const { workflowId, oldRunId, newRunId } = args;
    const k = this.keys;
    return this.run(
      'resetWorkflow',
      {
        meta: k.meta(workflowId),
        oldHistory: k.history(workflowId, oldRunId),
        oldDone: k.done(workflowId, oldRunId),
        newHistory: k.history(workflowId, newRunId),
        newDone: k.done(workflowId, newRunId),
      },
      {
        ...this.common(workflowId),
        oldRunId,
        newRunId,
        expectLen: args.expectLen,
        done: args.done.map(String),
        retentionMs: args.retentionMs,
        cancelChannel: k.cancelChannel(),
        closedChannel: k.closedChannel(),
        sa: args.searchAttributes ? JSON.stringify(args.searchAttributes) : undefined,
        flow: args.flow ? JSON.stringify(args.flow) : undefined,
      },
      [JSON.stringify(args.reset), ...args.events.map((e) => JSON.stringify(e))],
      { runId: oldRunId },
    );
  }

  /** Records an activity, timer or child outcome; with `inline`, also tries to take the task lease. */
  async appendCompletion(
    workflowId: string,
    runId: string,
    event: NewEvent & { seq: number; ts?: number },
    { leaseTtlMs, inline = false, cursor }: CompletionOptions,
  ): Promise<CompletionResult> {
    const k = this.keys;
    const res = await this.run(
      'appendCompletion',
      {
        meta: k.meta(workflowId),
        history: k.history(workflowId, runId),
        done: k.done(workflowId, runId),
      },
      {
        ...this.common(workflowId),
        runId,
        seq: event.seq,
        inline,
        ttl: leaseTtlMs,
        cacheFence: cursor?.fence,
        cacheLastId: cursor?.lastId || undefined,
        requestId: randomUUID(),
      },
      [JSON.stringify(event)],
      { runId },
    );
    return this.withLease({ workflowId, runId }, res);
  }

  /**
   * Records an outcome and the commands a cached execution produced from it, in one script,
   * when nobody touched the workflow since `cachedFence`; else records only the outcome.
   */
  async completeAndCommit(args: SpeculativeStep): Promise<SpeculativeResult> {
    const { workflowId, runId, close } = args;
    const k = this.keys;
    const res = await this.run(
      'completeAndCommit',
      {
        meta: k.meta(workflowId),
        history: k.history(workflowId, runId),
        done: k.done(workflowId, runId),
        nextHistory: k.history(workflowId, close?.next?.runId ?? runId),
      },
      {
        ...this.common(workflowId),
        runId,
        seq: args.outcome.seq,
        cachedFence: args.cachedFence,
        ttl: args.leaseTtlMs,
        ...this.closeArgs(close, args.retentionMs),
        dispatch: args.dispatch,
        keepLease: args.keepLease,
        requestId: randomUUID(),
        sa: upsertedMap(args.events),
        ...claimArgs(args.claims),
        pin: args.pin || undefined,
      },
      [JSON.stringify(args.outcome), ...args.events.map((e) => JSON.stringify(e))],
      { runId },
    );
    if (res.kind === 'committed') {
      this.announceUpdates(workflowId, args.events);
      return res;
    }
    return this.withLease({ workflowId, runId }, res);
  }

  private closeArgs(close: CloseSpec | undefined, retentionMs: number) {
    return {
      closeStatus: close?.status,
      closeValue: close?.value,
      closedChannel: this.keys.closedChannel(),
      retentionMs,
      nextRunId: close?.next?.runId,
      nextStarted: close?.next ? JSON.stringify(close.next.started) : undefined,
    };
  }

  /** Takes the task lease of the current run (or of `runId` when given); `pinnedOnly`: only if pinned to this build. */
  async acquire(
    workflowId: string,
    runId: string,
    leaseTtlMs: number,
    cursor?: CacheCursor,
    pinnedOnly?: boolean,
  ): Promise<AcquireResult> {
    const res = await this.run(
      'acquireTask',
      { meta: this.keys.meta(workflowId), history: this.keys.history(workflowId, runId) },
      {
        ...this.common(workflowId),
        runId,
        ttl: leaseTtlMs,
        cacheFence: cursor?.fence,
        cacheLastId: cursor?.lastId || undefined,
        requestId: randomUUID(),
        pinnedOnly,
      },
      [],
      { runId },
    );
    return res.kind === 'acquired'
      ? { kind: 'acquired', lease: await this.lease({ workflowId, runId }, res.lease) }
      : res;
  }

  /**
   * Appends a task's events under its fence. `close` ends the run. With `release` the lease is
   * given up, unless events arrived meanwhile: then they are returned and the lease is kept.
   * Throws LeaseLostError when the lease is no longer `fence`.
   */
  async commit(args: CommitRequest): Promise<CommitResult> {
    const { workflowId, runId, close } = args;
    const k = this.keys;
    const res = await this.run(
      'commitTask',
      {
        meta: k.meta(workflowId),
        history: k.history(workflowId, runId),
        done: k.done(workflowId, runId),
        nextHistory: k.history(workflowId, close?.next?.runId ?? runId),
      },
      {
        ...this.common(workflowId),
        fence: args.fence,
        ttl: args.leaseTtlMs,
        release: args.release,
        lastId: args.lastId,
        dispatchMark: args.dispatchMark,
        ...this.closeArgs(close, args.retentionMs ?? 0),
        clean: args.clean,
        requestId: randomUUID(),
        sa: upsertedMap(args.events),
        runId,
        ...claimArgs(args.claims),
        pin: args.pin || undefined,
      },
      args.events.map((e) => JSON.stringify(e)),
      { runId, fence: args.fence },
    );
    switch (res.kind) {
      case 'changed':
        return { kind: 'changed', lease: await this.lease(args, { fence: args.fence, history: res.history }) };
      case 'more':
        this.announceUpdates(workflowId, args.events);
        return { kind: 'more', lastId: res.lastId, events: parseEntries(args, res.entries) };
      case 'done':
        this.announceUpdates(workflowId, args.events);
        return res;
    }
  }

  /**
   * Extends a held lease by its ttl (a task running local activities): commitTask with nothing
   * to append and no request id, so it neither needs nor replaces the lease memo (a resent copy
   * only extends it again). Throws LeaseLostError when the lease is no longer `fence`.
   */
  async renewLease(
    workflowId: string,
    runId: string,
    fence: number,
    lastId: string,
    leaseTtlMs: number,
  ): Promise<void> {
    await this.run(
      'commitTask',
      {
        meta: this.keys.meta(workflowId),
        history: this.keys.history(workflowId, runId),
        done: this.keys.done(workflowId, runId),
        nextHistory: this.keys.history(workflowId, runId),
      },
      { ...this.common(workflowId), fence, ttl: leaseTtlMs, release: false, lastId, ...this.closeArgs(undefined, 0) },
      [],
      { runId, fence },
    );
  }

  /** Releases the lease after a failed task; undefined when the lease was already lost. */
  async failTask(
    workflowId: string,
    fence: number,
    message: string,
    retry: TaskRetry,
  ): Promise<FailedTask | undefined> {
    return this.run(
      'failTask',
      { meta: this.keys.meta(workflowId) },
      {
        ...this.common(workflowId),
        fence,
        message,
        baseMs: retry.baseMs,
        maxMs: retry.maxMs,
        requestId: randomUUID(),
      },
      [],
      { fence },
    );
  }

  /** Flags a workflow that has started children, so its close queues the parent-close policy. */
  async markHasChildren(workflowId: string): Promise<void> {
    await this.redis.hset(this.keys.meta(workflowId), M.hasChildren, '1');
  }

  /** A completion-like script's result, its lease (if it took one) read. */
  private async withLease(run: RunRef, res: OutcomeReplyResult): Promise<CompletionResult> {
    return res.kind === 'acquired' ? { kind: 'acquired', lease: await this.lease(run, res.lease) } : res;
  }

  /**
   * The lease a script took, with its history: the entries it returned (the few after the
   * caller's cursor, or a whole short history), or, for a long history, the entries up to the
   * id it returned, read here with XRANGE (a native XRANGE costs Redis a fraction of a script
   * returning thousands of entries; events appended meanwhile are left for the task's commit,
   * which returns them). A lease whose entries cannot be read is still held: the error says
   * which fence to fail it with.
   */
  private async lease(run: RunRef, reply: LeaseReply): Promise<Lease> {
    const { fence, history } = reply;
    try {
      if ('entries' in history) return { fence, full: history.full, events: parseEntries(run, history.entries) };
      const entries: RawEntry[] = await this.redis.xrange(
        this.keys.history(run.workflowId, run.runId),
        '-',
        history.upTo,
      );
      return { fence, full: true, events: parseEntries(run, entries) };
    } catch (err) {
      if (err instanceof CorruptHistoryError) err.leaseFence = fence;
      throw err;
    }
  }

  /**
   * Committed update results wake the processes waiting for them, on the channel closes are
   * published on. Best effort: a waiter that misses it re-reads on its own (ClosedWatcher).
   */
  private announceUpdates(workflowId: string, events: NewEvent[]): void {
    if (events.some((e) => e.type === 'WorkflowUpdateCompleted'))
      this.redis.publish(this.keys.closedChannel(), workflowId).catch(() => undefined);
  }
}
