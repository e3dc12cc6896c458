import type { ClaimRequest } from './claims.js';
import type { CorruptHistoryError } from '../errors/library.errors.js';
import type { HistoryEvent, NewEvent, Payload, StoredEvent } from '../events.js';
import type { DebounceMs } from '../flow/debounce.js';
import type { RecordedWorkflowFlow } from '../flow/workflow-flow.js';
import type { RecordedSearchAttributes } from '../search/search-attributes.js';
import type { IdConflictPolicy, IdReusePolicy, ParentInfo, WorkflowMeta } from '../workflow-state.js';

/**
 * What the engine, the client and the queues need from the store of workflow histories: a
 * workflow's meta (its current run) and each run's history of events, read and written. Every
 * write is atomic (one script on Redis); results say what happened, never throw for an
 * expected refusal (a stale run, a lease held by another task), so callers branch on `kind`.
 */

/** A workflow-task lease: the fencing token and the events the task must process. */
export interface Lease {
  fence: number;
  /** True when `events` is the whole history (the caller's cache was stale or absent). */
  full: boolean;
  events: StoredEvent[];
}

/** Where a worker's cached instance stands, so the store can return only newer events. */
export interface CacheCursor {
  fence: number;
  lastId: string;
}

/** `closed`: the run is not running, or is not the run asked for (`status` says which). */
export type AcquireResult =
  | { kind: 'acquired'; lease: Lease }
  | { kind: 'busy' }
  | { kind: 'closed'; status: string }
  /** A debounced run whose start time (Redis' clock) is `inMs` away: its task came early (clocks differ). */
  | { kind: 'not-due'; inMs: number; priority?: number }
  /** The run is pinned to another build (`@Workflow({ versioning: 'pinned' })`): its task goes to that build's queue. */
  | { kind: 'wrong-build'; build: string; priority?: number; fence: number };

/**
 * What recording an outcome did: `ignored` (the run is closed or another run, or the outcome
 * was already taken by a task), `recorded` (a task holds the lease and will see it),
 * `needs-task` (the caller enqueues one: on `build`'s queue for a pinned run), `acquired` (the
 * caller runs the task under this lease).
 */
export type CompletionResult =
  | { kind: 'ignored' }
  | { kind: 'recorded' }
  | { kind: 'needs-task'; build?: string }
  | { kind: 'acquired'; lease: Lease };

/** A speculative step: committed with its outcome under a new fence, or only the outcome recorded (as a completion). */
export type SpeculativeResult = { kind: 'committed'; fence: number; lastId: string } | CompletionResult;

/**
 * `done`: committed; `more`: committed, and events arrived meanwhile (the lease is kept);
 * `changed`: a clean commit refused, nothing written; `lease` is the whole history under the
 * same (renewed) lease.
 */
export type CommitResult =
  /** `handoff`: events arrived, but the run was moved to that build meanwhile: the caller enqueues its task there. */
  | { kind: 'done'; lastId: string; handoff?: string }
  | { kind: 'more'; lastId: string; events: StoredEvent[] }
  | { kind: 'changed'; lease: Lease };

/** How a run ends: a final status, or `continued` with the next run's first event. */
export interface CloseSpec {
  status: 'completed' | 'failed' | 'compensation_failed' | 'canceled' | 'continued';
  value: string;
  next?: { runId: string; started: NewEvent & { type: 'WorkflowExecutionStarted' } };
}

export type StartResult =
  /** `lease`: the first task's lease, taken by the start (eager start). */
  | { kind: 'started'; runId: string; lease?: Lease; startAt?: number }
  /** A debounced start moved the start of the run still waiting for it (`startAt`, ms) and replaced its input. */
  | { kind: 'debounced'; runId: string; startAt: number; previousStartAt: number; priority?: number }
  | { kind: 'existing'; runId: string; wake: boolean }
  | { kind: 'running'; runId: string }
  | { kind: 'reuse-rejected'; status: string }
  | { kind: 'retry' };

