import { afterEach, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Activities, Activity, Workflow, WorkflowRun, type HistoryEvent } from 'redurable';
import { createTestApp, type TestApp } from '../support/test-app.js';

interface Order {
  placedAt: Date;
  lines: Map<string, number>;
  tags: Set<string>;
  total: bigint;
  note: undefined;
  discounts: (number | undefined)[];
}

/** What the activity received, to compare with what was sent. */
const received: unknown[] = [];

@Injectable()
@Activities()
class OrderActivities {
  @Activity() async price(order: Order): Promise<{ order: Order; checkedAt: Date }> {
    received.push(order);
    return { order, checkedAt: new Date(Date.UTC(2026, 11, 1, 12)) };
  }
}

@Workflow({ taskQueue: 'payload-types' })
class OrderWorkflow {
  constructor(private readonly orders: OrderActivities) {}

  @WorkflowRun()
  async run(order: Order): Promise<{ order: Order; checkedAt: Date; sameTypes: boolean }> {
    const priced = await this.orders.price(order);
    const sameTypes =
      order.placedAt instanceof Date &&
      order.lines instanceof Map &&
      order.tags instanceof Set &&
      typeof order.total === 'bigint';
    return { ...priced, sameTypes };
  }
}

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

test('a Date, Map, Set, BigInt and undefined in arguments and results arrive as what they were, in workflow code, activities and the caller', async () => {
  t = await createTestApp([OrderActivities, OrderWorkflow]);
  const order: Order = {
    placedAt: new Date(Date.UTC(2026, 10, 30, 9, 15)),
    lines: new Map([
      ['sku-1', 2],
      ['sku-2', 1],
    ]),
    tags: new Set(['gift', 'express']),
    total: 12_345_678_901_234_567_890n,
    note: undefined,
    discounts: [5, undefined, 10],
  };
  const handle = await t.client.start(OrderWorkflow, { workflowId: 'order-1', args: [order] });
  const result = await handle.result();
  expect(result.sameTypes).toBe(true);
  expect(result.order).toEqual(order);
  expect(result.order.placedAt).toBeInstanceOf(Date);
  expect(result.order.lines.get('sku-1')).toBe(2);
  expect([...result.order.tags]).toEqual(['gift', 'express']);
  expect(result.order.total).toBe(12_345_678_901_234_567_890n);
  expect('note' in result.order).toBe(true);
  expect(result.order.discounts).toEqual([5, undefined, 10]);
  expect(result.checkedAt.toISOString()).toBe('2026-12-01T12:00:00.000Z');
  expect(received).toEqual([order]);

  // The format is versioned in the history: plain JSON stays plain, the rest is marked.
  const history = await handle.fetchHistory();
  const started = history[0] as Extract<HistoryEvent, { type: 'WorkflowExecutionStarted' }>;
  expect(started.input[0].startsWith('~sj1{')).toBe(true);
  const plain = await t.client.start(OrderWorkflow, {
    workflowId: 'order-plain',
    args: [{ placedAt: '2026-11-30', lines: {}, tags: [], total: 1, discounts: [] } as never],
  });
  await plain.result().catch(() => undefined);
  const plainStart = (await plain.fetchHistory())[0] as Extract<HistoryEvent, { type: 'WorkflowExecutionStarted' }>;
  expect(plainStart.input).toEqual(['{"placedAt":"2026-11-30","lines":{},"tags":[],"total":1,"discounts":[]}']);
});
