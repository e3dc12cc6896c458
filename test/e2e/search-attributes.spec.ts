import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  Activities,
  Activity,
  InvalidSearchAttributeError,
  ListQueryError,
  Query,
  Signal,
  Workflow,
  WorkflowNotFoundError,
  WorkflowRun,
  type HistoryEvent,
} from 'redurable';
import {
  proxyActivities,
  condition,
  continueAsNew,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from 'redurable/workflow';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

const ORDER_ATTRIBUTES = {
  customerId: 'keyword',
  amount: 'number',
  dueAt: 'datetime',
  vip: 'bool',
  stage: 'keyword',
} as const;

/** Waits for `proceed`, then marks itself approved (an upsert) and naps before returning its attributes. */
@Workflow({ name: 'SearchOrder', taskQueue: 'search', searchAttributes: ORDER_ATTRIBUTES })
class OrderWorkflow {
  private go = false;
  @Signal() proceed() {
    this.go = true;
  }
  @Query() attributes() {
    return workflowInfo().searchAttributes;
  }
  @WorkflowRun()
  async run(nap = 10) {
    await condition(() => this.go);
    upsertSearchAttributes({ stage: 'approved', amount: 700, vip: null });
    await sleep(nap);
    return workflowInfo().searchAttributes;
  }
}

/** Another type sharing `customerId`, to show WorkflowType narrows a listing. */
@Workflow({ name: 'SearchRefund', taskQueue: 'search', searchAttributes: { customerId: 'keyword', amount: 'number' } })
class RefundWorkflow {
  @WorkflowRun()
  async run() {
    await condition(() => false);
  }
}

@Workflow({ name: 'SearchRolling', taskQueue: 'search', searchAttributes: { customerId: 'keyword', round: 'number' } })
class RollingWorkflow {
  @WorkflowRun()
  async run(round: number) {
    upsertSearchAttributes({ round });
    if (round < 2) continueAsNew(round + 1);
    return workflowInfo().searchAttributes;
  }
}

@Injectable()
@Activities()
class StageActivities {
  @Activity() async charge(): Promise<string> {
    return 'charged';
  }
}

/** Upserts right after an activity's result: the steady-state step (completeAndCommit) records and indexes it. */
@Workflow({ name: 'SearchAfterActivity', taskQueue: 'search', searchAttributes: { stage: 'keyword' } })
class AfterActivityWorkflow {
  private readonly acts = proxyActivities(StageActivities);
  @WorkflowRun()
  async run() {
    upsertSearchAttributes({ stage: 'charging' });
    upsertSearchAttributes({ stage: await this.acts.charge() });
    await condition(() => false);
  }
}

@Workflow({ name: 'SearchParent', taskQueue: 'search' })
class ParentWorkflow {
  @WorkflowRun()
  async run() {
    const child = await startChild(RollingWorkflow, {
      workflowId: `${workflowInfo().workflowId}-child`,
      args: [2],
      searchAttributes: { customerId: 'child-c' },
      memo: { from: 'parent' },
    });
    return child.result();
  }
}

/** Upserts a value of the wrong type: its task fails (and is retried), the workflow does not. */
@Workflow({ name: 'SearchBadUpsert', taskQueue: 'search', searchAttributes: { amount: 'number' } })
class BadUpsertWorkflow {
  @WorkflowRun()
  async run() {
    upsertSearchAttributes({ amount: 'lots' as unknown as number });
    return 'unreachable';
  }
}

const WORKFLOWS = [
  StageActivities,
  AfterActivityWorkflow,
  OrderWorkflow,
  RefundWorkflow,
  RollingWorkflow,
  BadUpsertWorkflow,
  ParentWorkflow,
];
let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const ids = (page: { workflows: { workflowId: string }[] }) => page.workflows.map((w) => w.workflowId).sort();

describe('search attributes and memo', () => {
  test('set at start and by upsert: recorded in the history, shown by describe, list and workflowInfo; memo round-trips with its Date', async () => {
    t = await createTestApp(WORKFLOWS);
    const dueAt = new Date('2026-12-24T10:00:00.000Z');
    const handle = await t.client.start(OrderWorkflow, {
      workflowId: 'order-1',
      args: [10],
      searchAttributes: { customerId: 'c-1', amount: 500, dueAt, vip: true },
      memo: { note: 'call first', placedAt: new Date('2026-11-30T08:00:00.000Z') },
    });
    const started = (await handle.fetchHistory())[0] as Extract<HistoryEvent, { type: 'WorkflowExecutionStarted' }>;
    expect(started.searchAttributes).toEqual({
      customerId: { type: 'keyword', value: 'c-1' },
      amount: { type: 'number', value: 500 },
      dueAt: { type: 'datetime', value: dueAt.getTime() },
      vip: { type: 'bool', value: true },
    });
    let description = await handle.describe();
    expect(description.searchAttributes).toEqual({ customerId: 'c-1', amount: 500, dueAt, vip: true });
    expect(description.memo).toEqual({ note: 'call first', placedAt: new Date('2026-11-30T08:00:00.000Z') });
    expect(description.memo!.placedAt).toBeInstanceOf(Date);
    const listed = await t.client.list({ query: "customerId = 'c-1'" });
    expect(listed.workflows.map((w) => [w.workflowId, w.searchAttributes])).toEqual([
      ['order-1', { customerId: 'c-1', amount: 500, dueAt, vip: true }],
    ]);

    await handle.signal('proceed');
    const result = await handle.result();
    expect(result).toEqual({ customerId: 'c-1', amount: 700, dueAt, stage: 'approved' });
    const upserts = (await handle.fetchHistory()).filter((e) => e.type === 'UpsertWorkflowSearchAttributes');
    expect(upserts).toMatchObject([
      {
        seq: 1,
        searchAttributes: {
          stage: { type: 'keyword', value: 'approved' },
          amount: { type: 'number', value: 700 },
          vip: null,
        },
      },
    ]);
    description = await handle.describe();
    expect(description.searchAttributes).toEqual({ customerId: 'c-1', amount: 700, dueAt, stage: 'approved' });
    // The closed workflow is found by its new values, not its old ones (vip was removed).
    expect(ids(await t.client.list({ query: "stage = 'approved' AND ExecutionStatus = 'completed'" }))).toEqual([
      'order-1',
    ]);
    expect(ids(await t.client.list({ query: 'amount >= 600' }))).toEqual(['order-1']);
    expect(ids(await t.client.list({ query: 'amount < 600' }))).toEqual([]);
    expect(await t.client.count({ searchAttributes: { vip: true } })).toBe(0);
    // A query replays the history in this process: the upsert matches its recorded command.
    expect(await handle.query('attributes')).toEqual({ customerId: 'c-1', amount: 700, dueAt, stage: 'approved' });
  });

  test('survive a worker restart: the replay matches the recorded upsert and records no second one', async () => {
    t = await createTestApp(WORKFLOWS);
    const handle = await t.client.start(OrderWorkflow, {
      workflowId: 'order-restart',
      args: [1500],
      searchAttributes: { customerId: 'c-r' },
    });
    await handle.signal('proceed');
    await until('the upsert', async () =>
      (await handle.fetchHistory()).some((e) => e.type === 'UpsertWorkflowSearchAttributes'),
    );
    const prefix = t.prefix;
    await t.close();
    t = await createTestApp(WORKFLOWS, { prefix });
    expect(await t.client.getHandle(OrderWorkflow, 'order-restart').result()).toEqual({
      customerId: 'c-r',
      stage: 'approved',
      amount: 700,
    });
    const history = await t.client.getHandle('order-restart').fetchHistory();
    expect(history.filter((e) => e.type === 'UpsertWorkflowSearchAttributes')).toHaveLength(1);
    expect(ids(await t.client.list({ query: "customerId = 'c-r' AND stage = 'approved'" }))).toEqual(['order-restart']);
  });

  test('carried over by continue-as-new, with the memo; a new start of the id replaces them', async () => {
    t = await createTestApp(WORKFLOWS);
    const handle = await t.client.start(RollingWorkflow, {
      workflowId: 'rolling',
      args: [0],
      searchAttributes: { customerId: 'c-9' },
      memo: { owner: 'ada' },
    });
    expect(await t.client.getHandle(RollingWorkflow, 'rolling').result()).toEqual({ customerId: 'c-9', round: 2 });
    const description = await t.client.getHandle('rolling').describe();
    expect(description.runId).not.toBe(handle.runId);
    expect([description.searchAttributes, description.memo]).toEqual([
      { customerId: 'c-9', round: 2 },
      { owner: 'ada' },
    ]);
    const started = (await t.client.getHandle('rolling').fetchHistory())[0] as Extract<
      HistoryEvent,
      { type: 'WorkflowExecutionStarted' }
    >;
    expect(started.searchAttributes).toEqual({
      customerId: { type: 'keyword', value: 'c-9' },
      round: { type: 'number', value: 1 },
    });
    expect(ids(await t.client.list({ query: "customerId = 'c-9' AND round = 2" }))).toEqual(['rolling']);

    await t.client.start(RollingWorkflow, {
      workflowId: 'rolling',
      args: [2],
      searchAttributes: { customerId: 'c-10' },
    });
    expect(await t.client.count({ query: "customerId = 'c-9'" })).toBe(0);
    await until(
      'the new run',
      async () => (await t!.client.count({ query: "customerId = 'c-10' AND round = 2" })) === 1,
    );
  });

  test('an upsert after an activity result is recorded and indexed by the steady-state step, replacing the old value', async () => {
    t = await createTestApp(WORKFLOWS);
    const handle = await t.client.start(AfterActivityWorkflow, { workflowId: 'after-activity' });
    await until('the second upsert', async () => (await t!.client.count({ query: "stage = 'charged'" })) === 1);
    expect(await t.client.count({ query: "stage = 'charging'" })).toBe(0);
    expect((await handle.fetchHistory()).map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
      'UpsertWorkflowSearchAttributes',
      'ActivityTaskScheduled',
      'ActivityTaskCompleted',
      'UpsertWorkflowSearchAttributes',
    ]);
    await handle.terminate();
  });

  test('a child workflow started with search attributes and a memo carries them', async () => {
    t = await createTestApp(WORKFLOWS);
    expect(await t.client.execute(ParentWorkflow, { workflowId: 'parent' })).toEqual({
      customerId: 'child-c',
      round: 2,
    });
    expect(ids(await t.client.list({ query: "customerId = 'child-c'" }))).toEqual(['parent-child']);
    expect((await t.client.getHandle('parent-child').describe()).memo).toEqual({ from: 'parent' });
  });

  test('list and count by equality, number and datetime ranges, combined with type, status and start time, across pages', async () => {
    t = await createTestApp(WORKFLOWS);
    const day = (d: number) => new Date(Date.UTC(2026, 0, d));
    for (let i = 1; i <= 7; i++) {
      await t.client.start(OrderWorkflow, {
        workflowId: `o-${i}`,
        searchAttributes: { customerId: i % 2 ? 'odd' : 'even', amount: i * 100, dueAt: day(i), vip: i > 5 },
      });
    }
    await t.client.start(RefundWorkflow, {
      workflowId: 'refund-1',
      searchAttributes: { customerId: 'odd', amount: 50 },
    });
    const afterStarts = new Date(Date.now() + 1);
    await t.client.getHandle('o-7').terminate();

    expect(await t.client.count({ query: "customerId = 'odd'" })).toBe(5);
    expect(await t.client.count({ query: "customerId = 'odd' AND WorkflowType = 'SearchOrder'" })).toBe(4);
    expect(
      await t.client.count({
        query: "customerId = 'odd' AND ExecutionStatus = 'running' AND WorkflowType = 'SearchOrder'",
      }),
    ).toBe(3);
    expect(await t.client.count({ query: 'amount BETWEEN 200 AND 500' })).toBe(4);
    expect(await t.client.count({ query: 'amount > 200 AND amount < 500 AND vip = false' })).toBe(2);
    expect(
      await t.client.count({ query: `dueAt >= '${day(3).toISOString()}' AND dueAt < '${day(6).toISOString()}'` }),
    ).toBe(3);
    expect(await t.client.count({ searchAttributes: { dueAt: { gt: day(5) }, customerId: { ne: 'even' } } })).toBe(1);
    expect(await t.client.count({ query: `customerId = 'even' AND StartTime >= '${afterStarts.toISOString()}'` })).toBe(
      0,
    );
    expect(await t.client.count({ query: "ExecutionStatus = 'terminated' AND vip = true" })).toBe(1);

    // Paging two at a time: equality newest first, a range by value highest first.
    const pages = async (filter: Parameters<TestApp['client']['list']>[0]) => {
      const seen: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await t!.client.list({ ...filter, limit: 2, cursor });
        if (page.workflows.length) seen.push(page.workflows.map((w) => w.workflowId));
        cursor = page.nextCursor; // a full page has a cursor even when nothing follows
      } while (cursor);
      return seen;
    };
    expect(await pages({ query: "customerId = 'odd' AND WorkflowType = 'SearchOrder'" })).toEqual([
      ['o-7', 'o-5'],
      ['o-3', 'o-1'],
    ]);
    expect(await pages({ query: "amount >= 300 AND ExecutionStatus = 'running'" })).toEqual([
      ['o-6', 'o-5'],
      ['o-4', 'o-3'],
    ]);
    expect((await pages({ searchAttributes: { dueAt: { lte: day(2) } } })).flat()).toEqual(['o-2', 'o-1']);
  });

  test('a typo in a start attribute, a wrong value type or a query naming no declared attribute is a typed error, and writes nothing', async () => {
    t = await createTestApp(WORKFLOWS);
    const typo = t.client.start(OrderWorkflow, { workflowId: 'typo', searchAttributes: { custmerId: 'c-1' } });
    await expect(typo).rejects.toThrow(InvalidSearchAttributeError);
    await expect(typo).rejects.toThrow(
      /'custmerId' of workflow 'SearchOrder': it is not declared.*customerId \(keyword\), amount \(number\)/,
    );
    await expect(
      t.client.start(OrderWorkflow, { workflowId: 'typo', searchAttributes: { amount: '500' } }),
    ).rejects.toThrow(/expected a finite number, got string "500"/);
    await expect(t.client.getHandle('typo').describe()).rejects.toThrow(WorkflowNotFoundError);
    await expect(t.client.list({ query: "custmerId = 'c-1'" })).rejects.toThrow(ListQueryError);
    await expect(t.client.count({ query: "customerId = 'c-1' AND amount >" })).rejects.toThrow(/position 31/);

    // A process without the classes validates against the declarations the workers registered.
    const clientOnly = await createTestApp([], { prefix: t.prefix, worker: false });
    try {
      await expect(
        clientOnly.client.start('SearchOrder', { workflowId: 'typo', searchAttributes: { vip: 'yes' } }),
      ).rejects.toThrow(/'vip' of workflow 'SearchOrder': expected a boolean/);
      await clientOnly.client.start('SearchOrder', {
        workflowId: 'by-name',
        searchAttributes: { vip: true, dueAt: '2026-03-01T00:00:00Z' },
      });
      expect(ids(await clientOnly.client.list({ query: "vip = true AND dueAt = '2026-03-01T00:00:00Z'" }))).toEqual([
        'by-name',
      ]);
    } finally {
      await clientOnly.close();
    }
    expect(await t.client.count({ query: "WorkflowId = 'typo'" })).toBe(0);
  });

  test('an invalid upsert in workflow code fails the workflow task, not the workflow, and records nothing', async () => {
    t = await createTestApp(WORKFLOWS);
    const handle = await t.client.start(BadUpsertWorkflow, { workflowId: 'bad-upsert' });
    const description = await until('the task failure', async () => {
      const d = await handle.describe();
      return d.taskFailure ? d : undefined;
    });
    expect(description.status).toBe('running');
    expect(description.taskFailure!.message).toMatch(
      /InvalidSearchAttributeError: Search attribute 'amount' of workflow 'SearchBadUpsert': expected a finite number/,
    );
    expect((await handle.fetchHistory()).map((e) => e.type)).toEqual(['WorkflowExecutionStarted']);
    await handle.terminate();
  });
});
