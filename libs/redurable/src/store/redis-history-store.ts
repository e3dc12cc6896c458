import { randomUUID } from 'node:crypto';
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './redis-client.js';
import { CorruptHistoryError, LeaseLostError } from '../core/errors/library.errors.js';
import { Reply, defineScripts, type ScriptRunner } from './lua/scripts.js';
import type { HistoryEvent, NewEvent } from '../core/events.js';
import type { KeyNames } from './keys.js';
import { META_FIELDS as M, toMeta } from './meta-schema.js';
import {
  searchAttributesAfter,
  type RecordedSearchAttributes,
  type SearchAttributeDeclarations,
} from '../core/search/search-attributes.js';
import type { StoredEvent } from '../core/events.js';
import type { IdConflictPolicy, IdReusePolicy, ParentInfo, WorkflowMeta } from '../core/workflow-state.js';

export type { StoredEvent, IdConflictPolicy, IdReusePolicy, ParentInfo, WorkflowMeta };

/** A workflow-task lease: the fencing token and the events the task must process. */
export interface Lease {
  fence: number;
  /** True when `events` is the whole history (the caller's cache was stale or absent). */
  full: boolean;
  events: StoredEvent[];
}

export type AcquireResult = { kind: 'acquired'; lease: Lease } | { kind: 'busy' } | { kind: 'closed'; status: string };
export type CompletionResult =
  { kind: 'ignored' } | { kind: 'recorded' } | { kind: 'needs-task' } | { kind: 'acquired'; lease: Lease };
/** How a run ends: a final status, or `continued` with the next run's first event. */
export interface CloseSpec {
  status: 'completed' | 'failed' | 'compensation_failed' | 'canceled' | 'continued';
  value: string;
  next?: { runId: string; started: NewEvent & { type: 'WorkflowExecutionStarted' } };
}

export type StartResult =
  /** `lease`: the first task's lease, taken by the start (eager start). */
  | { kind: 'started'; runId: string; lease?: Lease }
  | { kind: 'existing'; runId: string; wake: boolean }
  | { kind: 'running'; runId: string }
  | { kind: 'reuse-rejected'; status: string }
  | { kind: 'retry' };
export type ExternalResult =
  | { kind: 'not-running'; status: string }
  | { kind: 'recorded' }
  | { kind: 'needs-task' }
  | { kind: 'retry' }
  | { kind: 'changed' };
export type SpeculativeResult = { kind: 'committed'; fence: number; lastId: string } | CompletionResult;
/** `changed`: a clean commit refused, nothing written; `lease` is the whole history under the same (renewed) lease. */
export type CommitResult =
  | { kind: 'done'; lastId: string }
  | { kind: 'more'; lastId: string; events: StoredEvent[] }
  | { kind: 'changed'; lease: Lease };

/** Where a worker's cached instance stands, so the store can return only newer events. */
export interface CacheCursor {
  fence: number;
  lastId: string;
}

type RawEntry = [string, string[]];

/** Which run a batch of entries belongs to, for naming it in a CorruptHistoryError. */
interface RunRef {
  workflowId: string;
  runId: string;
}

function parseEntry(run: RunRef, [streamId, fields]: RawEntry): StoredEvent {
  const f: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  const corrupt = (problem: string) => new CorruptHistoryError(run.workflowId, run.runId, streamId, problem);
  if (f.e === undefined) throw corrupt(`it has no event field 'e' (fields: ${Object.keys(f).join(', ') || 'none'})`);
  let event: HistoryEvent;
  try {
    event = JSON.parse(f.e) as HistoryEvent;
  } catch (err) {
    throw corrupt(`its event is not valid JSON (${(err as Error).message}): ${f.e.slice(0, 80)}`);
  }
  if (!event || typeof event !== 'object' || typeof event.type !== 'string')
    throw corrupt(`its event has no type: ${f.e.slice(0, 80)}`);
  const id = Number(f.i);
  if (!Number.isInteger(id) || id < 1)
    throw corrupt(`its position 'i' is ${JSON.stringify(f.i)}, not a positive integer`);
  event.id = id;
  // Outcome events carry the time the worker gave them (it may have delivered them already);
  // every other event takes the Redis time of its stream id.
  event.ts ??= Number(streamId.slice(0, streamId.indexOf('-')));
  return { streamId, event };
}

