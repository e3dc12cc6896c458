import { CorruptHistoryError } from '../../../libs/redurable/src/core/errors/library.errors.js';
import type { HistoryEvent, StoredEvent, WorkflowExecutionStarted } from '../../../libs/redurable/src/core/events.js';
import type {
  ChildNotification,
  Clock,
  HistoryReader,
  OutcomeState,
  WorkflowTaskStore,
} from '../../../libs/redurable/src/core/ports/index.js';
import type { WorkflowMeta } from '../../../libs/redurable/src/core/workflow-state.js';
import { parseEntries, parseEntry, type RawEntry } from '../../../libs/redurable/src/store/entries.js';
import { shardOf } from '../../../libs/redurable/src/store/shards.js';

/** A meta hash: what WorkflowMeta reads, and the fields only the scripts read (see store/meta-schema.ts). */
export interface MetaRecord extends WorkflowMeta {
  checkAfter: number;
  hasChildren: boolean;
}

/** One run's stream (entries as XRANGE returns them, so the library's own parser reads them) and done set. */
export interface RunRecord {
  entries: RawEntry[];
  done: Set<number>;
}

/** The store's method names, as recorded in `calls`. */
export type StoreCall = keyof WorkflowTaskStore | 'appendExternal' | 'timeOut' | 'getMeta';

/** `a` after `b` in stream id order (`<ms>-<seq>`). */
export function streamIdAfter(a: string, b: string): boolean {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am > bm || (am === bm && as > bs);
}

/**
 * What MemoryHistories keeps (metas, runs' streams and done sets, the shard indexes its scripts
 * write) and its reads: the HistoryReader port, and what tests look at. As RedisHistoryReads is
 * to RedisHistoryStore.
 */
export class MemoryHistoryReads implements HistoryReader {
  /** The port methods called, in order (test helpers are not recorded). */
  readonly calls: StoreCall[] = [];
  protected readonly metas = new Map<string, MetaRecord>();
  protected readonly runs = new Map<string, RunRecord>();
  /** Due indexes by `<shard>|<taskQueue>`: workflow id → when the sweep looks at it next. */
  private readonly due = new Map<string, Map<string, number>>();
  /** The notify and closed-parents indexes of each shard (id → close time), and what they hold. */
  readonly notify = new Map<number, Map<string, number>>();
  readonly notifyData = new Map<string, ChildNotification>();
  readonly closedParents = new Map<number, Map<string, number>>();
  readonly closedParentsData = new Map<string, string>();
  private readonly hooks = new Map<StoreCall, (() => unknown)[]>();
  private lastStreamId = '0-0';

  constructor(
    readonly clock: Clock,
    readonly shardCount = 4,
  ) {}

  // ---- what the tests look at (not recorded in `calls`) ----

  /** The meta as a reader sees it now. */
  metaOf(workflowId: string): WorkflowMeta | undefined {
    const meta = this.metas.get(workflowId);
    return meta && snapshot(meta);
  }

  /** The meta hash itself, script-only fields included (mutable: tests may set what a script would). */
  metaRecord(workflowId: string): MetaRecord | undefined {
    return this.metas.get(workflowId);
  }

  /** A run's history (the current run's by default). */
  history(workflowId: string, runId = this.metas.get(workflowId)?.runId ?? ''): HistoryEvent[] {
    return this.parsed(workflowId, runId).map((e) => e.event);
  }

  /** Whether run `runId` holds an outcome for `seq` (its done set). */
  hasOutcome(workflowId: string, runId: string, seq: number): boolean {
    return this.runs.get(`${workflowId}|${runId}`)?.done.has(seq) ?? false;
  }

  /** When the sweep looks at the workflow next, in the due index of its task queue (undefined: not in it). */
  dueAt(workflowId: string, taskQueue = this.metas.get(workflowId)?.taskQueue ?? ''): number | undefined {
    return this.dueIndex(shardOf(workflowId, this.shardCount), taskQueue).get(workflowId);
  }

  /** The meta is gone (its retention passed), while index entries that name it stay, as in Redis. */
  expire(workflowId: string): void {
    this.metas.delete(workflowId);
  }

  /** Runs `fn` at the start of the next call of `method`, before it reads anything: what happened meanwhile. */
  before(method: StoreCall, fn: () => unknown): void {
    this.hooks.set(method, [...(this.hooks.get(method) ?? []), fn]);
  }

  /** The due index of one shard and task queue (created empty). */
  dueIndex(shard: number, taskQueue: string): Map<string, number> {
    const key = `${shard}|${taskQueue}`;
    let index = this.due.get(key);
    if (!index) this.due.set(key, (index = new Map()));
    return index;
  }