/**
 * What a write from outside a task did: `retry` when the current run changed since the caller
 * read it, `changed` when its history grew past the length the caller expected (updates).
 */
export type ExternalResult =
  | { kind: 'not-running'; status: string }
  | { kind: 'recorded' }
  /** The caller enqueues a task (on `build`'s queue for a pinned run). */
  | { kind: 'needs-task'; build?: string }
  | { kind: 'retry' }
  | { kind: 'changed' };

/**
 * What moving a pinned run to another build did: `wake` when events wait for a task, which the
 * caller enqueues (for run `runId` on `taskQueue`, at `priority`).
 */
export type BuildMoveResult =
  | { kind: 'not-running'; status: string }
  | { kind: 'not-pinned' }
  | { kind: 'moved'; from: string; wake: boolean; runId: string; taskQueue: string; priority?: number };

/** Pinned runs and the builds that run them (`@Workflow({ versioning: 'pinned' })`). */
export interface BuildPins {
  /** Pins a running, pinned workflow's run to `build` from now on. */
  move(workflowId: string, build: string): Promise<BuildMoveResult>;
  /** The builds that have a live worker now (on `taskQueue`, when given). */
  liveBuilds(taskQueue?: string): Promise<Set<string>>;
}

/** `closedRunning`: the reset closed a running run (else it was closed already). */
export type ResetResult = { kind: 'reset'; closedRunning: boolean } | { kind: 'retry' };

/**
 * Whether a command's outcome (activity, timer) is still awaited: `recorded` when it is in the
 * history, `closed` when the run is no longer the running one (an outcome would be refused).
 */
export type OutcomeState = 'recorded' | 'closed' | 'outstanding';

/** What a start writes: a new run under the id policies; with `signal`, signal-with-start. */
export interface StartRequest {
  started: NewEvent & { type: 'WorkflowExecutionStarted' };
  reuse: IdReusePolicy;
  conflict: IdConflictPolicy;
  /** The run the caller read (undefined when the id was unknown). */
  currentRunId?: string;
  signal?: NewEvent & { type: 'SignalReceived' };
  /** The reason recorded when TERMINATE_EXISTING ends the running run. */
  terminateReason: string;
  retentionMs: number;
  parent?: ParentInfo;
  /** Identifies the call across its retries, so a signal-with-start is recorded once. */
  requestId: string;
  /** How long after a change the recovery sweep looks at the workflow (the lease ttl). */
  checkAfterMs: number;
  /** Take the new run's first lease for the caller, for this long (eager start). */
  leaseTtlMs?: number;
  /**
   * A debounced start: the run takes no task for `periodMs`; a run of the id still waiting for
   * its debounced start gets this `input` and a later start time instead.
   */
  debounce?: DebounceMs & { input: Payload[] };
}

/** What a reset writes: run `newRunId` with `events` after run `oldRunId`, whose history must still be `expectLen` long. */
export interface ResetRequest {
  workflowId: string;
  oldRunId: string;
  newRunId: string;
  expectLen: number;
  /** Recorded in the old run if it is still running (it closes it). */
  reset: NewEvent & { type: 'WorkflowExecutionReset' };
  /** The new run's events, its WorkflowExecutionStarted first. */
  events: (NewEvent & { ts?: number })[];
  /** Seqs whose outcome the kept events hold (a late job of theirs is refused). */
  done: number[];
  retentionMs: number;
  /** The search attributes the kept events leave the run with (they replace the meta's map and index entries). */
  searchAttributes?: RecordedSearchAttributes;
  /** The new run's flow record, for the reset of a closed run of a limited type: it waits for a slot again. */
  flow?: RecordedWorkflowFlow;
}

/** A cached step: an outcome the cached execution was fed, and the commands it produced from it. */
export interface SpeculativeStep {
  workflowId: string;
  runId: string;
  outcome: NewEvent & { seq: number; ts: number };
  /** The fence of the task the cached execution last ran under. */
  cachedFence: number;
  leaseTtlMs: number;
  events: NewEvent[];
  close?: CloseSpec;
  /** Set the dispatch mark (jobs are added after the commit). */
  dispatch: boolean;
  retentionMs: number;
  /** Keep the lease taken by the commit (the caller goes on with local activities under it). */
  keepLease?: boolean;
  /** Activities among `events` that this worker runs eagerly, claimed by the commit. */
  claims?: ClaimRequest;
  /** As CommitRequest's `pin`. */
  pin?: boolean;
}

