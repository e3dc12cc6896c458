import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  Activities,
  Activity,
  ApplicationFailure,
  InvalidResetPointError,
  Signal,
  TimeoutFailure,
  Workflow,
  WorkflowFailedError,
  WorkflowRun,
} from 'redurable';
import { condition, executeChild, proxyActivities, sleep, upsertSearchAttributes } from 'redurable/workflow';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

/** What "deploying the fix" changes: the code the next run executes. */
const deployed = { feeBugFixed: false, chargeBugFixed: false, tracksStage: true, replayBreaks: false };
const calls: string[] = [];

@Injectable()
@Activities()
class BillingActivities {
  @Activity() async quote(amount: number): Promise<number> {
    calls.push(`quote ${amount}`);
    return amount * 100;
  }

  @Activity({ retry: { maximumAttempts: 1 } })
  async charge(cents: number): Promise<string> {
    calls.push(`charge ${cents}`);
    if (!deployed.chargeBugFixed)
      throw ApplicationFailure.nonRetryable('card processor rejected the request', 'ChargeBug');
    return `charged ${cents}`;
  }
}

@Workflow({ taskQueue: 'reset' })
class BillingWorkflow {
  private readonly acts = proxyActivities(BillingActivities);

  @WorkflowRun()
  async run(amount: number) {
    const cents = await this.acts.quote(amount);
    if (!deployed.feeBugFixed) throw ApplicationFailure.nonRetryable(`fee of ${cents} cents is wrong`, 'FeeBug');
    return this.acts.charge(cents);
  }
}

@Workflow({ taskQueue: 'reset' })
class CollectorWorkflow {
  private items: number[] = [];
  private done = false;

  @WorkflowRun()
  async run() {
    await condition(() => this.done);
    return this.items;
  }

  @Signal() add(n: number) {
    this.items.push(n);
  }

  @Signal() finish() {
    this.done = true;
  }
}

@Workflow({ taskQueue: 'reset', searchAttributes: { stage: 'keyword' } })
class StagedWorkflow {
  private go = false;

  @WorkflowRun()
  async run() {
    if (deployed.tracksStage) upsertSearchAttributes({ stage: 'waiting' });
    await condition(() => this.go);
    if (deployed.tracksStage) upsertSearchAttributes({ stage: 'done' });
    return 'ok';
  }

  @Signal() proceed() {
    this.go = true;
  }
}

@Workflow({ taskQueue: 'reset' })
class KidWorkflow {
  private go = false;

  @WorkflowRun()
  async run() {
    await condition(() => this.go);
    return 'kid done';
  }

  @Signal() finish() {
    this.go = true;
  }
}

@Workflow({ taskQueue: 'reset' })
class ParentWorkflow {
  @WorkflowRun()
  async run() {
    return executeChild(KidWorkflow, { workflowId: 'reset-kid' });
  }
}

/** After a deploy that does not replay its history (`replayBreaks`), every task of a replay fails. */
@Workflow({ taskQueue: 'reset' })
class DriftingWorkflow {
  private readonly acts = proxyActivities(BillingActivities);

  @WorkflowRun()
  async run() {
    if (deployed.replayBreaks) await sleep('1h');
    else await this.acts.quote(1);
    await condition(() => false);
  }
}

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
  calls.length = 0;
  deployed.feeBugFixed = false;
  deployed.chargeBugFixed = false;
  deployed.tracksStage = true;
  deployed.replayBreaks = false;
});

async function failed(p: Promise<unknown>): Promise<WorkflowFailedError> {
  return p.then(
    () => {
      throw new Error('expected the workflow to fail');
    },
    (err: WorkflowFailedError) => err,
  );
}

