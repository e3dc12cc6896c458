import { BadRequestException } from '@nestjs/common';
import {
  ListQueryError,
  previewPayload,
  timelineOf,
  type HistoryEvent,
  type ListWorkflowsFilter,
  type ListWorkflowsPage,
  type TimelineSpan,
  type WorkflowClient,
  type WorkflowDescription,
} from 'redurable';

/** The statuses the explorer counts and filters by. */
export const STATUSES = [
  'running',
  'completed',
  'failed',
  'compensation_failed',
  'canceled',
  'terminated',
  'timed_out',
] as const;

/** Query parameters of the list (page and API). */
export interface ExplorerQuery {
  status?: string;
  type?: string;
  idPrefix?: string;
  startedAfter?: string;
  startedBefore?: string;
  /** A search attribute query (see ListWorkflowsFilter.query). */
  query?: string;
  limit?: string;
  cursor?: string;
}

export interface StatusCount {
  status: string;
  count: number;
}

function date(value: string | undefined, name: string): Date | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime()))
    throw new BadRequestException(`${name}: '${value}' is not a date (use ISO 8601, for example 2026-12-01T09:00)`);
  return d;
}

/** The library's list filter from query parameters; a bad value is a 400 naming it. */
export function listFilter(q: ExplorerQuery): ListWorkflowsFilter {
  const limit = q.limit ? Number(q.limit) : 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new BadRequestException(`limit: '${q.limit}' is not a whole number from 1 to 1000`);
  if (q.status && !(STATUSES as readonly string[]).includes(q.status))
    throw new BadRequestException(`status: '${q.status}' is not one of ${STATUSES.join(', ')}`);
  return {
    status: q.status || undefined,
    type: q.type || undefined,
    idPrefix: q.idPrefix || undefined,
    startedAfter: date(q.startedAfter, 'startedAfter'),
    startedBefore: date(q.startedBefore, 'startedBefore'),
    limit,
    cursor: q.cursor || undefined,
    query: q.query?.trim() || undefined,
  };
}

/** One page of the listing and the counts per status; a bad query is a 400 that says where. */
export async function explorerListing(
  client: WorkflowClient,
  filter: ListWorkflowsFilter,
): Promise<[ListWorkflowsPage, StatusCount[]]> {
  try {
    return await Promise.all([client.list(filter), statusCounts(client, filter)]);
  } catch (err) {
    if (err instanceof ListQueryError) throw new BadRequestException(err.message);
    throw err;
  }
}

/** How many workflows of each status match the filter's other fields. */
export async function statusCounts(client: WorkflowClient, filter: ListWorkflowsFilter): Promise<StatusCount[]> {
  const { status: _status, limit: _limit, cursor: _cursor, ...rest } = filter;
  return Promise.all(STATUSES.map(async (status) => ({ status, count: await client.count({ ...rest, status }) })));
}

/** A stored payload for display: its decoded value as JSON text, or why it cannot be shown. */
export function payloadView(client: WorkflowClient, stored: string | undefined): { json?: string; hidden?: string } {
  const { json, undecodable } = previewPayload((s) => client.decodePayload(s), stored, 2);
  if (!undecodable) return { json };
  return {
    hidden: undecodable.keyId
      ? `encrypted with key '${undecodable.keyId}' (this server does not have it)`
      : 'encoded with a codec this server does not have',
  };
}

/** Everything the workflow page shows. */
export interface WorkflowTimeline {
  description: WorkflowDescription;
  input: { json?: string; hidden?: string }[];
  parent?: { workflowId: string; runId: string };
  children: { workflowId: string; workflowType: string; status: string }[];
  /** Runs of this id linked by continue-as-new, oldest first (as far as their histories are kept). */
  runs: string[];
  spans: (TimelineSpan & {
    inputView: { json?: string; hidden?: string }[];
    resultView: { json?: string; hidden?: string };
  })[];
}

export async function explorerTimeline(client: WorkflowClient, workflowId: string): Promise<WorkflowTimeline> {
  const handle = client.getHandle(workflowId);
  const description = await handle.describe();
  const history: HistoryEvent[] = await client.getHandle(workflowId, description.runId).fetchHistory();
  const started = history[0]?.type === 'WorkflowExecutionStarted' ? history[0] : undefined;
  const runs = [description.runId];
  for (let from = started?.continuedFromRunId; from && runs.length < 50;) {
    runs.unshift(from);
    const previous = await client
      .getHandle(workflowId, from)
      .fetchHistory()
      .catch((): HistoryEvent[] => []);
    from = previous[0]?.type === 'WorkflowExecutionStarted' ? previous[0].continuedFromRunId : undefined;
  }
  const children = await Promise.all(
    history
      .flatMap((e) => (e.type === 'ChildWorkflowScheduled' ? [e] : []))
      .map(async (e) => ({
        workflowId: e.workflowId,
        workflowType: e.workflowType,
        status: await client
          .getHandle(e.workflowId)
          .describe()
          .then(
            (d) => d.status,
            () => 'unknown',
          ),
      })),
  );
  return {
    description,
    input: (started?.input ?? []).map((p) => payloadView(client, p)),
    parent: started?.parent ? { workflowId: started.parent.workflowId, runId: started.parent.runId } : undefined,
    children,
    runs,
    spans: timelineOf(history).map((s) => ({
      ...s,
      inputView: (s.input ?? []).map((p) => payloadView(client, p)),
      resultView: payloadView(client, s.result),
    })),
  };
}
