import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { CorruptHistoryError, LeaseLostError } from '../errors/library.errors.js';
import { defineScripts, type ScriptName } from '../lua/scripts.js';
import type { HistoryEvent, NewEvent } from './events.js';
import { KeyNames } from './keys.js';

/** One history event with its stream id (the cursor for reading what came after it). */
export interface StoredEvent {
  streamId: string;
  event: HistoryEvent;
}

/** The meta hash of a workflow's current run. */
export interface WorkflowMeta {
  workflowId: string;
  type: string;
  status: 'running' | 'completed' | 'failed' | 'compensation_failed' | string;
  runId: string;
  taskQueue: string;
  startedAt: number;
  closedAt?: number;
  historyLength: number;
  /** Encoded result (completed) or failure JSON (failed). */
  closeValue?: string;
  /** Last workflow-task failure (for example a non-determinism error) while the task is being retried. */
  taskFailure?: string;
  taskAttempt?: number;
  retryAt?: number;
  dirty: boolean;
  /** Set while jobs of a committed task may not exist yet (see commitTask-4.lua). */
  dispatchAt?: number;
  /** Set on a child workflow: its parent, to report the outcome to. */
  parent?: ParentInfo;
  lease?: string;
  leaseExp: number;
  /** Fencing token of the last lease taken. */
  fence: number;
}

/** A workflow-task lease: the fencing token and the events the task must process. */
export interface Lease {
  fence: number;
  /** True when `events` is the whole history (the caller's cache was stale or absent). */
  full: boolean;
  events: StoredEvent[];
}

export type AcquireResult = { kind: 'acquired'; lease: Lease } | { kind: 'busy' } | { kind: 'closed'; status: string };
export type CompletionResult = { kind: 'ignored' } | { kind: 'recorded' } | { kind: 'needs-task' } | { kind: 'acquired'; lease: Lease };
/** How a run ends: a final status, or `continued` with the next run's first event. */
export interface CloseSpec {
  status: 'completed' | 'failed' | 'compensation_failed' | 'canceled' | 'continued';
  value: string;
  next?: { runId: string; started: NewEvent & { type: 'WorkflowExecutionStarted' } };
}

/** What to do when the id's last run is closed. */
export type IdReusePolicy = 'ALLOW_DUPLICATE' | 'ALLOW_DUPLICATE_FAILED_ONLY' | 'REJECT_DUPLICATE';
/** What to do when a run with the id is running. */
export type IdConflictPolicy = 'FAIL' | 'USE_EXISTING' | 'TERMINATE_EXISTING';
/** Stored in a child's meta: where to report its outcome. */
export interface ParentInfo {
  workflowId: string;
  runId: string;
  seq: number;
  taskQueue: string;
  parentClosePolicy: import('./events.js').ParentClosePolicy;
}

export type StartResult =
  | { kind: 'started'; runId: string }
  | { kind: 'existing'; runId: string; wake: boolean }
  | { kind: 'running'; runId: string }
  | { kind: 'reuse-rejected'; status: string }
  | { kind: 'retry' };
export type ExternalResult = { kind: 'not-running'; status: string } | { kind: 'recorded' } | { kind: 'needs-task' } | { kind: 'retry' };
export type SpeculativeResult = { kind: 'committed'; fence: number; lastId: string } | CompletionResult;
export type CommitResult = { kind: 'done'; lastId: string } | { kind: 'more'; lastId: string; events: StoredEvent[] };

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
  if (!event || typeof event !== 'object' || typeof event.type !== 'string') throw corrupt(`its event has no type: ${f.e.slice(0, 80)}`);
  const id = Number(f.i);
  if (!Number.isInteger(id) || id < 1) throw corrupt(`its position 'i' is ${JSON.stringify(f.i)}, not a positive integer`);
  event.id = id;
  // Outcome events carry the time the worker gave them (it may have delivered them already);
  // every other event takes the Redis time of its stream id.
  event.ts ??= Number(streamId.slice(0, streamId.indexOf('-')));
  return { streamId, event };
}

function parseEntries(run: RunRef, raw: RawEntry[]): StoredEvent[] {
  return raw.map((entry) => parseEntry(run, entry));
}

/** A script answered with a code its wrapper does not know: a library bug or a stale script. */
function unexpected(res: unknown): never {
  throw new Error(`Unexpected reply from a Redurable script: ${JSON.stringify(res)?.slice(0, 200)}`);
}

/** A lease whose entries cannot be read is still held: the error says which fence to fail it with. */
function parseLease(run: RunRef, raw: unknown[]): Lease {
  const fence = Number(raw[1]);
  try {
    return { fence, full: Number(raw[2]) === 1, events: parseEntries(run, raw[3] as RawEntry[]) };
  } catch (err) {
    if (err instanceof CorruptHistoryError) err.leaseFence = fence;
    throw err;
  }
}

