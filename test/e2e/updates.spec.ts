import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  Activities,
  Activity,
  ApplicationFailure,
  Query,
  Signal,
  Update,
  UnknownUpdateError,
  UpdateNotFoundError,
  Workflow,
  WorkflowRun,
  WorkflowUpdateFailedError,
  WorkflowUpdateRejectedError,
  activityContext,
  type HistoryEvent,
} from 'redurable';
import { allHandlersFinished, condition, continueAsNew } from 'redurable/workflow';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

/** What the audit activity recorded, by workflow id. */
const audit = new Map<string, string[]>();

@Injectable()
@Activities()
class AuditActivities {
  @Activity() async record(entry: string): Promise<void> {
    const { workflowId } = activityContext();
    audit.set(workflowId, [...(audit.get(workflowId) ?? []), entry]);
  }
}

@Workflow({ taskQueue: 'updates' })
class LimitWorkflow {
  private limit = 100;
  private closing = false;

  constructor(private readonly audit: AuditActivities) {}

  @WorkflowRun()
  async run(): Promise<number> {
    await condition(() => this.closing);
    await condition(allHandlersFinished);
    return this.limit;
  }

  @Update({
    validator(this: LimitWorkflow, limit: number) {
      if (!Number.isInteger(limit) || limit <= 0)
        throw new Error(`the limit must be a positive integer (got ${limit})`);
      if (limit === this.limit) throw new Error(`the limit is already ${limit}`);
    },
  })
  async changeLimit(limit: number): Promise<number> {
    const old = this.limit;
    await this.audit.record(`limit ${old} -> ${limit}`);
    this.limit = limit;
    return old;
  }

  @Update({ name: 'explode' })
  async failing(): Promise<void> {
    await this.audit.record('about to fail');
    throw ApplicationFailure.nonRetryable('cannot explode today', 'Refused');
  }

  @Signal() close(): void {
    this.closing = true;
  }

  @Query() current(): number {
    return this.limit;
  }
}

/** Counts through updates; `next` makes the first run continue as new, carrying the count. */
@Workflow({ taskQueue: 'updates' })
class CounterWorkflow {
  private count = 0;
  private proceed = false;

  @WorkflowRun()
  async run(generation: number, start: number): Promise<number> {
    this.count = start;
    await condition(() => this.proceed);
    await condition(allHandlersFinished);
    if (generation < 1) continueAsNew(generation + 1, this.count);
    return this.count;
  }

  @Update() async bump(): Promise<number> {
    return ++this.count;
  }

  @Signal() next(): void {
    this.proceed = true;
  }
}

let t: TestApp | undefined;
let other: TestApp | undefined;
afterEach(async () => {
  await other?.close();
  await t?.close();
  t = other = undefined;
  audit.clear();
});

const types = (h: HistoryEvent[]) =>
  h.map((e) =>
    e.type === 'WorkflowUpdateAccepted'
      ? `accepted ${e.updateName}`
      : e.type === 'ActivityTaskScheduled'
        ? `activity ${e.activityType}`
        : e.type,
  );

