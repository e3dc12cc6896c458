import { RedurableError } from '../errors/library.errors.js';
import { compareEntries, type IndexChoice, type ListCursor, type RedisHistoryStore } from '../history/redis-history-store.js';

/** Filter of `client.list()` and `client.count()`. */
export interface ListWorkflowsFilter {
  /** Workflow type name. */
  type?: string;
  /** running, completed, failed, compensation_failed, canceled, terminated, timed_out. */
  status?: string;
  /** Started at or after (inclusive). */
  startedAfter?: Date;
  /** Started before (exclusive). */
  startedBefore?: Date;
  /** Workflow ids that begin with this text (matched while paging, so a rare prefix reads more of the index). */
  idPrefix?: string;
  /** Page size. @default 50 */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** One workflow in a listing. */
export interface WorkflowSummary {
  workflowId: string;
  runId: string;
  workflowType: string;
  status: string;
  taskQueue: string;
  startTime: Date;
  closeTime?: Date;
}

export interface ListWorkflowsPage {
  workflows: WorkflowSummary[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

function indexFor(filter: ListWorkflowsFilter): IndexChoice {
  return filter.status ? { status: filter.status } : filter.type ? { type: filter.type } : 'all';
}

function range(filter: ListWorkflowsFilter): { min: string; max: string } {
  const min = filter.startedAfter ? String(filter.startedAfter.getTime()) : '-inf';
  const max = filter.startedBefore ? `(${filter.startedBefore.getTime()}` : '+inf';
  return { min, max };
}

/** A cursor is the last entry of the page, so a page starts where the last one ended whatever was added since. */
function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify([cursor.startedAt, cursor.workflowId])).toString('base64url');
}

function decodeCursor(cursor: string | undefined): ListCursor | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const [startedAt, workflowId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [number, string];
    if (Number.isFinite(startedAt) && typeof workflowId === 'string') return { startedAt, workflowId };
  } catch {
    // reported below
  }
  throw new RedurableError(`Invalid listing cursor ${JSON.stringify(cursor.slice(0, 40))}: pass the nextCursor of the previous page`);
}

/**
 * Pages through the status, type or all-workflows index of every shard (sorted sets kept
 * current by the scripts that change a workflow's status), merged newest first. Each round
 * reads `limit` entries per shard after the cursor; the first `limit` of their merge are the
 * next `limit` overall (a shard's unread entries come after all it returned). A filter on both
 * type and status reads the status index and checks each workflow's type.
 */
export async function listWorkflows(store: RedisHistoryStore, filter: ListWorkflowsFilter): Promise<ListWorkflowsPage> {
  const limit = Math.max(1, Math.min(filter.limit ?? 50, 1000));
  let cursor = decodeCursor(filter.cursor);
  const out: WorkflowSummary[] = [];
  for (;;) {
    const perShard = await store.indexEntries(indexFor(filter), range(filter), cursor, limit);
    const merged = perShard.flat().sort(compareEntries).slice(0, limit);
    const metas = await store.getMetas(merged.map((e) => e.workflowId));
    for (const [i, meta] of metas.entries()) {
      cursor = merged[i];
      if (!meta || (filter.type && meta.type !== filter.type) || (filter.status && meta.status !== filter.status)) continue;
      if (filter.idPrefix && !merged[i].workflowId.startsWith(filter.idPrefix)) continue;
      out.push({
        workflowId: meta.workflowId, runId: meta.runId, workflowType: meta.type, status: meta.status, taskQueue: meta.taskQueue,
        startTime: new Date(meta.startedAt), closeTime: meta.closedAt ? new Date(meta.closedAt) : undefined,
      });
      if (out.length === limit) return { workflows: out, nextCursor: encodeCursor(cursor) };
    }
    if (merged.length < limit) return { workflows: out };
  }
}

/** Counts with ZCOUNT over the shards when one index answers the filter, else by listing. */
export async function countWorkflows(store: RedisHistoryStore, filter: ListWorkflowsFilter): Promise<number> {
  if (!(filter.type && filter.status) && !filter.idPrefix) return store.countIndex(indexFor(filter), range(filter));
  let total = 0;
  let cursor: string | undefined;
  do {
    const page = await listWorkflows(store, { ...filter, limit: 1000, cursor });
    total += page.workflows.length;
    cursor = page.nextCursor;
  } while (cursor);
  return total;
}