/**
 * All durable workflow state goes through here: typed wrappers over one Lua script per
 * atomic operation (see lua/). Payload encoding stays outside.
 */
export class RedisHistoryStore {
  private readonly scripts: Record<ScriptName, (...args: (string | number)[]) => Promise<unknown>>;

  constructor(
    private readonly redis: Redis,
    readonly keys: KeyNames,
  ) {
    this.scripts = defineScripts(redis);
  }

  /**
   * Creates a run under the id policies, atomically; with `signal`, signal-with-start.
   * `currentRunId` is the run the caller read (undefined when the id was unknown).
   */
  async start(args: {
    started: NewEvent & { type: 'WorkflowExecutionStarted' };
    reuse: IdReusePolicy; conflict: IdConflictPolicy; currentRunId?: string;
    signal?: NewEvent & { type: 'SignalReceived' }; terminateReason: string; retentionMs: number; parent?: ParentInfo;
    /** Identifies the call across its retries, so a signal-with-start is recorded once. */
    requestId: string;
    /** How long after a change the recovery sweep looks at the workflow (the lease ttl). */
    checkAfterMs: number;
  }): Promise<StartResult> {
    const { workflowId, runId } = args.started;
    const current = args.currentRunId;
    const res = (await this.scripts.startWorkflow(
      this.keys.meta(workflowId), this.keys.history(workflowId, runId), this.keys.done(workflowId, runId),
      current ? this.keys.history(workflowId, current) : this.keys.history(workflowId, runId),
      runId, args.started.workflowType, args.started.taskQueue, JSON.stringify(args.started), args.reuse, args.conflict, current ?? '',
      this.keys.indexPrefix(), workflowId, args.signal ? JSON.stringify(args.signal) : '',
      JSON.stringify({ type: 'WorkflowExecutionTerminated', reason: args.terminateReason }),
      this.keys.closedChannel(), this.keys.cancelChannel(), args.retentionMs, args.parent ? JSON.stringify(args.parent) : '', args.requestId, args.checkAfterMs,
    )) as unknown[];
    switch (Number(res[0])) {
      case 1: return { kind: 'started', runId: String(res[1]) };
      case 2: return { kind: 'existing', runId: String(res[1]), wake: Number(res[2]) === 1 };
      case -1: return { kind: 'running', runId: String(res[1]) };
      case -4: return { kind: 'reuse-rejected', status: String(res[1]) };
      case -9: return { kind: 'retry' };
      default: return unexpected(res);
    }
  }

  /**
   * Appends a signal or cancellation request to the current run (read as `runId`). A second
   * call with the same `requestId` (within an hour) records nothing.
   */
  async appendExternal(workflowId: string, runId: string, event: NewEvent, cancel: boolean, requestId: string): Promise<ExternalResult> {
    const res = (await this.scripts.appendExternal(
      this.keys.meta(workflowId), this.keys.history(workflowId, runId), runId, JSON.stringify(event), cancel ? this.keys.cancelChannel() : '', workflowId, requestId,
    )) as unknown[];
    switch (Number(res[0])) {
      case 0: return { kind: 'not-running', status: String(res[1]) };
      case 1: return { kind: 'recorded' };
      case 3: return { kind: 'needs-task' };
      case -9: return { kind: 'retry' };
      default: return unexpected(res);
    }
  }

  /** Terminates the current run (read as `runId`); a second call with the same `requestId` reports it recorded. */
  async terminate(workflowId: string, runId: string, reason: string, retentionMs: number, requestId: string): Promise<ExternalResult> {
    const res = (await this.scripts.terminate(
      this.keys.meta(workflowId), this.keys.history(workflowId, runId), this.keys.done(workflowId, runId),
      runId, JSON.stringify({ type: 'WorkflowExecutionTerminated', reason }), this.keys.indexPrefix(), workflowId,
      this.keys.closedChannel(), this.keys.cancelChannel(), retentionMs, requestId,
    )) as unknown[];
    switch (Number(res[0])) {
      case 0: return { kind: 'not-running', status: String(res[1]) };
      case 1: return { kind: 'recorded' };
      case -9: return { kind: 'retry' };
      default: return unexpected(res);
    }
  }

  /** Records an activity or timer outcome; with `inline`, also tries to take the task lease. */
  async appendCompletion(
    workflowId: string, runId: string, event: NewEvent & { seq: number; ts?: number }, inline: boolean, leaseTtlMs: number, cursor?: CacheCursor,
  ): Promise<CompletionResult> {
    const res = (await this.scripts.appendCompletion(
      this.keys.meta(workflowId), this.keys.history(workflowId, runId), this.keys.done(workflowId, runId),
      runId, event.seq, JSON.stringify(event), inline ? 1 : 0, leaseTtlMs, cursor?.fence ?? '', cursor?.lastId ?? '', randomUUID(),
    )) as unknown[];
    switch (Number(res[0])) {
      case 0: return { kind: 'ignored' };
      case 1: return { kind: 'recorded' };
      case 3: return { kind: 'needs-task' };
      case 2: return { kind: 'acquired', lease: parseLease({ workflowId, runId }, res) };
      default: return unexpected(res);
    }
  }