describe('updates', () => {
  test('executeUpdate runs the handler in the workflow (durable calls included) and returns its result; the history records it accepted and completed', async () => {
    t = await recreate([AuditActivities, LimitWorkflow]);
    const handle = await t.client.start(LimitWorkflow, { workflowId: 'limit-1' });
    await expect(handle.executeUpdate('changeLimit', 500)).resolves.toBe(100);
    await expect(handle.query('current')).resolves.toBe(500);
    await expect(handle.executeUpdate('changeLimit', 750)).resolves.toBe(500);
    await handle.signal('close');
    await expect(handle.result()).resolves.toBe(750);
    expect(audit.get('limit-1')).toEqual(['limit 100 -> 500', 'limit 500 -> 750']);
    const history = await handle.fetchHistory();
    expect(types(history)).toEqual([
      'WorkflowExecutionStarted',
      'accepted changeLimit',
      'activity record',
      'ActivityTaskCompleted',
      'WorkflowUpdateCompleted',
      'accepted changeLimit',
      'activity record',
      'ActivityTaskCompleted',
      'WorkflowUpdateCompleted',
      'SignalReceived',
      'WorkflowExecutionCompleted',
    ]);
  });

  test('a validator rejection reaches the caller as WorkflowUpdateRejectedError and records nothing; the validator sees the current state', async () => {
    t = await recreate([AuditActivities, LimitWorkflow]);
    const handle = await t.client.start(LimitWorkflow, { workflowId: 'limit-2' });
    const before = await handle.fetchHistory();
    const err = await handle.executeUpdate('changeLimit', -5).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowUpdateRejectedError);
    expect((err as Error).message).toBe(
      "Update 'changeLimit' of workflow 'limit-2' was rejected by its validator: the limit must be a positive integer (got -5). Nothing was recorded",
    );
    expect(await handle.fetchHistory()).toEqual(before);
    await expect(handle.executeUpdate('changeLimit', 100)).rejects.toThrow(
      'rejected by its validator: the limit is already 100',
    );
    await expect(handle.executeUpdate('changeLimit', 400)).resolves.toBe(100);
    await expect(handle.executeUpdate('changeLimit', 400)).rejects.toThrow(
      'rejected by its validator: the limit is already 400',
    );
    expect((await handle.fetchHistory()).filter((e) => e.type === 'WorkflowUpdateAccepted')).toHaveLength(1);
    await handle.signal('close');
    await handle.result();
  });

  test('an unknown update name is refused with UnknownUpdateError, nothing recorded; a handler that throws fails the update, not the workflow', async () => {
    t = await recreate([AuditActivities, LimitWorkflow]);
    const handle = await t.client.start(LimitWorkflow, { workflowId: 'limit-3' });
    const untyped = t.client.getHandle('limit-3');
    const unknown = await untyped.executeUpdate('chnageLimit', 5).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(UnknownUpdateError);
    expect((unknown as Error).message).toBe(
      "Workflow 'limit-3' (LimitWorkflow) has no update 'chnageLimit': known updates are changeLimit, explode. Nothing was recorded; add an @Update() method of that name to the workflow class, or fix the name",
    );

    // A typed handle names the handler's method ('failing'); the update is registered as 'explode'.
    const failed = await handle.executeUpdate('failing').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((failed as Error).message).toMatch(
      /^Update '[0-9a-f-]+' of workflow 'limit-3' \(run [0-9a-f-]+\) failed: cannot explode today$/,
    );
    expect(((failed as Error).cause as ApplicationFailure).type).toBe('Refused');
    expect((await handle.describe()).status).toBe('running');
    await expect(handle.executeUpdate('changeLimit', 9)).resolves.toBe(100);
    await handle.signal('close');
    await expect(handle.result()).resolves.toBe(9);
    expect(types(await handle.fetchHistory()).filter((e) => e.startsWith('accepted'))).toEqual([
      'accepted explode',
      'accepted changeLimit',
    ]);
  });

  test('startUpdate returns once the update is recorded; its result can be awaited from another process by update id, and an update id is accepted once', async () => {
    t = await recreate([AuditActivities, LimitWorkflow]);
    other = await createTestApp([AuditActivities, LimitWorkflow], { prefix: t.prefix, worker: false });
    const handle = await t.client.start(LimitWorkflow, { workflowId: 'limit-4' });
    const update = await handle.startUpdateWithId('request-7', 'changeLimit', 300);
    expect(update.updateId).toBe('request-7');
    const again = await other.client
      .getHandle(LimitWorkflow, 'limit-4')
      .startUpdateWithId('request-7', 'changeLimit', 300);
    await expect(other.client.getHandle('limit-4').getUpdateHandle('request-7').result()).resolves.toBe(100);
    await expect(again.result()).resolves.toBe(100);
    await expect(update.result()).resolves.toBe(100);
    expect(audit.get('limit-4')).toEqual(['limit 100 -> 300']);
    const missing = await handle
      .getUpdateHandle('no-such-update')
      .result()
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(UpdateNotFoundError);
    await handle.signal('close');
    await handle.result();
    expect(types(await handle.fetchHistory()).filter((e) => e === 'accepted changeLimit')).toHaveLength(1);
  });
});

describe('updates and continue-as-new', () => {
  test('an update sent after the code ended its run with continue-as-new goes to the next run, not into the closing one', async () => {
    other = await createTestApp([CounterWorkflow], { worker: false });
    const handle = await other.client.start(CounterWorkflow, { workflowId: 'counter-1', args: [0, 0] });
    await handle.signal('next'); // no worker yet: the code will continue as new on its next task
    const sent = handle.startUpdateWithId('u-1', 'bump');
    t = await createTestApp([CounterWorkflow], { prefix: other.prefix });
    const update = await sent;
    expect(update.runId).not.toBe(handle.runId);
    await expect(update.result()).resolves.toBe(1);
    const first = await other.client.getHandle('counter-1', handle.runId).fetchHistory();
    expect(first.some((e) => e.type === 'WorkflowUpdateAccepted')).toBe(false);
    await other.client.getHandle('counter-1').signal('next');
    await expect(other.client.getHandle<number>('counter-1').result()).resolves.toBe(1);
  });

  test('update handles find their update in an earlier or later run of the same workflow id; ids may hold any character', async () => {
    t = await createTestApp([CounterWorkflow]);
    const handle = await t.client.start(CounterWorkflow, { workflowId: 'counter-2', args: [0, 0] });
    await expect(handle.executeUpdate('bump')).resolves.toBe(1);
    const before = await handle.startUpdateWithId('order:42/a b', 'bump');
    await expect(before.result()).resolves.toBe(2);
    await handle.signal('next');
    await until('the next run', async () => (await t!.client.getHandle('counter-2').describe()).runId !== handle.runId);
    // A handle of the current run finds an update the previous run completed.
    await expect(t.client.getHandle('counter-2').getUpdateHandle('order:42/a b').result()).resolves.toBe(2);
    // An update sent through the first run's handle goes to the current run, and that handle finds it there.
    const later = await handle.startUpdateWithId('u-later', 'bump');
    await expect(handle.getUpdateHandle('u-later').result()).resolves.toBe(3);
    expect(later.runId).not.toBe(handle.runId);
    await t.client.getHandle('counter-2').signal('next');
    await expect(t.client.getHandle<number>('counter-2').result()).resolves.toBe(3);
  });

  test('concurrent updates of one workflow are all accepted once and applied in turn', async () => {
    t = await createTestApp([CounterWorkflow]);
    const handle = await t.client.start(CounterWorkflow, { workflowId: 'counter-3', args: [1, 0] });
    const results = await Promise.all(Array.from({ length: 12 }, () => handle.executeUpdate('bump')));
    expect([...results].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    await handle.signal('next');
    await expect(handle.result()).resolves.toBe(12);
  });
});

async function recreate(providers: Parameters<typeof createTestApp>[0]): Promise<TestApp> {
  await t?.close();
  return createTestApp(providers);
}
