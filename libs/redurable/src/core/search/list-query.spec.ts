import { describe, expect, test } from '@jest/globals';
import { ListQueryError } from '../errors/search.errors.js';
import { parseListQuery } from './list-query.js';
import { countableByIndex, matchesPlan, planListing } from './list-plan.js';
import type { WorkflowMeta } from '../workflow-state.js';

const errorOf = (query: string): ListQueryError => {
  try {
    parseListQuery(query);
  } catch (err) {
    return err as ListQueryError;
  }
  throw new Error(`no error for ${query}`);
};

describe('list query parser', () => {
  test('AND-joined comparisons with every operator, strings in both quotes, numbers, booleans and BETWEEN', () => {
    expect(
      parseListQuery(
        `customerId = 'c-1' AND amount >= 100 and vip != true AND x < -2.5e3 AND y <= 7 AND name > "O'Brien" AND z BETWEEN 1 AND 5`,
      ),
    ).toEqual([
      { field: 'customerId', op: '=', value: 'c-1', position: 0 },
      { field: 'amount', op: '>=', value: 100, position: 23 },
      { field: 'vip', op: '!=', value: true, position: 41 },
      { field: 'x', op: '<', value: -2500, position: 57 },
      { field: 'y', op: '<=', value: 7, position: 72 },
      { field: 'name', op: '>', value: "O'Brien", position: 83 },
      { field: 'z', op: '>=', value: 1, position: 104 },
      { field: 'z', op: '<=', value: 5, position: 104 },
    ]);
    expect(parseListQuery("a = 'it''s'")[0].value).toBe("it's");
    expect(parseListQuery('   ')).toEqual([]);
  });

  test('a syntax error is a ListQueryError with the position of the problem', () => {
    expect(errorOf("customerId = 'c-1' AND").position).toBe(22);
    expect(errorOf('customerId = c-1').message).toMatch(/position 13: expected a value .*got 'c' \(quote strings\)/);
    expect(errorOf("a = 'open").position).toBe(4);
    expect(errorOf('a = 1 OR b = 2').message).toMatch(/position 6: OR is not supported/);
    expect(errorOf('a ~ 1').position).toBe(2);
    expect(errorOf('a BETWEEN 1 5').message).toMatch(/expected AND between/);
    expect(errorOf('= 1')).toBeInstanceOf(ListQueryError);
  });
});

describe('list plan', () => {
  const declared = { customerId: 'keyword', amount: 'number', dueAt: 'datetime', vip: 'bool' } as const;
  const meta = (sa: WorkflowMeta['searchAttributes'], extra: Partial<WorkflowMeta> = {}) =>
    ({
      workflowId: 'w',
      type: 'Transfer',
      status: 'running',
      startedAt: 1000,
      searchAttributes: sa,
      ...extra,
    }) as WorkflowMeta;

  test('an equality on a keyword picks its index, a range on a number its score range, else status', () => {
    expect(planListing({ query: "amount > 5 AND customerId = 'c-1'" }, declared).index).toEqual({
      attribute: 'customerId',
      value: 'c-1',
    });
    const ranged = planListing({ query: 'amount > 5 AND amount <= 10 AND amount >= 2' }, declared);
    expect([ranged.index, ranged.range]).toEqual([
      { attribute: 'amount', range: true },
      { min: '(5', max: '10' },
    ]);
    expect(countableByIndex(ranged)).toBe(true);
    const dates = planListing({ query: "dueAt BETWEEN '2026-01-01T00:00:00Z' AND '2026-02-01T00:00:00Z'" }, declared);
    expect(dates.range).toEqual({
      min: String(Date.parse('2026-01-01T00:00:00Z')),
      max: String(Date.parse('2026-02-01T00:00:00Z')),
    });
    const status = planListing(
      { query: "ExecutionStatus = 'running' AND StartTime >= '2026-01-01T00:00:00Z'", type: 'Transfer' },
      declared,
    );
    expect([status.index, countableByIndex(status)]).toEqual([{ status: 'running' }, false]);
    expect(planListing({ searchAttributes: { vip: true, amount: { gte: 100 } } }, declared).index).toEqual({
      attribute: 'vip',
      value: 'true',
    });
  });

  test('conditions are checked against the meta, types included', () => {
    const plan = planListing(
      { query: "customerId = 'c-1' AND amount >= 100 AND vip != true AND WorkflowType = 'Transfer'" },
      declared,
    );
    expect(
      matchesPlan(
        plan,
        meta({
          customerId: { type: 'keyword', value: 'c-1' },
          amount: { type: 'number', value: 100 },
          vip: { type: 'bool', value: false },
        }),
      ),
    ).toBe(true);
    expect(
      matchesPlan(
        plan,
        meta({
          customerId: { type: 'keyword', value: 'c-1' },
          amount: { type: 'number', value: 99 },
          vip: { type: 'bool', value: false },
        }),
      ),
    ).toBe(false);
    expect(
      matchesPlan(
        plan,
        meta({ customerId: { type: 'keyword', value: 'c-1' }, amount: { type: 'number', value: 100 } }),
      ),
    ).toBe(false);
  });

  test('an unknown field, or a value of the wrong type, is a ListQueryError naming its position', () => {
    expect(() => planListing({ query: "amount > 1 AND custmerId = 'c'" }, declared)).toThrow(
      /position 15: unknown field 'custmerId'.*known: .*customerId/,
    );
    expect(() => planListing({ query: "amount > 'lots'" }, declared)).toThrow(
      /position 0: 'amount' is a number: expected a finite number/,
    );
    expect(() => planListing({ query: "customerId > 'a'" }, declared)).toThrow(/compare it with = or !=/);
    expect(() => planListing({ searchAttributes: { amount: { gte: 1, over: 2 } as never } }, declared)).toThrow(
      /unknown comparison 'over'/,
    );
  });
});