/** A task's commit under its lease. */
export interface CommitRequest {
  workflowId: string;
  runId: string;
  fence: number;
  /** The last stream id the task has seen (newer entries come back with `more`). */
  lastId: string;
  events: NewEvent[];
  /** Give the lease up, unless events arrived meanwhile: then they are returned and the lease is kept. */
  release: boolean;
  leaseTtlMs: number;
  close?: CloseSpec;
  /** 'set' when jobs are dispatched after the lease is released; 'clear' after a full re-dispatch. */
  dispatchMark?: 'set' | 'clear';
  /** How long a closed run is kept, ms (0 = forever). */
  retentionMs?: number;
  /** Refuse (write nothing) if an event arrived since the caller's view: its events hold local outcomes the code saw first. */
  clean?: boolean;
  /** Activities among `events` that this worker runs eagerly, claimed by the commit (not with `close`). */
  claims?: ClaimRequest;
  /** The task ran a pinned type: a run not yet pinned is pinned to this process's build. */
  pin?: boolean;
}

/** Delay before retrying a failed workflow task: min(maxMs, baseMs * 2^(attempt-1)). */
export interface TaskRetry {
  baseMs: number;
  maxMs: number;
}

/** A failed workflow task marked for a retry: its attempt, the delay before it, and the run's priority (absent: the default) for the retry's task. */
export interface FailedTask {
  attempt: number;
  delayMs: number;
  priority?: number;
}

/** How an event from outside a task is appended (see HistoryWriter.appendExternal). */
export interface ExternalOptions {
  /** Identifies the write across its retries: a second copy records nothing. */
  requestId: string;
  /** A cancellation request: workers are told to abort the workflow's running activities. */
  cancel?: boolean;
  /** An update: the history length its validator saw; any other length is `changed`. */
  expectLen?: number;
}

/** How an outcome is recorded (see HistoryWriter.appendCompletion). */
export interface CompletionOptions {
  /** How long a lease taken with the outcome lasts. */
  leaseTtlMs: number;
  /** Take the task lease when it is free: the caller runs the task itself. @default false */
  inline?: boolean;
  /** Where the caller's cached execution stands, so that only newer events come with the lease. */
  cursor?: CacheCursor;
}

/** Reads of a workflow's meta and of its runs' histories. */
export interface HistoryReader {
  /** The meta of the workflow's current run (undefined when the id is unknown). */
  getMeta(workflowId: string): Promise<WorkflowMeta | undefined>;
  /** Metas of many workflows, in order (missing or unreadable ones are undefined). */
  getMetas(workflowIds: string[]): Promise<(WorkflowMeta | undefined)[]>;
  /** The id of the workflow's current run (undefined when the id is unknown). */
  currentRunId(workflowId: string): Promise<string | undefined>;
  /** A run's whole history with each event's stream id; throws CorruptHistoryError on an unreadable entry. */
  readEntries(workflowId: string, runId: string): Promise<StoredEvent[]>;
  /** A run's entries after the stream id `afterId` ('-' for all). */
  readEntriesAfter(workflowId: string, runId: string, afterId: string): Promise<StoredEvent[]>;
  readHistory(workflowId: string, runId: string): Promise<HistoryEvent[]>;
  /** The events that can be read, and the errors of those that cannot (for describe(), which must still answer). */
  readHistoryLeniently(
    workflowId: string,
    runId: string,
  ): Promise<{ events: HistoryEvent[]; corrupt: CorruptHistoryError[] }>;
  /** The first event of a run's history (its WorkflowExecutionStarted), if it can be read. */
  startedEvent(
    workflowId: string,
    runId: string,
  ): Promise<(HistoryEvent & { type: 'WorkflowExecutionStarted' }) | undefined>;
  /** The last event of a run's history (how a closed run ended). */
  lastEvent(workflowId: string, runId: string): Promise<HistoryEvent | undefined>;
  /** Whether command `seq` of run `runId` still waits for its outcome. */
  outcomeState(workflowId: string, runId: string, seq: number): Promise<OutcomeState>;
  /** Whether the run's history holds a cancellation request. */
  cancelRequested(workflowId: string, runId: string): Promise<boolean>;
}

