/**
 * The list-query planner (core/search/list-plan.ts): which index a listing pages through, its
 * score range, whether a ZCOUNT answers `count()`, how each candidate's meta is checked, and the
 * errors a bad filter gets (exact messages).
 */
import { describe, expect, test } from '@jest/globals';
import { ListQueryError } from '../../libs/redurable/src/core/errors/search.errors.js';
import {
  countableByIndex,
  matchesPlan,
  needsDeclarations,
  planListing,
  type PlanFilter,
} from '../../libs/redurable/src/core/search/list-plan.js';
import type { WorkflowMeta } from '../../libs/redurable/src/core/workflow-state.js';

const declared = { customerId: 'keyword', amount: 'number', dueAt: 'datetime', vip: 'bool' } as const;
const JAN = Date.parse('2026-01-01T00:00:00Z');
const FEB = Date.parse('2026-02-01T00:00:00Z');

const plan = (filter: PlanFilter) => planListing(filter, declared);
const shape = (filter: PlanFilter) => {
  const p = plan(filter);
  return { index: p.index, range: p.range, countable: countableByIndex(p) };
};
const ALL = { min: '-inf', max: '+inf' };

function meta(extra: Partial<WorkflowMeta> = {}): WorkflowMeta {
  return {
    workflowId: 'order-1',
    flowWait: false,
    type: 'Transfer',
    status: 'running',
    runId: 'r',
    taskQueue: 'q',
    startedAt: JAN,
    historyLength: 1,
    dirty: false,
    leaseExp: 0,
    fence: 0,
    searchAttributes: {
      customerId: { type: 'keyword', value: 'c-1' },
      amount: { type: 'number', value: 250 },
      dueAt: { type: 'datetime', value: FEB },
      vip: { type: 'bool', value: false },
    },
    ...extra,
  };
}