function parseEntries(run: RunRef, raw: RawEntry[]): StoredEvent[] {
  return raw.map((entry) => parseEntry(run, entry));
}

/** The search attributes JSON after the upserts among a commit's events, for its script (undefined: none among them). */
function upsertedMap(events: NewEvent[]): string | undefined {
  const map = searchAttributesAfter(events);
  return map ? JSON.stringify(map) : undefined;
}

/** A script answered with a code its wrapper does not know: a library bug or a stale script. */
function unexpected(script: string, res: unknown): never {
  throw new Error(`Unexpected reply from Redurable's ${script} script: ${JSON.stringify(res)?.slice(0, 200)}`);
}

/** What a completion-like script replied (`lease` reads the history of a lease it took). */
async function completionResult(
  script: string,
  res: unknown[],
  lease: (raw: unknown[]) => Promise<Lease>,
): Promise<CompletionResult> {
  switch (Number(res[0])) {
    case Reply.NOT_RUNNING:
      return { kind: 'ignored' };
    case Reply.OK:
      return { kind: 'recorded' };
    case Reply.NEEDS_TASK:
      return { kind: 'needs-task' };
    case Reply.ACQUIRED:
      return { kind: 'acquired', lease: await lease(res) };
    default:
      return unexpected(script, res);
  }
}

/** An entry of a listing index: a workflow id and its start time. */
export interface IndexEntry {
  workflowId: string;
  startedAt: number;
}
/** Where a listing page ended: the last entry returned (pages go by start time, then id, descending). */
export type ListCursor = IndexEntry;
/** Listing order: newest start first, then by id descending in Redis' byte order (as ZREVRANGEBYSCORE orders ties). */
export function compareEntries(a: IndexEntry, b: IndexEntry): number {
  return b.startedAt - a.startedAt || Buffer.compare(Buffer.from(b.workflowId), Buffer.from(a.workflowId));
}

/** Which listing index to read: by status, by type, or all workflows. */
export type IndexChoice = { status: string } | { type: string } | 'all';

/** A closed child whose parent must be told its outcome (stored by the close script). */
export interface ChildNotification {
  parent: ParentInfo;
  status: string;
  value: string;
  runId: string;
}

/**
 * All durable workflow state goes through here: typed wrappers over one Lua script per atomic
 * operation (see lua/), and every read of the library's keys. Nothing else touches them.
 * Payload encoding stays outside. On a Redis Cluster, each call touches one shard (one slot),
 * and reads across shards are pipelined per shard.
 */
export class RedisHistoryStore {
  private readonly run: ScriptRunner;

  constructor(
    private readonly redis: RedisClient,
    readonly keys: KeyNames,
  ) {
    this.run = defineScripts(redis);
  }

  /** The options every script carries: the workflow and its shard's index prefix. */
  private common(workflowId: string): { workflowId: string; idx: string } {
    return { workflowId, idx: this.keys.indexPrefixOf(workflowId) };
  }