/** Writes into a workflow from outside its workflow task: start, outcomes, signals, cancel, terminate, time out, reset. */
export interface HistoryWriter {
  /** Creates a run under the id policies, atomically; with `signal`, signal-with-start. */
  start(request: StartRequest): Promise<StartResult>;
  /**
   * Appends a signal, update or cancellation request (`cancel`) to the current run, read as
   * `runId`; a second call with the same `requestId` (within an hour) records nothing. With
   * `expectLen`, refuses (`changed`) when the history is no longer that long.
   */
  appendExternal(workflowId: string, runId: string, event: NewEvent, options: ExternalOptions): Promise<ExternalResult>;
  /** Records an activity, timer or child outcome (first result wins); with `inline`, also tries to take the task lease. */
  appendCompletion(
    workflowId: string,
    runId: string,
    event: NewEvent & { seq: number; ts?: number },
    options: CompletionOptions,
  ): Promise<CompletionResult>;
  /** Terminates the current run (read as `runId`); a second call with the same `requestId` reports it recorded. */
  terminate(
    workflowId: string,
    runId: string,
    reason: string,
    retentionMs: number,
    requestId: string,
  ): Promise<ExternalResult>;
  /** Closes run `runId` as `timed_out` with `event` if it is still the running run (once per run). */
  timeOut(
    workflowId: string,
    runId: string,
    event: NewEvent & { type: 'WorkflowExecutionTimedOut' },
    retentionMs: number,
  ): Promise<ExternalResult>;
  /** Starts a new run from a prefix of the current one, closing the current one if it runs. */
  reset(request: ResetRequest): Promise<ResetResult>;
  /** Flags a workflow that has started children, so its close queues the parent-close policy. */
  markHasChildren(workflowId: string): Promise<void>;
}

/** What the workflow-task runner needs: the lease path, and the history a partial lease leaves out. */
export interface WorkflowTaskStore
  extends Pick<HistoryReader, 'readEntries'>, Pick<HistoryWriter, 'appendCompletion' | 'markHasChildren'> {
  /** Takes the task lease of run `runId` if it is the running run and no other task holds a valid lease. */
  acquire(
    workflowId: string,
    runId: string,
    leaseTtlMs: number,
    cursor?: CacheCursor,
    /** Take it only if the run is pinned to this process's build (else `wrong-build`, build ''). */
    pinnedOnly?: boolean,
  ): Promise<AcquireResult>;
  /**
   * Records an outcome and the commands a cached execution produced from it, at once, when
   * nobody touched the workflow since `cachedFence`; else records only the outcome.
   */
  completeAndCommit(step: SpeculativeStep): Promise<SpeculativeResult>;
  /** Appends a task's events under its fence; throws LeaseLostError when the lease is no longer `fence`. */
  commit(request: CommitRequest): Promise<CommitResult>;
  /**
   * The stream id of the last event of run `runId` that a committed task ran the code on (so a
   * replay logs nothing up to it); undefined when no task committed yet.
   */
  seenThrough(workflowId: string, runId: string): Promise<string | undefined>;
  /** Extends a held lease by its ttl; throws LeaseLostError when the lease is no longer `fence`. */
  renewLease(workflowId: string, runId: string, fence: number, lastId: string, leaseTtlMs: number): Promise<void>;
  /** Releases the lease after a failed task, marking it for a retry; undefined when the lease was already lost. */
  failTask(workflowId: string, fence: number, message: string, retry: TaskRetry): Promise<FailedTask | undefined>;
}