  /**
   * Records an outcome and the commands a cached execution produced from it, in one script,
   * when nobody touched the workflow since `cachedFence`; else records only the outcome.
   */
  async completeAndCommit(args: {
    workflowId: string; runId: string; outcome: NewEvent & { seq: number; ts: number }; cachedFence: number; leaseTtlMs: number;
    events: NewEvent[]; close?: CloseSpec; dispatch: boolean; retentionMs: number;
  }): Promise<SpeculativeResult> {
    const { workflowId, runId, close } = args;
    const res = (await this.scripts.completeAndCommit(
      this.keys.meta(workflowId), this.keys.history(workflowId, runId), this.keys.done(workflowId, runId),
      this.keys.history(workflowId, close?.next?.runId ?? runId),
      runId, args.outcome.seq, JSON.stringify(args.outcome), args.cachedFence, args.leaseTtlMs,
      close?.status ?? '', close?.value ?? '', this.keys.closedChannel(), workflowId, args.dispatch ? 'set' : '', args.retentionMs,
      this.keys.indexPrefix(), close?.next?.runId ?? '', close?.next ? JSON.stringify(close.next.started) : '', randomUUID(),
      ...args.events.map((e) => JSON.stringify(e)),
    )) as unknown[];
    switch (Number(res[0])) {
      case 5: return { kind: 'committed', fence: Number(res[1]), lastId: String(res[2]) };
      case 0: return { kind: 'ignored' };
      case 1: return { kind: 'recorded' };
      case 3: return { kind: 'needs-task' };
      case 2: return { kind: 'acquired', lease: parseLease({ workflowId, runId }, res) };
      default: return unexpected(res);
    }
  }

  /** Takes the task lease of the current run (or of `runId` when given). */
  async acquire(workflowId: string, runId: string, leaseTtlMs: number, cursor?: CacheCursor): Promise<AcquireResult> {
    const res = (await this.scripts.acquireTask(
      this.keys.meta(workflowId), this.keys.history(workflowId, runId), leaseTtlMs, cursor?.fence ?? '', cursor?.lastId ?? '', runId, randomUUID(),
    )) as unknown[];
    switch (Number(res[0])) {
      case 0: return { kind: 'closed', status: String(res[1]) };
      case -2: return { kind: 'busy' };
      case 2: return { kind: 'acquired', lease: parseLease({ workflowId, runId }, res) };
      default: return unexpected(res);
    }
  }

  /**
   * Appends a task's events under its fence. `close` ends the run. With `release` the lease is
   * given up, unless events arrived meanwhile: then they are returned and the lease is kept.
   */
  async commit(args: {
    workflowId: string; runId: string; fence: number; lastId: string; events: NewEvent[];
    release: boolean; leaseTtlMs: number; close?: CloseSpec;
    /** 'set' when jobs are dispatched after the lease is released; 'clear' after a full re-dispatch. */
    dispatchMark?: 'set' | 'clear';
    /** How long a closed run is kept, ms (0 = forever). */
    retentionMs?: number;
  }): Promise<CommitResult> {
    const next = args.close?.next;
    const res = (await this.scripts.commitTask(
      this.keys.meta(args.workflowId), this.keys.history(args.workflowId, args.runId), this.keys.done(args.workflowId, args.runId),
      this.keys.history(args.workflowId, next?.runId ?? args.runId),
      args.fence, args.leaseTtlMs, args.release ? 1 : 0, args.close?.status ?? '', args.close?.value ?? '',
      this.keys.closedChannel(), args.workflowId, args.lastId, args.dispatchMark ?? '', args.retentionMs ?? 0,
      this.keys.indexPrefix(), next?.runId ?? '', next ? JSON.stringify(next.started) : '', randomUUID(),
      ...args.events.map((e) => JSON.stringify(e)),
    )) as unknown[];
    const code = Number(res[0]);
    if (code === -3) throw new LeaseLostError(`Workflow '${args.workflowId}' (run ${args.runId}): lease ${args.fence} was lost; another worker owns the workflow task`);
    if (code === 2) return { kind: 'more', lastId: String(res[1]), events: parseEntries(args, res[2] as RawEntry[]) };
    return { kind: 'done', lastId: String(res[1]) };
  }

