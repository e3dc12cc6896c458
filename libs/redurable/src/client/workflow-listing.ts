import type { DurableRuntime } from '../module/durable-runtime.js';

/** Filter of `client.list()` and `client.count()`. */
export interface ListWorkflowsFilter {
  /** Workflow type name. */
  type?: string;
  /** running, completed, failed, compensation_failed, canceled, terminated. */
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

function indexFor(runtime: DurableRuntime, filter: ListWorkflowsFilter): string {
  const { keys } = runtime;
  return filter.status ? keys.statusIndex(filter.status) : filter.type ? keys.typeIndex(filter.type) : keys.allIndex();
}

function range(filter: ListWorkflowsFilter): [string, string] {
  const min = filter.startedAfter ? String(filter.startedAfter.getTime()) : '-inf';
  const max = filter.startedBefore ? `(${filter.startedBefore.getTime()}` : '+inf';
  return [min, max];
}

/**
 * Pages through the status, type or all-workflows index (sorted sets kept current by the
 * scripts that change a workflow's status), newest first. A filter on both type and status
 * reads the status index and checks each workflow's type.
 */
export async function listWorkflows(runtime: DurableRuntime, filter: ListWorkflowsFilter): Promise<ListWorkflowsPage> {
  const limit = Math.max(1, Math.min(filter.limit ?? 50, 1000));
  const [min, max] = range(filter);
  let offset = Number(filter.cursor ?? 0);
  const out: WorkflowSummary[] = [];
  const key = indexFor(runtime, filter);
  for (;;) {
    const ids = await runtime.redis.zrevrangebyscore(key, max, min, 'LIMIT', offset, limit);
    const metas = await runtime.store.getMetas(ids);
    for (const [i, meta] of metas.entries()) {
      offset++;
      if (!meta || (filter.type && meta.type !== filter.type) || (filter.status && meta.status !== filter.status)) continue;
      if (filter.idPrefix && !ids[i].startsWith(filter.idPrefix)) continue;
      out.push({
        workflowId: ids[i], runId: meta.runId, workflowType: meta.type, status: meta.status, taskQueue: meta.taskQueue,
        startTime: new Date(meta.startedAt), closeTime: meta.closedAt ? new Date(meta.closedAt) : undefined,
      });
      if (out.length === limit) return { workflows: out, nextCursor: String(offset) };
    }
    if (ids.length < limit) return { workflows: out };
  }
}

/** Counts with ZCOUNT when one index answers the filter, else by listing. */
export async function countWorkflows(runtime: DurableRuntime, filter: ListWorkflowsFilter): Promise<number> {
  const [min, max] = range(filter);
  if (!(filter.type && filter.status) && !filter.idPrefix) return runtime.redis.zcount(indexFor(runtime, filter), min, max);
  let total = 0;
  let cursor: string | undefined;
  do {
    const page = await listWorkflows(runtime, { ...filter, limit: 1000, cursor });
    total += page.workflows.length;
    cursor = page.nextCursor;
  } while (cursor);
  return total;
}