describe('reset', () => {
  test('to the last workflow task: a fixed workflow bug re-runs the last task with the current code; finished steps are not repeated', async () => {
    t = await createTestApp([BillingActivities, BillingWorkflow]);
    const handle = await t.client.start(BillingWorkflow, { workflowId: 'bill-1', args: [5] });
    expect((await failed(handle.result())).message).toContain('fee of 500 cents is wrong');
    const oldHistory = await handle.fetchHistory();

    deployed.feeBugFixed = true;
    deployed.chargeBugFixed = true;
    const next = await handle.reset({ to: 'lastWorkflowTask', reason: 'fixed the fee (#12)' });
    expect(next.runId).not.toBe(handle.runId);
    expect(await next.result()).toBe('charged 500');
    expect(await t.client.getHandle('bill-1').result()).toBe('charged 500');
    expect(calls).toEqual(['quote 5', 'charge 500']); // the quote ran once, before the reset

    const described = await next.describe();
    expect(described).toMatchObject({
      status: 'completed',
      runId: next.runId,
      resetFrom: { runId: handle.runId, eventId: 3, reason: 'fixed the fee (#12)' },
    });
    const history = await next.fetchHistory();
    expect(history.map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
      'ActivityTaskScheduled',
      'ActivityTaskCompleted',
      'ActivityTaskScheduled',
      'ActivityTaskCompleted',
      'WorkflowExecutionCompleted',
    ]);
    // The kept events are the old run's, with their times: a replay sees the same clock.
    expect(history.slice(1, 3).map((e) => e.ts)).toEqual(oldHistory.slice(1, 3).map((e) => e.ts));
    // The old run stays as it ended.
    expect((await t.client.getHandle('bill-1', handle.runId).fetchHistory()).map((e) => e.type)).toEqual(
      oldHistory.map((e) => e.type),
    );
    // describe() of a handle on the old run describes that run (issue 23, item 15), not the current one.
    const oldDescribed = await t.client.getHandle('bill-1', handle.runId).describe();
    expect(oldDescribed).toMatchObject({
      runId: handle.runId,
      workflowType: 'BillingWorkflow',
      status: 'failed',
      historyLength: oldHistory.length,
      failure: { message: expect.stringContaining('fee of 500 cents is wrong') },
      pendingActivities: [],
    });
    expect(oldDescribed.result).toBeUndefined();
    expect(oldDescribed.closeTime?.getTime()).toBe(oldHistory[oldHistory.length - 1].ts);
    expect((await handle.describe()).runId).toBe(handle.runId);
    // A run id the workflow never had is a typed error naming it.
    await expect(t.client.getHandle('bill-1', 'no-such-run').describe()).rejects.toThrow(
      "Workflow 'bill-1' has no run 'no-such-run'",
    );
    // The handle start() returned, and one on the old run, follow the reset to the new run's result.
    expect(await handle.result()).toBe('charged 500');
    expect(await t.client.getHandle('bill-1', handle.runId).result()).toBe('charged 500');
  });

  test('to an event before a failed activity: the activity runs again with the fixed code', async () => {
    deployed.feeBugFixed = true;
    t = await createTestApp([BillingActivities, BillingWorkflow]);
    const handle = await t.client.start(BillingWorkflow, { workflowId: 'bill-2', args: [7] });
    expect((await failed(handle.result())).message).toContain('card processor rejected the request');
    const history = await handle.fetchHistory();
    expect(history.map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
      'ActivityTaskScheduled',
      'ActivityTaskCompleted',
      'ActivityTaskScheduled',
      'ActivityTaskFailed',
      'WorkflowExecutionFailed',
    ]);

    deployed.chargeBugFixed = true;
    const next = await handle.reset({ toEventId: 3, reason: 'processor fixed' });
    expect(await next.result()).toBe('charged 700');
    expect(await handle.result()).toBe('charged 700'); // the handle from start() follows the reset
    expect(calls).toEqual(['quote 7', 'charge 700', 'charge 700']);
    expect((await t.client.list({ status: 'failed' })).workflows).toEqual([]);
    expect((await t.client.list({ status: 'completed' })).workflows.map((w) => [w.workflowId, w.runId])).toEqual([
      ['bill-2', next.runId],
    ]);
  });

  test('a running workflow: closed as reset and linked; the signals after the point are reapplied (or not)', async () => {
    t = await createTestApp([CollectorWorkflow]);
    const handle = await t.client.start(CollectorWorkflow, { workflowId: 'collect-1' });
    await handle.signal('add', 1);
    await handle.signal('add', 2);
    await until('both signals recorded', async () => (await handle.fetchHistory()).length === 3);

    const next = await handle.reset({ to: 'firstWorkflowTask', reason: 'replay the collection' });
    const old = await t.client.getHandle('collect-1', handle.runId).fetchHistory();
    expect(old.map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
      'SignalReceived',
      'SignalReceived',
      'WorkflowExecutionReset',
    ]);
    expect(old[3]).toMatchObject({ newRunId: next.runId, toEventId: 1, reason: 'replay the collection' });
    expect((await next.fetchHistory()).map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
      'SignalReceived',
      'SignalReceived',
    ]);
    await t.client.getHandle('collect-1').signal('finish');
    // The old run's handle follows the reset to the run that ends.
    expect(await handle.result()).toEqual([1, 2]);
    expect(await handle.describe()).toMatchObject({ runId: handle.runId, status: 'reset', historyLength: 4 });
    expect(await next.describe()).toMatchObject({ runId: next.runId, status: 'completed', result: [1, 2] });

    const again = await t.client.start(CollectorWorkflow, { workflowId: 'collect-2' });
    await again.signal('add', 3);
    const fresh = await again.reset({ to: 'firstWorkflowTask', reason: 'drop the signals', reapplySignals: false });
    await fresh.signal('finish');
    expect(await fresh.result()).toEqual([]);
  });

  test("the search attributes are those the kept history leaves, not the dropped part's", async () => {
    t = await createTestApp([StagedWorkflow]);
    const handle = await t.client.start(StagedWorkflow, { workflowId: 'staged', searchAttributes: { stage: 'new' } });
    await handle.signal('proceed');
    expect(await handle.result()).toBe('ok');
    const ids = async (query: string) => (await t!.client.list({ query })).workflows.map((w) => w.workflowId);
    expect(await ids("stage = 'done'")).toEqual(['staged']);

    deployed.tracksStage = false; // the new deployment no longer upserts the stage
    const next = await handle.reset({
      to: 'firstWorkflowTask',
      reason: 'stage tracking removed',
      reapplySignals: false,
    });
    await until(
      'the new run to wait',
      async () => (await next.describe()).historyLength === 1 && (await next.describe()).status === 'running',
    );
    expect(await ids("stage = 'done'")).toEqual([]);
    expect(await ids("stage = 'new'")).toEqual(['staged']);
    expect((await next.describe()).searchAttributes).toEqual({ stage: 'new' });
  });

  test('a run whose child still runs is not reset (the new run could not take the child over); once the child closed, it is', async () => {
    t = await createTestApp([ParentWorkflow, KidWorkflow]);
    const parent = await t.client.start(ParentWorkflow, { workflowId: 'reset-parent' });
    const kid = t.client.getHandle('reset-kid');
    await until('the child runs', async () => (await kid.describe().catch(() => undefined))?.status === 'running');
    await expect(parent.reset({ to: 'firstWorkflowTask', reason: 'x' })).rejects.toThrow(
      new InvalidResetPointError(
        'reset-parent',
        parent.runId!,
        "the child workflow 'reset-kid' it started is still running; a new run cannot take over a running child: wait for it to close (or terminate it), then reset",
      ),
    );
    expect((await parent.describe()).runId).toBe(parent.runId);
    await kid.signal('finish');
    expect(await parent.result()).toBe('kid done');
    const next = await parent.reset({ to: 'firstWorkflowTask', reason: 'run the child again' });
    await until(
      'the new child run',
      async () => (await kid.describe()).status === 'running' && (await kid.describe()).historyLength === 1,
    );
    await kid.signal('finish');
    expect(await next.result()).toBe('kid done');
  });

  test('a reset run whose every task fails is still closed at its workflowRunTimeout', async () => {
    t = await createTestApp([DriftingWorkflow, BillingActivities]);
    const handle = await t.client.start(DriftingWorkflow, { workflowId: 'drift', workflowRunTimeout: '3s' });
    await until('the activity result', async () =>
      (await handle.fetchHistory()).some((e) => e.type === 'ActivityTaskCompleted'),
    );
    deployed.replayBreaks = true;
    const next = await handle.reset({ to: 'lastWorkflowTask', reason: 'deployed a change' });
    await until('the new run to fail a task', async () => (await next.describe()).taskFailure !== undefined);
    const err = await failed(next.result());
    expect((err.cause as TimeoutFailure).timeoutType).toBe('WORKFLOW_RUN');
    expect((await next.describe()).status).toBe('timed_out');
  });

  test('an invalid reset point is a typed error naming the nearest valid one; nothing is written', async () => {
    deployed.feeBugFixed = true;
    t = await createTestApp([BillingActivities, BillingWorkflow]);
    const handle = await t.client.start(BillingWorkflow, { workflowId: 'bill-3', args: [1] });
    await failed(handle.result());
    const before = await handle.describe();
    const refused = (options: Parameters<typeof handle.reset>[0]) =>
      handle.reset(options).then(
        () => 'reset',
        (err: Error) => err,
      );
    expect(await refused({ toEventId: 4, reason: 'x' })).toEqual(
      new InvalidResetPointError(
        'bill-3',
        handle.runId!,
        'event 4 (ActivityTaskScheduled(charge) seq 2) is a command the code recorded, not a point a workflow task begins at; the nearest earlier one is event 3 (ActivityTaskCompleted seq 1)',
      ),
    );
    expect(((await refused({ toEventId: 6, reason: 'x' })) as Error).message).toContain(
      "event 6 (WorkflowExecutionFailed) is the run's close",
    );
    expect(((await refused({ toEventId: 40, reason: 'x' })) as Error).message).toBe(
      `Cannot reset workflow 'bill-3' (run ${handle.runId}): its history has events 1 to 6, not 40. Nothing was written`,
    );
    expect(((await refused({ toEventId: 3, to: 'lastWorkflowTask', reason: 'x' })) as Error).message).toContain(
      "give one of 'toEventId' and 'to'",
    );
    expect(((await refused({ toEventId: 3, reason: '' })) as Error).message).toContain('give a reason');
    const next = await handle.reset({ toEventId: 3, reason: 'ok' });
    expect(((await refused({ toEventId: 3, reason: 'again' })) as Error).message).toBe(
      `Cannot reset workflow 'bill-3' (run ${handle.runId}): it is not the workflow's current run (${next.runId}); only the current run can be reset. Nothing was written`,
    );
    expect(before.status).toBe('failed');
    await expect(next.result()).rejects.toThrow('card processor rejected the request');
  });
});
