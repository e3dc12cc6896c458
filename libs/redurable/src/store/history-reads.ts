import { CorruptHistoryError } from '../core/errors/library.errors.js';
import type { HistoryEvent, StoredEvent } from '../core/events.js';
import type { HistoryReader, OutcomeState } from '../core/ports/index.js';
import type { WorkflowMeta } from '../core/workflow-state.js';
import { parseEntries, parseEntry, type RawEntry } from './entries.js';
import type { KeyNames } from './keys.js';
import { META_FIELDS as M, toMeta } from './meta-schema.js';
import { execAll, perShard } from './per-shard.js';
import type { RedisClient } from './redis-client.js';

/**
 * Reads of workflow metas and run histories, with plain commands (a script would cost more for
 * the same answer). A history entry that cannot be read is a CorruptHistoryError naming the
 * run and the entry, except where the caller must still answer (readHistoryLeniently).
 */
export class RedisHistoryReads implements HistoryReader {
  constructor(
    protected readonly redis: RedisClient,
    readonly keys: KeyNames,
  ) {}

  async getMeta(workflowId: string): Promise<WorkflowMeta | undefined> {
    const h = await this.redis.hgetall(this.keys.meta(workflowId));
    return h && h[M.status] ? toMeta(workflowId, h) : undefined;
  }

  /** Meta hashes of many workflows, one pipeline per shard (missing or unreadable ones are undefined). */
  async getMetas(workflowIds: string[]): Promise<(WorkflowMeta | undefined)[]> {
    const hashes = await perShard(
      this.redis,
      this.keys,
      workflowIds,
      (pipe, id) => pipe.hgetall(this.keys.meta(id)),
      true,
    );
    return hashes.map((h, i) => {
      const hash = h as Record<string, string> | undefined;
      if (!hash || !hash[M.status]) return undefined;
      try {
        return toMeta(workflowIds[i], hash);
      } catch {
        return undefined; // a damaged field (say, `parent`) must not hide the other workflows of the batch
      }
    });
  }

  /** The id of the workflow's current run (undefined when the id is unknown). */
  async currentRunId(workflowId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.meta(workflowId), M.runId)) ?? undefined;
  }

  async readEntries(workflowId: string, runId: string): Promise<StoredEvent[]> {
    return parseEntries({ workflowId, runId }, await this.entries(workflowId, runId, '-'));
  }

  /** A run's entries after the stream id `afterId` ('-' for all). */
  async readEntriesAfter(workflowId: string, runId: string, afterId: string): Promise<StoredEvent[]> {
    return parseEntries(
      { workflowId, runId },
      await this.entries(workflowId, runId, afterId === '-' ? '-' : `(${afterId}`),
    );
  }

  async readHistory(workflowId: string, runId: string): Promise<HistoryEvent[]> {
    return (await this.readEntries(workflowId, runId)).map((e) => e.event);
  }

  /** The events that can be read, and the errors of those that cannot (for describe(), which must still answer). */
  async readHistoryLeniently(
    workflowId: string,
    runId: string,
  ): Promise<{ events: HistoryEvent[]; corrupt: CorruptHistoryError[] }> {
    const events: HistoryEvent[] = [];
    const corrupt: CorruptHistoryError[] = [];
    for (const entry of await this.entries(workflowId, runId, '-')) {
      try {
        events.push(parseEntry({ workflowId, runId }, entry).event);
      } catch (err) {
        if (!(err instanceof CorruptHistoryError)) throw err;
        corrupt.push(err);
      }
    }
    return { events, corrupt };
  }

  /** The first event of a run's history (its WorkflowExecutionStarted), if it can be read. */
  async startedEvent(
    workflowId: string,
    runId: string,
  ): Promise<(HistoryEvent & { type: 'WorkflowExecutionStarted' }) | undefined> {
    const raw: RawEntry[] = await this.redis.xrange(this.keys.history(workflowId, runId), '-', '+', 'COUNT', 1);
    try {
      const event = parseEntries({ workflowId, runId }, raw)[0]?.event;
      return event?.type === 'WorkflowExecutionStarted' ? event : undefined;
    } catch {
      return undefined; // an unreadable entry is the workflow task's problem (it records it)
    }
  }

  /** The last event of a run's history (how a closed run ended). */
  async lastEvent(workflowId: string, runId: string): Promise<HistoryEvent | undefined> {
    const raw: RawEntry[] = await this.redis.xrevrange(this.keys.history(workflowId, runId), '+', '-', 'COUNT', 1);
    return parseEntries({ workflowId, runId }, raw)[0]?.event;
  }

  /** Whether the run's history holds a cancellation request (read by a parked activity attempt when it wakes). */
  async cancelRequested(workflowId: string, runId: string): Promise<boolean> {
    return (await this.readHistoryLeniently(workflowId, runId)).events.some(
      (e) => e.type === 'WorkflowCancelRequested',
    );
  }

  /**
   * Whether command `seq` (activity, timer) of run `runId` still waits for its outcome: 'recorded'
   * when its outcome is in the history, 'closed' when the run is no longer the running one (an
   * outcome would be refused), else 'outstanding'. One round trip (the keys share a slot).
   */
  async outcomeState(workflowId: string, runId: string, seq: number): Promise<OutcomeState> {
    const [done, meta] = await execAll(
      this.redis
        .pipeline()
        .sismember(this.keys.done(workflowId, runId), String(seq))
        .hmget(this.keys.meta(workflowId), M.status, M.runId),
    );
    if (Number(done) === 1) return 'recorded';
    const [status, current] = meta as (string | null)[];
    return status === 'running' && current === runId ? 'outstanding' : 'closed';
  }

  /** A run's history entries from `start` ('-', or `(<id>` for after an id) to its end. */
  private entries(workflowId: string, runId: string, start: string): Promise<RawEntry[]> {
    return this.redis.xrange(this.keys.history(workflowId, runId), start, '+');
  }

  /** The stream id of the last event of run `runId` that a committed task ran the code on, if any. */
  async seenThrough(workflowId: string, runId: string): Promise<string | undefined> {
    const seen = await this.redis.hget(this.keys.meta(workflowId), M.seen);
    return seen?.startsWith(`${runId}/`) ? seen.slice(runId.length + 1) : undefined;
  }
}
