import { ListQueryError } from '../errors/search.errors.js';
import type { WorkflowMeta } from '../workflow-state.js';
import { parseListQuery, type QueryCondition, type QueryOperator } from './list-query.js';
import { recordedValue, type SearchAttributeType, type SearchAttributeValue } from './search-attributes.js';

/** A range (or inequality) on a number or datetime attribute in `list({ searchAttributes })`. */
export interface SearchAttributeRange {
  gt?: number | Date;
  gte?: number | Date;
  lt?: number | Date;
  lte?: number | Date;
  /** Not equal (also for keyword and bool attributes). */
  ne?: SearchAttributeValue;
}

/** One resolved condition, checked against each candidate's meta. */
interface Check {
  /** A workflow field (WorkflowType, ExecutionStatus, StartTime, CloseTime, WorkflowId) or a search attribute. */
  field: string;
  /** A search attribute's type; undefined for a workflow field. */
  type?: SearchAttributeType;
  op: QueryOperator;
  /** The recorded form: strings, numbers (datetimes as ms), booleans. */
  value: string | number | boolean;
}

/** Which sorted sets a listing pages through: a search attribute index, or a status / type / all index. */
export type PlanIndex =
  | { attribute: string; value: string }
  | { attribute: string; range: true }
  | { status: string }
  | { type: string }
  | 'waiting'
  | 'all';

/** How a listing runs: the index to page through, its score range, and the conditions every candidate must meet. */
export interface ListPlan {
  index: PlanIndex;
  range: { min: string; max: string };
  checks: Check[];
}

/** The filter fields a plan is made from (see ListWorkflowsFilter). */
export interface PlanFilter {
  type?: string;
  status?: string;
  startedAfter?: Date;
  startedBefore?: Date;
  waiting?: boolean;
  query?: string;
  searchAttributes?: Record<string, SearchAttributeValue | SearchAttributeRange>;
}

const FIELD_TYPES: Record<string, SearchAttributeType> = {
  WorkflowType: 'keyword',
  ExecutionStatus: 'keyword',
  WorkflowId: 'keyword',
  StartTime: 'datetime',
  CloseTime: 'datetime',
  /** True while the run waits for a slot of its type's concurrency limit. */
  FlowWaiting: 'bool',
};
const RANGE_OPS: Record<string, QueryOperator> = { gt: '>', gte: '>=', lt: '<', lte: '<=', ne: '!=' };

function resolve(c: QueryCondition, declared: Record<string, SearchAttributeType>, query: string): Check {
  const type = FIELD_TYPES[c.field] ?? declared[c.field];
  const fail = (problem: string) => new ListQueryError(query, c.position, problem);
  if (!type) {
    const known = [...Object.keys(FIELD_TYPES), ...Object.keys(declared)].join(', ');
    throw fail(
      `unknown field '${c.field}': no workflow type declares a search attribute with that name (known: ${known})`,
    );
  }
  if ((type === 'keyword' || type === 'bool') && c.op !== '=' && c.op !== '!=')
    throw fail(`'${c.field}' is a ${type}: compare it with = or !=`);
  // A datetime may be written as an ISO string or as epoch ms; a bool as true/false or 'true'/'false'.
  const given =
    type === 'datetime' && typeof c.value === 'number'
      ? new Date(c.value)
      : type === 'bool' && (c.value === 'true' || c.value === 'false')
        ? c.value === 'true'
        : c.value;
  const recorded = recordedValue(type, given);
  if ('problem' in recorded) throw fail(`'${c.field}' is a ${type}: ${recorded.problem}`);
  return { field: c.field, type: c.field in FIELD_TYPES ? undefined : type, op: c.op, value: recorded.value };
}

/** The conditions of the structured twin, as if written in a query. */
function structured(filter: PlanFilter): QueryCondition[] {
  const out: QueryCondition[] = [];
  const add = (field: string, op: QueryOperator, value: unknown) =>
    out.push({
      field,
      op,
      value: value instanceof Date ? value.toISOString() : (value as string | number | boolean),
      position: 0,
    });
  if (filter.type !== undefined) add('WorkflowType', '=', filter.type);
  if (filter.status !== undefined) add('ExecutionStatus', '=', filter.status);
  if (filter.startedAfter) add('StartTime', '>=', filter.startedAfter);
  if (filter.startedBefore) add('StartTime', '<', filter.startedBefore);
  if (filter.waiting !== undefined) add('FlowWaiting', '=', filter.waiting);
  for (const [name, v] of Object.entries(filter.searchAttributes ?? {})) {
    if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
      for (const [key, bound] of Object.entries(v)) {
        if (!(key in RANGE_OPS))
          throw new ListQueryError(
            `searchAttributes.${name}`,
            0,
            `unknown comparison '${key}': use gt, gte, lt, lte or ne`,
          );
        add(name, RANGE_OPS[key], bound);
      }
    } else {
      add(name, '=', v);
    }
  }
  return out;
}