  /**
   * Creates a run under the id policies, atomically; with `signal`, signal-with-start.
   * `currentRunId` is the run the caller read (undefined when the id was unknown).
   */
  async start(args: {
    started: NewEvent & { type: 'WorkflowExecutionStarted' };
    reuse: IdReusePolicy;
    conflict: IdConflictPolicy;
    currentRunId?: string;
    signal?: NewEvent & { type: 'SignalReceived' };
    terminateReason: string;
    retentionMs: number;
    parent?: ParentInfo;
    /** Identifies the call across its retries, so a signal-with-start is recorded once. */
    requestId: string;
    /** How long after a change the recovery sweep looks at the workflow (the lease ttl). */
    checkAfterMs: number;
    /** Take the new run's first lease for the caller, for this long (eager start). */
    leaseTtlMs?: number;
  }): Promise<StartResult> {
    const { workflowId, runId } = args.started;
    const current = args.currentRunId ?? runId;
    const k = this.keys;
    const res = (await this.run(
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
      },
      [
        JSON.stringify(args.started),
        JSON.stringify({ type: 'WorkflowExecutionTerminated', reason: args.terminateReason }),
        ...(args.signal ? [JSON.stringify(args.signal)] : []),
      ],
    )) as unknown[];
    switch (Number(res[0])) {
      case Reply.OK: {
        if (res[2] === undefined) return { kind: 'started', runId: String(res[1]) };
        // The lease came with the start: the history is the started event just written (as a replay would read it).
        const streamId = String(res[3]);
        const event = {
          ...JSON.parse(JSON.stringify(args.started)),
          id: 1,
          ts: Number(streamId.slice(0, streamId.indexOf('-'))),
        } as HistoryEvent;
        return {
          kind: 'started',
          runId: String(res[1]),
          lease: { fence: Number(res[2]), full: true, events: [{ streamId, event }] },
        };
      }
      case Reply.EXISTING:
        return { kind: 'existing', runId: String(res[1]), wake: Number(res[2]) === 1 };
      case Reply.CONFLICT:
        return { kind: 'running', runId: String(res[1]) };
      case Reply.REUSE_REJECTED:
        return { kind: 'reuse-rejected', status: String(res[1]) };
      case Reply.RETRY:
        return { kind: 'retry' };
      default:
        return unexpected('startWorkflow', res);
    }
  }

  /**
   * Appends a signal or cancellation request to the current run (read as `runId`). A second
   * call with the same `requestId` (within an hour) records nothing.
   */
  async appendExternal(
    workflowId: string,
    runId: string,
    event: NewEvent,
    cancel: boolean,
    requestId: string,
    expectLen?: number,
  ): Promise<ExternalResult> {
    const k = this.keys;
    const res = (await this.run(
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
    )) as unknown[];
    switch (Number(res[0])) {
      case Reply.NOT_RUNNING:
        return { kind: 'not-running', status: String(res[1]) };
      case Reply.OK:
        return { kind: 'recorded' };
      case Reply.NEEDS_TASK:
        return { kind: 'needs-task' };
      case Reply.RETRY:
        return { kind: 'retry' };
      case Reply.CHANGED:
        return { kind: 'changed' };
      default:
        return unexpected('appendExternal', res);
    }
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
    const res = (await this.run(
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
    )) as unknown[];
    switch (Number(res[0])) {
      case Reply.NOT_RUNNING:
        return { kind: 'not-running', status: String(res[1]) };
      case Reply.OK:
        return { kind: 'recorded' };
      case Reply.RETRY:
        return { kind: 'retry' };
      default:
        return unexpected('terminate', res);
    }
  }

  /**
   * Starts run `newRunId` with `events` (its started event first) after run `oldRunId`, whose
   * history must still be `expectLen` long; closes the old run with `reset` if it is running.
   * `retry` when the current run or its history changed since the caller read them.
   */
  async reset(args: {
    workflowId: string;
    oldRunId: string;
    newRunId: string;
    expectLen: number;
    reset: NewEvent & { type: 'WorkflowExecutionReset' };
    events: (NewEvent & { ts?: number })[];
    done: number[];
    retentionMs: number;
    /** The search attributes the kept events leave the run with (they replace the meta's map and index entries). */
    searchAttributes?: RecordedSearchAttributes;
  }): Promise<{ kind: 'reset'; closedRunning: boolean } | { kind: 'retry' }> {
    const { workflowId, oldRunId, newRunId } = args;
    const k = this.keys;
    const res = (await this.run(
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
      },
      [JSON.stringify(args.reset), ...args.events.map((e) => JSON.stringify(e))],
    )) as unknown[];
    switch (Number(res[0])) {
      case Reply.OK:
        return { kind: 'reset', closedRunning: Number(res[1]) === 1 };
      case Reply.RETRY:
        return { kind: 'retry' };
      default:
        return unexpected('resetWorkflow', res);
    }
  }

  /** Records an activity, timer or child outcome; with `inline`, also tries to take the task lease. */
  async appendCompletion(
    workflowId: string,
    runId: string,
    event: NewEvent & { seq: number; ts?: number },
    inline: boolean,
    leaseTtlMs: number,
    cursor?: CacheCursor,
  ): Promise<CompletionResult> {
    const k = this.keys;
    const res = (await this.run(
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
    )) as unknown[];
    return completionResult('appendCompletion', res, (raw) => this.lease({ workflowId, runId }, raw));
  }

  /**
   * Records an outcome and the commands a cached execution produced from it, in one script,
   * when nobody touched the workflow since `cachedFence`; else records only the outcome.
   */
  async completeAndCommit(args: {
    workflowId: string;
    runId: string;
    outcome: NewEvent & { seq: number; ts: number };
    cachedFence: number;
    leaseTtlMs: number;
    events: NewEvent[];
    close?: CloseSpec;
    dispatch: boolean;
    retentionMs: number;
    /** Keep the lease taken by the commit (the caller goes on with local activities under it). */
    keepLease?: boolean;
  }): Promise<SpeculativeResult> {
    const { workflowId, runId, close } = args;
    const k = this.keys;
    const res = (await this.run(
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
      },
      [JSON.stringify(args.outcome), ...args.events.map((e) => JSON.stringify(e))],
    )) as unknown[];
    if (Number(res[0]) === Reply.COMMITTED) {
      this.announceUpdates(workflowId, args.events);
      return { kind: 'committed', fence: Number(res[1]), lastId: String(res[2]) };
    }
    return completionResult('completeAndCommit', res, (raw) => this.lease({ workflowId, runId }, raw));
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

  /** Takes the task lease of the current run (or of `runId` when given). */
  async acquire(workflowId: string, runId: string, leaseTtlMs: number, cursor?: CacheCursor): Promise<AcquireResult> {
    const res = (await this.run(
      'acquireTask',
      { meta: this.keys.meta(workflowId), history: this.keys.history(workflowId, runId) },
      {
        ...this.common(workflowId),
        runId,
        ttl: leaseTtlMs,
        cacheFence: cursor?.fence,
        cacheLastId: cursor?.lastId || undefined,
        requestId: randomUUID(),
      },
    )) as unknown[];
    switch (Number(res[0])) {
      case Reply.NOT_RUNNING:
        return { kind: 'closed', status: String(res[1]) };
      case Reply.BUSY:
        return { kind: 'busy' };
      case Reply.ACQUIRED:
        return { kind: 'acquired', lease: await this.lease({ workflowId, runId }, res) };
      default:
        return unexpected('acquireTask', res);
    }
  }

  /**
   * Appends a task's events under its fence. `close` ends the run. With `release` the lease is
   * given up, unless events arrived meanwhile: then they are returned and the lease is kept.
   */
  async commit(args: {
    workflowId: string;
    runId: string;
    fence: number;
    lastId: string;
    events: NewEvent[];
    release: boolean;
    leaseTtlMs: number;
    close?: CloseSpec;
    /** 'set' when jobs are dispatched after the lease is released; 'clear' after a full re-dispatch. */
    dispatchMark?: 'set' | 'clear';
    /** How long a closed run is kept, ms (0 = forever). */
    retentionMs?: number;
    /** Refuse (write nothing) if an event arrived since the caller's view: its events hold local outcomes the code saw first. */
    clean?: boolean;
  }): Promise<CommitResult> {
    const { workflowId, runId, close } = args;
    const k = this.keys;
    const res = (await this.run(
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
      },
      args.events.map((e) => JSON.stringify(e)),
    )) as unknown[];
    switch (Number(res[0])) {
      case Reply.CHANGED:
        return { kind: 'changed', lease: await this.lease(args, [Reply.CHANGED, args.fence, res[1], res[2]]) };
      case Reply.LEASE_LOST:
        throw new LeaseLostError(
          `Workflow '${workflowId}' (run ${runId}): lease ${args.fence} was lost; another worker owns the workflow task`,
        );
      case Reply.MORE:
        this.announceUpdates(workflowId, args.events);
        return { kind: 'more', lastId: String(res[1]), events: parseEntries(args, res[2] as RawEntry[]) };
      case Reply.OK:
        this.announceUpdates(workflowId, args.events);
        return { kind: 'done', lastId: String(res[1]) };
      default:
        return unexpected('commitTask', res);
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
    const res = (await this.run(
      'commitTask',
      {
        meta: this.keys.meta(workflowId),
        history: this.keys.history(workflowId, runId),
        done: this.keys.done(workflowId, runId),
        nextHistory: this.keys.history(workflowId, runId),
      },
      { ...this.common(workflowId), fence, ttl: leaseTtlMs, release: false, lastId, ...this.closeArgs(undefined, 0) },
    )) as unknown[];
    if (Number(res[0]) === Reply.LEASE_LOST)
      throw new LeaseLostError(
        `Workflow '${workflowId}' (run ${runId}): lease ${fence} was lost; another worker owns the workflow task`,
      );
  }

  /** Releases the lease after a failed task; undefined when the lease was already lost. */
  async failTask(
    workflowId: string,
    fence: number,
    message: string,
    retry: { baseMs: number; maxMs: number },
  ): Promise<{ attempt: number; delayMs: number } | undefined> {
    const res = (await this.run(
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
    )) as unknown[];
    switch (Number(res[0])) {
      case Reply.OK:
        return { attempt: Number(res[1]), delayMs: Number(res[2]) };
      case Reply.LEASE_LOST:
        return undefined;
      default:
        return unexpected('failTask', res);
    }
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
    const res = await this.run(
      'rescheduleCheck',
      { meta: this.keys.meta(workflowId), dueIndex: this.keys.dueIndexOf(workflowId, taskQueue) },
      {
        ...this.common(workflowId),
        runId: seen?.runId,
        len: seen?.historyLength,
        fence: seen?.fence,
        lease: seen?.lease,
        nextAt: nextAt === undefined ? undefined : Math.ceil(nextAt),
        clearDispatch: clearDispatchMark,
      },
    );
    switch (Number(res)) {
      case Reply.OK:
        return true;
      case Reply.CHANGED:
      case Reply.NOT_RUNNING:
        return false;
      default:
        return unexpected('rescheduleCheck', res);
    }
  }

  /**
   * Claims, renews (or, with `release`, gives back) the sweep of one shard's due index of a task
   * queue for `ttlMs`, so that several workers split the shards; true when this owner holds it
   * (or released it). A claim held by another owner is left alone until it expires.
   */
  async claimSweep(taskQueue: string, shard: number, owner: string, ttlMs: number, release = false): Promise<boolean> {
    const res = await this.run(
      'sweepClaim',
      { lock: this.keys.sweepLock(shard, taskQueue) },
      { workflowId: '', idx: this.keys.indexPrefix(shard), owner, ttl: ttlMs, release },
    );
    switch (Number(res)) {
      case Reply.OK:
        return true;
      case Reply.BUSY:
        return false;
      default:
        return unexpected('sweepClaim', res);
    }
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
    const added = await this.perShard(
      running.map((m) => m.workflowId),
      (pipe, id, i) => pipe.zadd(this.keys.dueIndexOf(id, running[i].taskQueue), 'NX', now, id),
    );
    return added.reduce<number>((n, a) => n + Number(a ?? 0), 0);
  }

  /** Flags a workflow that has started children, so its close queues the parent-close policy. */
  async markHasChildren(workflowId: string): Promise<void> {
    await this.redis.hset(this.keys.meta(workflowId), M.hasChildren, '1');
  }

  /** The id of the workflow's current run (undefined when the id is unknown). */
  async currentRunId(workflowId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.meta(workflowId), M.runId)) ?? undefined;
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
      this.common(childWorkflowId),
    );
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
      this.common(parentWorkflowId),
    );
  }

  private indexKey(shard: number, index: IndexChoice): string {
    if (index === 'all') return this.keys.allIndex(shard);
    return 'status' in index ? this.keys.statusIndex(shard, index.status) : this.keys.typeIndex(shard, index.type);
  }

  /**
   * Up to `limit` entries of one listing index from every shard, newest first, started within
   * [min, max) and after `cursor` (in start time, then id, descending); one list per shard.
   */
  async indexEntries(
    index: IndexChoice,
    range: { min: string; max: string },
    cursor: ListCursor | undefined,
    limit: number,
  ): Promise<IndexEntry[][]> {
    return this.scoredEntries((shard) => this.indexKey(shard, index), range, cursor, limit);
  }

  /**
   * As indexEntries, over any sorted set of workflow ids named per shard by `keyOf` (a search
   * attribute index); `startedAt` of the entries (and of the cursor) is then the entry's score.
   */
  async scoredEntries(
    keyOf: (shard: number) => string,
    range: { min: string; max: string },
    cursor: ListCursor | undefined,
    limit: number,
  ): Promise<IndexEntry[][]> {
    return Promise.all(
      this.keys.allShards().map(async (shard) => {
        const key = keyOf(shard);
        const pipe = this.redis.pipeline();
        // A cursor's entry was within the range: read what is strictly older, then the ids that
        // share its millisecond and come after it (ties go by id, descending, as ZREVRANGE does).
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
        const res = (await pipe.exec()) ?? [];
        for (const [err] of res) if (err) throw err;
        const entries: IndexEntry[] = cursor
          ? (res[1][1] as string[])
              .filter((id) => Buffer.compare(Buffer.from(id), Buffer.from(cursor.workflowId)) < 0)
              .reverse()
              .map((workflowId) => ({ workflowId, startedAt: cursor.startedAt }))
          : [];
        const older = res[0][1] as string[];
        for (let i = 0; i < older.length; i += 2)
          entries.push({ workflowId: older[i], startedAt: Number(older[i + 1]) });
        return entries.slice(0, limit);
      }),
    );
  }

  /** How many entries of a listing index started within [min, max), over every shard. */
  async countIndex(index: IndexChoice, range: { min: string; max: string }): Promise<number> {
    return this.countScored((shard) => this.indexKey(shard, index), range);
  }

  /** How many entries of a per-shard sorted set (see scoredEntries) score within [min, max], over every shard. */
  async countScored(keyOf: (shard: number) => string, range: { min: string; max: string }): Promise<number> {
    const counts = await Promise.all(
      this.keys.allShards().map((shard) => this.redis.zcount(keyOf(shard), range.min, range.max)),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * Records partition counts of task queues that have none recorded; returns the recorded
   * count of each (which may differ from the one asked for).
   */
  async recordPartitions(counts: Record<string, number>): Promise<Record<string, number>> {
    const queues = Object.keys(counts);
    if (queues.length === 0) return {};
    const key = this.keys.partitions();
    const pipe = this.redis.pipeline();
    for (const q of queues) pipe.hsetnx(key, q, String(counts[q]));
    pipe.hmget(key, ...queues);
    const res = (await pipe.exec()) ?? [];
    for (const [err] of res) if (err) throw err;
    const values = res[queues.length][1] as string[];
    return Object.fromEntries(queues.map((q, i) => [q, Number(values[i])]));
  }

  /** The recorded partition count of a task queue, if any. */
  async recordedPartitions(taskQueue: string): Promise<number | undefined> {
    const value = await this.redis.hget(this.keys.partitions(), taskQueue);
    return value === null ? undefined : Number(value);
  }

  /**
   * The layout recorded under the prefix (`<version>:<shards>`), recording `layout` first when
   * `record` and the prefix has none; null when none is recorded.
   */
  async layout(record?: string): Promise<string | null> {
    if (record !== undefined) await this.redis.set(this.keys.layout(), record, 'NX');
    return this.redis.get(this.keys.layout());
  }

  /** Remembers workflow type names a worker serves (a client without the class can then validate a name). */
  async addWorkflowTypes(types: string[]): Promise<void> {
    if (types.length) await this.redis.sadd(this.keys.workflowTypes(), ...types);
  }

  /** Remembers the search attributes each workflow type declares (a client without the class validates against them). */
  async addSearchAttributeDeclarations(declarations: Record<string, SearchAttributeDeclarations>): Promise<void> {
    const entries = Object.entries(declarations).flatMap(([type, declared]) => [type, JSON.stringify(declared)]);
    if (entries.length) await this.redis.hset(this.keys.searchAttributeDeclarations(), ...entries);
  }

  /** Search attribute declarations workers registered, by workflow type. */
  async searchAttributeDeclarations(): Promise<Record<string, SearchAttributeDeclarations>> {
    const raw = await this.redis.hgetall(this.keys.searchAttributeDeclarations());
    return Object.fromEntries(
      Object.entries(raw).map(([type, json]) => [type, JSON.parse(json) as SearchAttributeDeclarations]),
    );
  }

  /** Whether some worker registered this workflow type name. */
  async isKnownWorkflowType(type: string): Promise<boolean> {
    return (await this.redis.sismember(this.keys.workflowTypes(), type)) === 1;
  }

  /**
   * Whether command `seq` (activity, timer) of run `runId` still waits for its outcome: 'recorded'
   * when its outcome is in the history, 'closed' when the run is no longer the running one (an
   * outcome would be refused), else 'outstanding'. One round trip (the keys share a slot).
   */
  async outcomeState(workflowId: string, runId: string, seq: number): Promise<'recorded' | 'closed' | 'outstanding'> {
    const res =
      (await this.redis
        .pipeline()
        .sismember(this.keys.done(workflowId, runId), String(seq))
        .hmget(this.keys.meta(workflowId), M.status, M.runId)
        .exec()) ?? [];
    for (const [err] of res) if (err) throw err;
    if (Number(res[0][1]) === 1) return 'recorded';
    const [status, current] = res[1][1] as (string | null)[];
    return status === 'running' && current === runId ? 'outstanding' : 'closed';
  }

  /**
   * The lease a script took: {ACQUIRED, fence, kind, history}. Kind 0: the few entries after the
   * caller's cursor; 1: the whole (short) history; 2: the id of the history's last entry when
   * the lease was taken, and the history is read here with XRANGE up to it (a native XRANGE
   * costs Redis a fraction of a script returning thousands of entries; events appended meanwhile
   * are left for the task's commit, which returns them). A lease whose entries cannot be read is
   * still held: the error says which fence to fail it with.
   */
  private async lease(run: RunRef, raw: unknown[]): Promise<Lease> {
    const fence = Number(raw[1]);
    const kind = Number(raw[2]);
    try {
      if (kind !== 2) return { fence, full: kind === 1, events: parseEntries(run, raw[3] as RawEntry[]) };
      const entries = (await this.redis.xrange(
        this.keys.history(run.workflowId, run.runId),
        '-',
        String(raw[3]),
      )) as RawEntry[];
      return { fence, full: true, events: parseEntries(run, entries) };
    } catch (err) {
      if (err instanceof CorruptHistoryError) err.leaseFence = fence;
      throw err;
    }
  }

  async readEntries(workflowId: string, runId: string): Promise<StoredEvent[]> {
    return parseEntries(
      { workflowId, runId },
      (await this.redis.xrange(this.keys.history(workflowId, runId), '-', '+')) as RawEntry[],
    );
  }

  /** Whether the run's history holds a cancellation request (read by a parked activity attempt when it wakes). */
  async cancelRequested(workflowId: string, runId: string): Promise<boolean> {
    return (await this.readHistoryLeniently(workflowId, runId)).events.some(
      (e) => e.type === 'WorkflowCancelRequested',
    );
  }

  /** A run's entries after the stream id `afterId` ('-' for all). */
  async readEntriesAfter(workflowId: string, runId: string, afterId: string): Promise<StoredEvent[]> {
    const start = afterId === '-' ? '-' : `(${afterId}`;
    return parseEntries(
      { workflowId, runId },
      (await this.redis.xrange(this.keys.history(workflowId, runId), start, '+')) as RawEntry[],
    );
  }

  /**
   * Committed update results wake the processes waiting for them, on the channel closes are
   * published on. Best effort: a waiter that misses it re-reads on its own (ClosedWatcher).
   */
  private announceUpdates(workflowId: string, events: NewEvent[]): void {
    if (events.some((e) => e.type === 'WorkflowUpdateCompleted'))
      this.redis.publish(this.keys.closedChannel(), workflowId).catch(() => undefined);
  }

  /** The first event of a run's history (its WorkflowExecutionStarted), if it can be read. */
  async startedEvent(
    workflowId: string,
    runId: string,
  ): Promise<(HistoryEvent & { type: 'WorkflowExecutionStarted' }) | undefined> {
    const raw = (await this.redis.xrange(this.keys.history(workflowId, runId), '-', '+', 'COUNT', 1)) as RawEntry[];
    try {
      const event = parseEntries({ workflowId, runId }, raw)[0]?.event;
      return event?.type === 'WorkflowExecutionStarted' ? event : undefined;
    } catch {
      return undefined; // an unreadable entry is the workflow task's problem (it records it)
    }
  }

  /** The last event of a run's history (how a closed run ended). */
  async lastEvent(workflowId: string, runId: string): Promise<HistoryEvent | undefined> {
    const raw = (await this.redis.xrevrange(this.keys.history(workflowId, runId), '+', '-', 'COUNT', 1)) as RawEntry[];
    return parseEntries({ workflowId, runId }, raw)[0]?.event;
  }

  async readHistory(workflowId: string, runId: string): Promise<HistoryEvent[]> {
    return (await this.readEntries(workflowId, runId)).map((e) => e.event);
  }

  /** The events that can be read, and the errors of those that cannot (for describe(), which must still answer). */
  async readHistoryLeniently(
    workflowId: string,
    runId: string,
  ): Promise<{ events: HistoryEvent[]; corrupt: CorruptHistoryError[] }> {
    const raw = (await this.redis.xrange(this.keys.history(workflowId, runId), '-', '+')) as RawEntry[];
    const events: HistoryEvent[] = [];
    const corrupt: CorruptHistoryError[] = [];
    for (const entry of raw) {
      try {
        events.push(parseEntry({ workflowId, runId }, entry).event);
      } catch (err) {
        if (!(err instanceof CorruptHistoryError)) throw err;
        corrupt.push(err);
      }
    }
    return { events, corrupt };
  }

  async getMeta(workflowId: string): Promise<WorkflowMeta | undefined> {
    const h = await this.redis.hgetall(this.keys.meta(workflowId));
    return h && h[M.status] ? toMeta(workflowId, h) : undefined;
  }

  /** Meta hashes of many workflows, one pipeline per shard (missing or unreadable ones are undefined). */
  async getMetas(workflowIds: string[]): Promise<(WorkflowMeta | undefined)[]> {
    const hashes = await this.perShard(workflowIds, (pipe, id) => pipe.hgetall(this.keys.meta(id)), true);
    return hashes.map((h, i) => {
      if (!h || !(h as Record<string, string>)[M.status]) return undefined;
      try {
        return toMeta(workflowIds[i], h as Record<string, string>);
      } catch {
        return undefined; // a damaged field (say, `parent`) must not hide the other workflows of the batch
      }
    });
  }

  /**
   * Runs one command per workflow id, pipelined per shard (a Cluster pipeline must stay on one
   * node), and returns the replies in the ids' order; with `lenient`, a failed command's reply
   * is undefined instead of an error.
   */
  private async perShard(
    ids: string[],
    add: (pipe: ChainableCommander, id: string, i: number) => void,
    lenient = false,
  ): Promise<unknown[]> {
    const groups = new Map<number, number[]>();
    ids.forEach((id, i) => {
      const shard = this.keys.shardOf(id);
      groups.set(shard, [...(groups.get(shard) ?? []), i]);
    });
    const out: unknown[] = new Array(ids.length);
    await Promise.all(
      [...groups.values()].map(async (positions) => {
        const pipe = this.redis.pipeline();
        for (const i of positions) add(pipe, ids[i], i);
        const res = (await pipe.exec()) ?? [];
        positions.forEach((i, j) => {
          const [err, value] = res[j] ?? [];
          if (err && !lenient) throw err;
          out[i] = err ? undefined : value;
        });
      }),
    );
    return out;
  }
}
