import { InvalidArgumentError } from '../core/errors/library.errors.js';
import { compareEntries, type HistoryReader, type ListCursor, type ListingIndex } from '../core/ports/index.js';
import {
  countableByIndex,
  matchesPlan,
  needsDeclarations,
  planListing,
  type ListPlan,
  type SearchAttributeRange,
} from '../core/search/list-plan.js';
import {
  searchAttributeValues,
  type SearchAttributes,
  type SearchAttributeType,
  type SearchAttributeValue,
} from '../core/search/search-attributes.js';

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
  /**
   * `true`: only runs waiting for a slot of their type's concurrency limit (`false`: only others).
   * The query's twin is `FlowWaiting = true`.
   */
  waiting?: boolean;
  /** Workflow ids that begin with this text (matched while paging, so a rare prefix reads more of the index). */
  idPrefix?: string;
  /**
   * Conditions joined by `AND`: `field op value` with op one of `= != < <= > >=`, or
   * `field BETWEEN low AND high`. Fields: declared search attributes, and `WorkflowType`,
   * `ExecutionStatus`, `StartTime`, `CloseTime`, `WorkflowId`. Strings and datetimes (ISO 8601)
   * in quotes. Keyword and bool attributes take `=` and `!=`. A syntax error or an undeclared
   * name is a ListQueryError naming its position. Combined with the other fields here.
   *
   * When the query has an equality on a keyword or bool attribute, the listing is newest first;
   * otherwise, with a range on a number or datetime attribute, it is ordered by that attribute,
   * highest first.
   * @example "customerId = 'c-1' AND amount >= 100 AND ExecutionStatus = 'running' AND StartTime > '2026-01-01T00:00:00Z'"
   */
  query?: string;
  /**
   * The structured twin of `query`: an attribute's value for equality, or a range.
   * @example { customerId: 'c-1', amount: { gte: 100, lt: 1000 } }
   */
  searchAttributes?: Record<string, SearchAttributeValue | SearchAttributeRange>;
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
  /** Current search attributes (datetimes as Dates); `{}` when it has none. */
  searchAttributes: SearchAttributes;
  /** The build of the worker that ran its last workflow task, when that worker set `buildId`. */
  lastTaskBuild?: string;
  /** The build a pinned run's tasks go to (`@Workflow({ versioning: 'pinned' })`), once its first task ran. */
  pinnedBuild?: string;
}

export interface ListWorkflowsPage {
  workflows: WorkflowSummary[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

/** Search attribute names with their types, from every workflow type known here or registered by a worker. */
export type DeclarationSource = () => Promise<Record<string, SearchAttributeType>>;

async function planOf(filter: ListWorkflowsFilter, declarations: DeclarationSource): Promise<ListPlan> {
  return planListing(filter, needsDeclarations(filter) ? await declarations() : {});
}

/** Where a listing reads: the index its plan picks, and the metas of the workflows it names. */
export interface ListingSources {
  indexes: ListingIndex;
  histories: Pick<HistoryReader, 'getMetas'>;
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
  throw new InvalidArgumentError(
    `Invalid listing cursor ${JSON.stringify(cursor.slice(0, 40))}: pass the nextCursor of the previous page`,
  );
}

/**
 * Pages through the index the plan picked (see planListing: a search attribute's, else the
 * status, type or all-workflows index) of every shard, merged by score, highest first (start
 * time, or the ranged attribute's value). Each round reads `limit` entries per shard after the
 * cursor; the first `limit` of their merge are the next `limit` overall (a shard's unread
 * entries come after all it returned). Every condition is checked against each workflow's meta.
 */
export async function listWorkflows(
  { indexes, histories: store }: ListingSources,
  filter: ListWorkflowsFilter,
  declarations: DeclarationSource = async () => ({}),
): Promise<ListWorkflowsPage> {
  const limit = Math.max(1, Math.min(filter.limit ?? 50, 1000));
  const plan = await planOf(filter, declarations);
  let cursor = decodeCursor(filter.cursor);
  const out: WorkflowSummary[] = [];
  for (;;) {
    const perShard = await indexes.entries(plan.index, plan.range, cursor, limit);
    const merged = perShard.flat().sort(compareEntries).slice(0, limit);
    const metas = await store.getMetas(merged.map((e) => e.workflowId));
    for (const [i, meta] of metas.entries()) {
      cursor = merged[i];
      if (!meta || !matchesPlan(plan, meta)) continue;
      if (filter.idPrefix && !merged[i].workflowId.startsWith(filter.idPrefix)) continue;
      out.push({
        workflowId: meta.workflowId,
        runId: meta.runId,
        workflowType: meta.type,
        status: meta.status,
        taskQueue: meta.taskQueue,
        startTime: new Date(meta.startedAt),
        closeTime: meta.closedAt ? new Date(meta.closedAt) : undefined,
        searchAttributes: searchAttributeValues(meta.searchAttributes),
        ...(meta.taskBuild !== undefined ? { lastTaskBuild: meta.taskBuild } : {}),
        ...(meta.pinnedBuild !== undefined ? { pinnedBuild: meta.pinnedBuild } : {}),
      });
      if (out.length === limit) return { workflows: out, nextCursor: encodeCursor(cursor) };
    }
    if (merged.length < limit) return { workflows: out };
  }
}

/** Counts with ZCOUNT over the shards when the plan's index answers the filter, else by listing. */
export async function countWorkflows(
  sources: ListingSources,
  filter: ListWorkflowsFilter,
  declarations: DeclarationSource = async () => ({}),
): Promise<number> {
  const plan = await planOf(filter, declarations);
  if (countableByIndex(plan) && !filter.idPrefix) return sources.indexes.count(plan.index, plan.range);
  let total = 0;
  let cursor: string | undefined;
  do {
    const page = await listWorkflows(sources, { ...filter, limit: 1000, cursor }, declarations);
    total += page.workflows.length;
    cursor = page.nextCursor;
  } while (cursor);
  return total;
}