/** Whether a list filter needs search attribute declarations (a query, or search attributes). */
export function needsDeclarations(filter: PlanFilter): boolean {
  return filter.query !== undefined || filter.searchAttributes !== undefined;
}

/** Score range of the `>`, `>=`, `<`, `<=`, `=` checks on one field, as ZRANGEBYSCORE bounds. */
function scoreRange(checks: Check[], field: string): { min: string; max: string } {
  let min = -Infinity,
    max = Infinity,
    minOpen = false,
    maxOpen = false;
  for (const c of checks) {
    if (c.field !== field || typeof c.value !== 'number') continue;
    const v = c.value;
    if ((c.op === '>' || c.op === '>=' || c.op === '=') && (v > min || (v === min && c.op === '>')))
      [min, minOpen] = [v, c.op === '>'];
    if ((c.op === '<' || c.op === '<=' || c.op === '=') && (v < max || (v === max && c.op === '<')))
      [max, maxOpen] = [v, c.op === '<'];
  }
  const bound = (v: number, open: boolean, inf: string) => (Number.isFinite(v) ? `${open ? '(' : ''}${v}` : inf);
  return { min: bound(min, minOpen, '-inf'), max: bound(max, maxOpen, '+inf') };
}

/**
 * Makes the plan of a listing: the most selective index (an equality on a keyword or bool
 * attribute, else a number or datetime attribute's range, else the status, type or all index)
 * with its score range; every condition is also checked against each candidate's meta. Throws
 * ListQueryError for a syntax error or an unknown field, naming its position.
 */
export function planListing(filter: PlanFilter, declared: Record<string, SearchAttributeType>): ListPlan {
  const query = filter.query ?? '';
  const checks = [...structured(filter), ...parseListQuery(query)].map((c) =>
    resolve(c, declared, query || 'searchAttributes'),
  );
  const eq = checks.find((c) => c.type && (c.type === 'keyword' || c.type === 'bool') && c.op === '=');
  if (eq)
    return { index: { attribute: eq.field, value: String(eq.value) }, range: scoreRange(checks, 'StartTime'), checks };
  const ranged = checks.find((c) => c.type && c.op !== '!=');
  if (ranged)
    return { index: { attribute: ranged.field, range: true }, range: scoreRange(checks, ranged.field), checks };
  // The waiting runs have their own index (by start time): few, and wanted together.
  if (checks.some((c) => c.field === 'FlowWaiting' && c.op === '=' && c.value === true))
    return { index: 'waiting', range: scoreRange(checks, 'StartTime'), checks };
  const status = checks.find((c) => c.field === 'ExecutionStatus' && c.op === '=');
  const type = checks.find((c) => c.field === 'WorkflowType' && c.op === '=');
  const index: PlanIndex = status ? { status: String(status.value) } : type ? { type: String(type.value) } : 'all';
  return { index, range: scoreRange(checks, 'StartTime'), checks };
}

/**
 * True when the plan's index and score range answer every condition exactly (one equality on
 * the index's own field, ranges on its score), so a ZCOUNT per shard counts the listing.
 */
export function countableByIndex(plan: ListPlan): boolean {
  const idx = plan.index;
  const scoreField = typeof idx === 'object' && 'range' in idx ? idx.attribute : 'StartTime';
  const eqField =
    idx === 'all'
      ? undefined
      : idx === 'waiting'
        ? 'FlowWaiting'
        : 'status' in idx
          ? 'ExecutionStatus'
          : 'type' in idx
            ? 'WorkflowType'
            : 'value' in idx
              ? idx.attribute
              : undefined;
  let equalities = 0;
  return plan.checks.every((c) =>
    c.field === eqField && c.op === '=' ? ++equalities === 1 : c.field === scoreField && c.op !== '!=',
  );
}

function fieldValue(meta: WorkflowMeta, field: string): string | number | boolean | undefined {
  switch (field) {
    case 'WorkflowType':
      return meta.type;
    case 'ExecutionStatus':
      return meta.status;
    case 'WorkflowId':
      return meta.workflowId;
    case 'StartTime':
      return meta.startedAt;
    case 'CloseTime':
      return meta.closedAt;
    case 'FlowWaiting':
      return meta.status === 'running' && meta.flowWait;
    default:
      return meta.searchAttributes?.[field]?.value;
  }
}

/** Whether a workflow's meta meets every condition of the plan (a missing attribute meets none, not even `!=`). */
export function matchesPlan(plan: ListPlan, meta: WorkflowMeta): boolean {
  return plan.checks.every((c) => {
    const v = fieldValue(meta, c.field);
    if (v === undefined || (c.type && meta.searchAttributes?.[c.field]?.type !== c.type)) return false;
    switch (c.op) {
      case '=':
        return v === c.value;
      case '!=':
        return v !== c.value;
      case '<':
        return v < c.value;
      case '<=':
        return v <= c.value;
      case '>':
        return v > c.value;
      case '>=':
        return v >= c.value;
    }
  });
}