  /** Releases the lease after a failed task; undefined when the lease was already lost. */
  async failTask(workflowId: string, fence: number, message: string, retry: { baseMs: number; maxMs: number }): Promise<{ attempt: number; delayMs: number } | undefined> {
    const res = (await this.scripts.failTask(this.keys.meta(workflowId), fence, message, retry.baseMs, retry.maxMs, randomUUID())) as number[];
    return Number(res[0]) === 1 ? { attempt: Number(res[1]), delayMs: Number(res[2]) } : undefined;
  }

  /** Running workflows of a task queue whose recovery check is due at `now`, oldest first. */
  async dueForCheck(taskQueue: string, now: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.dueIndex(taskQueue), '-inf', String(now), 'LIMIT', 0, limit);
  }

  /**
   * Sets when the sweep looks at a workflow of `taskQueue`'s due index next (undefined: only
   * when something changes), and optionally clears its dispatch mark, provided it is as the
   * sweep read it (`seen`; undefined when it was missing or closed: then it leaves the index
   * unless a new run started meanwhile). False when it changed meanwhile.
   */
  async rescheduleCheck(taskQueue: string, workflowId: string, seen: WorkflowMeta | undefined, nextAt: number | undefined, clearDispatchMark = false): Promise<boolean> {
    const res = await this.scripts.rescheduleCheck(
      this.keys.meta(workflowId), seen?.runId ?? '', String(seen?.historyLength ?? ''), String(seen?.fence ?? ''), seen?.lease ?? '',
      nextAt === undefined ? '' : Math.ceil(nextAt), clearDispatchMark ? '1' : '', this.keys.dueIndex(taskQueue), workflowId,
    );
    return Number(res) === 1;
  }

  /**
   * Puts running workflows that are in no due index (started by a version without it) into
   * their task queue's, due now; returns how many it added.
   */
  async backfillDueIndex(metas: WorkflowMeta[], now: number): Promise<number> {
    const pipe = this.redis.pipeline();
    for (const m of metas) if (m.status === 'running') pipe.zadd(this.keys.dueIndex(m.taskQueue), 'NX', now, m.workflowId);
    const res = (await pipe.exec()) ?? [];
    return res.reduce((n, [, added]) => n + Number(added ?? 0), 0);
  }

  /** Flags a workflow that has started children, so its close queues the parent-close policy. */
  async markHasChildren(workflowId: string): Promise<void> {
    await this.redis.hset(this.keys.meta(workflowId), 'hasChildren', '1');
  }

  /** Whether the outcome of command `seq` (activity, timer) is already recorded. */
  async isRecorded(workflowId: string, runId: string, seq: number): Promise<boolean> {
    return (await this.redis.sismember(this.keys.done(workflowId, runId), String(seq))) === 1;
  }

  async readEntries(workflowId: string, runId: string): Promise<StoredEvent[]> {
    return parseEntries({ workflowId, runId }, (await this.redis.xrange(this.keys.history(workflowId, runId), '-', '+')) as RawEntry[]);
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
  async readHistoryLeniently(workflowId: string, runId: string): Promise<{ events: HistoryEvent[]; corrupt: CorruptHistoryError[] }> {
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
    return h && h.status ? toMeta(workflowId, h) : undefined;
  }

  /** Meta hashes of many workflows in one round trip (missing or unreadable ones are undefined). */
  async getMetas(workflowIds: string[]): Promise<(WorkflowMeta | undefined)[]> {
    if (workflowIds.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of workflowIds) pipe.hgetall(this.keys.meta(id));
    const res = (await pipe.exec()) ?? [];
    return res.map(([err, h], i) => {
      if (err || !h || !(h as Record<string, string>).status) return undefined;
      try {
        return toMeta(workflowIds[i], h as Record<string, string>);
      } catch {
        return undefined; // a damaged field (say, `parent`) must not hide the other workflows of the batch
      }
    });
  }
}

function toMeta(workflowId: string, h: Record<string, string>): WorkflowMeta {
  const num = (v?: string) => (v === undefined || v === '' ? undefined : Number(v));
  return {
    workflowId,
    type: h.type,
    status: h.status,
    runId: h.runId,
    taskQueue: h.taskQueue,
    startedAt: Number(h.startedAt),
    closedAt: num(h.closedAt),
    historyLength: Number(h.len ?? 0),
    closeValue: h.closeValue,
    taskFailure: h.taskFailure,
    taskAttempt: num(h.taskAttempt),
    retryAt: num(h.retryAt),
    dirty: h.dirty === '1',
    dispatchAt: num(h.dispatchAt),
    parent: h.parent ? (JSON.parse(h.parent) as ParentInfo) : undefined,
    lease: h.lease || undefined,
    leaseExp: Number(h.leaseExp ?? 0),
    fence: Number(h.fence ?? 0),
  };
}