function errorOf(filter: PlanFilter): ListQueryError {
  try {
    plan(filter);
  } catch (err) {
    if (err instanceof ListQueryError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('the index a listing pages through', () => {
  test('no condition: every workflow, any start time, counted by the index', () => {
    expect(shape({})).toEqual({ index: 'all', range: ALL, countable: true });
    expect(shape({ query: '   ' })).toEqual({ index: 'all', range: ALL, countable: true });
  });

  test('a status or a type picks its index; start time bounds are its score range', () => {
    expect(shape({ type: 'Transfer' })).toEqual({ index: { type: 'Transfer' }, range: ALL, countable: true });
    expect(shape({ status: 'running', startedAfter: new Date(JAN), startedBefore: new Date(FEB) })).toEqual({
      index: { status: 'running' },
      range: { min: String(JAN), max: `(${FEB}` },
      countable: true,
    });
    // The status index wins over the type index; the type is then checked on each candidate.
    expect(shape({ status: 'completed', type: 'Transfer' })).toEqual({
      index: { status: 'completed' },
      range: ALL,
      countable: false,
    });
    expect(shape({ query: "ExecutionStatus = 'failed' AND StartTime > '2026-01-01T00:00:00Z'" })).toEqual({
      index: { status: 'failed' },
      range: { min: `(${JAN}`, max: '+inf' },
      countable: true,
    });
  });

  test('an equality on a keyword or bool attribute picks that attribute value index, over a status or a range', () => {
    expect(shape({ status: 'running', query: "amount > 5 AND customerId = 'c-1'" })).toEqual({
      index: { attribute: 'customerId', value: 'c-1' },
      range: ALL,
      countable: false,
    });
    expect(shape({ searchAttributes: { customerId: 'c-1' }, startedAfter: new Date(JAN) })).toEqual({
      index: { attribute: 'customerId', value: 'c-1' },
      range: { min: String(JAN), max: '+inf' },
      countable: true,
    });
    // A bool may be written bare or quoted.
    expect(plan({ query: "vip = 'true'" }).index).toEqual({ attribute: 'vip', value: 'true' });
    expect(plan({ query: 'vip = false' }).index).toEqual({ attribute: 'vip', value: 'false' });
  });

  test('a number or datetime attribute compared with anything but != pages through its range', () => {
    expect(shape({ query: 'amount = 7' })).toEqual({
      index: { attribute: 'amount', range: true },
      range: { min: '7', max: '7' },
      countable: true,
    });
    // The tighter bound wins, exclusive over inclusive at the same value.
    expect(
      plan({ query: 'amount >= 5 AND amount > 5 AND amount <= 10 AND amount < 10 AND amount < 20' }).range,
    ).toEqual({
      min: '(5',
      max: '(10',
    });
    expect(plan({ query: 'amount > 5 AND amount >= 5' }).range).toEqual({ min: '(5', max: '+inf' });
    // A datetime as an ISO string, as epoch ms, or a Date in the structured form.
    expect(plan({ query: `dueAt >= ${JAN}` }).range).toEqual({ min: String(JAN), max: '+inf' });
    expect(plan({ searchAttributes: { dueAt: { gte: new Date(JAN), lt: new Date(FEB) } } }).range).toEqual({
      min: String(JAN),
      max: `(${FEB}`,
    });
  });

  test('conditions no index answers are checked on every candidate, and a count cannot use ZCOUNT', () => {
    expect(shape({ query: 'amount != 3' })).toEqual({ index: 'all', range: ALL, countable: false });
    expect(shape({ query: "WorkflowId = 'order-1'" })).toEqual({ index: 'all', range: ALL, countable: false });
    expect(shape({ query: "CloseTime < '2026-02-01T00:00:00Z'" })).toEqual({
      index: 'all',
      range: ALL,
      countable: false,
    });
    expect(shape({ type: 'Transfer', query: "customerId != 'c-2'" }).countable).toBe(false);
    expect(shape({ query: 'amount > 5 AND amount != 7' }).countable).toBe(false);
  });

  test('the checks keep the recorded form of each value', () => {
    expect(
      plan({ query: "dueAt < '2026-02-01T00:00:00Z' AND vip != 'false'", searchAttributes: { amount: { ne: 3 } } })
        .checks,
    ).toEqual([
      { field: 'amount', type: 'number', op: '!=', value: 3 },
      { field: 'dueAt', type: 'datetime', op: '<', value: FEB },
      { field: 'vip', type: 'bool', op: '!=', value: false },
    ]);
  });
});

describe('matching a candidate', () => {
  test('every operator, on attributes and on the workflow fields', () => {
    const m = meta({ closedAt: FEB });
    const matches = (query: string) => matchesPlan(plan({ query }), m);
    expect(matches("customerId = 'c-1' AND vip = false AND amount >= 250 AND amount <= 250")).toBe(true);
    expect(matches('amount > 249 AND amount < 251 AND amount != 1')).toBe(true);
    expect(matches('amount > 250')).toBe(false);
    expect(matches('amount < 250')).toBe(false);
    expect(matches(`dueAt = ${FEB}`)).toBe(true);
    expect(matches("WorkflowType = 'Transfer' AND ExecutionStatus = 'running' AND WorkflowId = 'order-1'")).toBe(true);
    expect(matches(`StartTime >= ${JAN} AND CloseTime <= ${FEB}`)).toBe(true);
    expect(matches("WorkflowType != 'Transfer'")).toBe(false);
  });

  test('a missing attribute (or close time) meets no condition, not even !=', () => {
    const bare = meta({ searchAttributes: undefined });
    expect(matchesPlan(plan({ query: "customerId != 'c-2'" }), bare)).toBe(false);
    expect(matchesPlan(plan({ query: 'amount != 3' }), bare)).toBe(false);
    expect(matchesPlan(plan({ query: `CloseTime > ${JAN}` }), meta())).toBe(false);
    expect(matchesPlan(plan({}), bare)).toBe(true);
  });

  test('an attribute recorded with another type than the declared one does not match', () => {
    const m = meta({ searchAttributes: { amount: { type: 'keyword', value: '250' } } });
    expect(matchesPlan(plan({ query: 'amount != 3' }), m)).toBe(false);
  });
});

describe('bad filters', () => {
  test('an unknown field names its position and the known fields', () => {
    expect(errorOf({ query: "amount > 1 AND custmerId = 'c'" }).message).toBe(
      "Invalid list query at position 15: unknown field 'custmerId': no workflow type declares a search attribute with that name (known: WorkflowType, ExecutionStatus, WorkflowId, StartTime, CloseTime, FlowWaiting, customerId, amount, dueAt, vip)\n" +
        "  amount > 1 AND custmerId = 'c'\n" +
        '                 ^',
    );
    // In the structured form the "query" is the filter field.
    const structured = errorOf({ searchAttributes: { nope: 1 } });
    expect([structured.position, structured.query]).toEqual([0, 'searchAttributes']);
    expect(structured.message).toMatch(/^Invalid list query at position 0: unknown field 'nope'/);
  });

  test('a comparison a type does not support, or a value of the wrong type', () => {
    const problems = (query: string) => errorOf({ query }).message.split('\n')[0];
    expect(problems("customerId > 'a'")).toBe(
      "Invalid list query at position 0: 'customerId' is a keyword: compare it with = or !=",
    );
    expect(problems('vip < true')).toBe("Invalid list query at position 0: 'vip' is a bool: compare it with = or !=");
    expect(problems("ExecutionStatus >= 'a'")).toBe(
      "Invalid list query at position 0: 'ExecutionStatus' is a keyword: compare it with = or !=",
    );
    expect(problems("amount = 1 AND amount > 'lots'")).toBe(
      'Invalid list query at position 15: \'amount\' is a number: expected a finite number, got string "lots"',
    );
    expect(problems("dueAt > 'tomorrow'")).toBe(
      'Invalid list query at position 0: \'dueAt\' is a datetime: expected a Date or an ISO 8601 date string, got string "tomorrow"',
    );
    expect(problems('customerId = 7')).toBe(
      "Invalid list query at position 0: 'customerId' is a keyword: expected a string (keyword), got number 7",
    );
  });

  test('an unknown comparison in the structured form', () => {
    expect(errorOf({ searchAttributes: { amount: { gte: 1, over: 2 } as never } }).message).toBe(
      "Invalid list query at position 0: unknown comparison 'over': use gt, gte, lt, lte or ne\n  searchAttributes.amount\n  ^",
    );
  });

  test('only a query or search attributes need the declarations', () => {
    expect(needsDeclarations({ type: 'T', status: 'running', startedAfter: new Date(JAN) })).toBe(false);
    expect(needsDeclarations({ query: '' })).toBe(true);
    expect(needsDeclarations({ searchAttributes: {} })).toBe(true);
  });
});

describe('runs waiting for a concurrency slot', () => {
  test('waiting: true (or FlowWaiting = true) pages through the waiting index, counted by it; each candidate is checked', () => {
    expect(shape({ waiting: true })).toEqual({ index: 'waiting', range: ALL, countable: true });
    expect(shape({ query: 'FlowWaiting = true' })).toEqual({ index: 'waiting', range: ALL, countable: true });
    expect(shape({ waiting: true, type: 'Transfer' })).toMatchObject({ index: 'waiting', countable: false });
    expect(shape({ waiting: false })).toMatchObject({ index: 'all', countable: false });
    expect(matchesPlan(plan({ waiting: true }), meta({ flowWait: true }))).toBe(true);
    expect(matchesPlan(plan({ waiting: true }), meta())).toBe(false);
    expect(matchesPlan(plan({ waiting: false }), meta())).toBe(true);
    expect(matchesPlan(plan({ waiting: true }), meta({ flowWait: true, status: 'terminated' }))).toBe(false);
  });
});