  /** Every meta of one shard. */
  metasOfShard(shard: number): MetaRecord[] {
    return [...this.metas.values()].filter((m) => shardOf(m.workflowId, this.shardCount) === shard);
  }

  // ---- HistoryReader ----

  async getMeta(workflowId: string): Promise<WorkflowMeta | undefined> {
    await this.enter('getMeta');
    return this.metaOf(workflowId);
  }

  async getMetas(workflowIds: string[]): Promise<(WorkflowMeta | undefined)[]> {
    return workflowIds.map((id) => this.metaOf(id));
  }

  async currentRunId(workflowId: string): Promise<string | undefined> {
    return this.metas.get(workflowId)?.runId;
  }

  async readEntries(workflowId: string, runId: string): Promise<StoredEvent[]> {
    return this.parsed(workflowId, runId);
  }

  async readEntriesAfter(workflowId: string, runId: string, afterId: string): Promise<StoredEvent[]> {
    return afterId === '-' ? this.parsed(workflowId, runId) : this.after(workflowId, runId, afterId);
  }

  async readHistory(workflowId: string, runId: string): Promise<HistoryEvent[]> {
    return this.history(workflowId, runId);
  }

  async readHistoryLeniently(
    workflowId: string,
    runId: string,
  ): Promise<{ events: HistoryEvent[]; corrupt: CorruptHistoryError[] }> {
    const events: HistoryEvent[] = [];
    const corrupt: CorruptHistoryError[] = [];
    for (const entry of this.runs.get(`${workflowId}|${runId}`)?.entries ?? []) {
      try {
        events.push(parseEntry({ workflowId, runId }, entry).event);
      } catch (err) {
        if (!(err instanceof CorruptHistoryError)) throw err;
        corrupt.push(err);
      }
    }
    return { events, corrupt };
  }

  async startedEvent(workflowId: string, runId: string): Promise<WorkflowExecutionStarted | undefined> {
    const first = this.history(workflowId, runId)[0];
    return first?.type === 'WorkflowExecutionStarted' ? first : undefined;
  }

  async lastEvent(workflowId: string, runId: string): Promise<HistoryEvent | undefined> {
    return this.history(workflowId, runId).at(-1);
  }

  async outcomeState(workflowId: string, runId: string, seq: number): Promise<OutcomeState> {
    if (this.hasOutcome(workflowId, runId, seq)) return 'recorded';
    const meta = this.metas.get(workflowId);
    return meta?.status === 'running' && meta.runId === runId ? 'outstanding' : 'closed';
  }

  async cancelRequested(workflowId: string, runId: string): Promise<boolean> {
    return this.history(workflowId, runId).some((e) => e.type === 'WorkflowCancelRequested');
  }

  // ---- for the writes ----

  /** Every port method starts here: the hooks a test set for it run, then the call is recorded. */
  protected async enter(method: StoreCall): Promise<void> {
    const hooks = this.hooks.get(method);
    this.hooks.delete(method);
    for (const hook of hooks ?? []) await hook();
    this.calls.push(method);
  }

  protected runOf(workflowId: string, runId: string): RunRecord {
    const key = `${workflowId}|${runId}`;
    let run = this.runs.get(key);
    if (!run) this.runs.set(key, (run = { entries: [], done: new Set() }));
    return run;
  }

  protected parsed(workflowId: string, runId: string): StoredEvent[] {
    return parseEntries({ workflowId, runId }, this.runs.get(`${workflowId}|${runId}`)?.entries ?? []);
  }

  /** Entries after stream id `lastId` (XRANGE `(lastId` +). */
  protected after(workflowId: string, runId: string, lastId: string): StoredEvent[] {
    return this.parsed(workflowId, runId).filter((e) => !lastId || streamIdAfter(e.streamId, lastId));
  }

  /** XADD '*': ids grow with the clock, and within one millisecond by sequence (one id space for all streams, which is stricter than Redis). */
  protected addEntry(run: RunRecord, position: number, json: string): string {
    const now = this.clock.now();
    const [ms, seq] = this.lastStreamId.split('-').map(Number);
    const id = now > ms ? `${now}-0` : `${ms}-${seq + 1}`;
    this.lastStreamId = id;
    run.entries.push([id, ['i', String(position), 'e', json]]);
    return id;
  }
}

/** What HGETALL and toMeta give: a copy, without the script-only fields. */
function snapshot(meta: MetaRecord): WorkflowMeta {
  const { checkAfter: _checkAfter, hasChildren: _hasChildren, ...rest } = structuredClone(meta);
  return rest;
}
