import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  Activities,
  Activity,
  Query,
  QueryMutationError,
  Signal,
  UnknownQueryError,
  UnknownSignalError,
  Workflow,
  WorkflowNotRunningError,
  WorkflowRun,
} from 'redurable';
import { condition, proxyActivities } from 'redurable/workflow';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

@Injectable()
@Activities()
class NoteActivities {
  @Activity() async note(text: string): Promise<string> {
    return `noted: ${text}`;
  }
}

@Workflow({ taskQueue: 'signals' })
class ApprovalWorkflow {
  private readonly acts = proxyActivities(NoteActivities);
  private approvals: string[] = [];
  private stage = 'waiting';

  @WorkflowRun()
  async run(needed: number, timeoutMs: number) {
    const met = await condition(() => this.approvals.length >= needed, timeoutMs);
    this.stage = met ? 'approved' : 'timed out';
    return { met, approvals: this.approvals, note: await this.acts.note(this.stage) };
  }

  @Signal() approve(by: string) {
    this.approvals.push(by);
  }

  @Query() status() {
    return { stage: this.stage, approvals: this.approvals.length };
  }

  @Query('sneaky') tryToSchedule() {
    return this.acts.note('from a query');
  }
}

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('signals, condition and queries', () => {
  test('signals sent while no worker runs are recorded and processed when one starts; queries answer with no worker', async () => {
    const client = await createTestApp([NoteActivities, ApprovalWorkflow], { worker: false });
    const { prefix } = client;
    t = client;
    const handle = await t.client.start(ApprovalWorkflow, { workflowId: 'approve-1', args: [2, 60_000] });
    await handle.signal('approve', 'ada');
    await handle.signal('approve', 'grace');
    const history = await handle.fetchHistory();
    expect(history.map((e) => e.type)).toEqual(['WorkflowExecutionStarted', 'SignalReceived', 'SignalReceived']);
    // No worker has run the workflow, yet the query replays the history here and answers:
    // both recorded signals are delivered, so the condition is met in the replayed state.
    expect(await handle.query('status')).toEqual({ stage: 'approved', approvals: 2 });
    expect(await handle.describe()).toMatchObject({ status: 'running', historyLength: 3 });
    await t.close();

    t = await createTestApp([NoteActivities, ApprovalWorkflow], { prefix });
    expect(await t.client.getHandle('approve-1').result()).toEqual({
      met: true,
      approvals: ['ada', 'grace'],
      note: 'noted: approved',
    });
    expect(await t.client.getHandle('approve-1').query('status')).toEqual({ stage: 'approved', approvals: 2 });
  });

  test('a signal the workflow has no handler for: refused when the sender has the class, recorded and listed by describe() when it has not', async () => {
    t = await createTestApp([NoteActivities, ApprovalWorkflow]);
    const handle = await t.client.start(ApprovalWorkflow, { workflowId: 'approve-unknown', args: [1, 60_000] });
    const err = await t.client
      .getHandle('approve-unknown')
      .signal('aprove', 'ada')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownSignalError);
    expect((err as Error).message).toBe(
      "Workflow 'approve-unknown' (ApprovalWorkflow) has no signal 'aprove': known signals are approve. Nothing was recorded; add a @Signal() method of that name to the workflow class, or fix the name",
    );
    expect((await handle.fetchHistory()).some((e) => e.type === 'SignalReceived')).toBe(false);
    await expect(
      t.client.signalWithStart(ApprovalWorkflow, {
        workflowId: 'approve-unknown-sws',
        args: [1, 60_000],
        signal: 'aprove',
      }),
    ).rejects.toBeInstanceOf(UnknownSignalError);
    expect(await t.client.count({ type: 'ApprovalWorkflow' })).toBe(1); // that start wrote nothing

    // A process without the class (another service, a script) cannot tell: the signal is recorded.
    const other = await createTestApp([], { prefix: t.prefix, worker: false });
    await other.client.getHandle('approve-unknown').signal('aprove', 'ada');
    await other.client.getHandle('approve-unknown').signal('aprove', 'grace');
    expect((await other.client.getHandle('approve-unknown').describe()).unhandledSignals).toBeUndefined(); // it has no class to judge by
    await other.close();
    expect((await handle.describe()).unhandledSignals).toEqual([{ name: 'aprove', count: 2 }]);
    await handle.signal('approve', 'ada');
    expect(await handle.result()).toEqual({ met: true, approvals: ['ada'], note: 'noted: approved' });
    expect((await handle.describe()).unhandledSignals).toEqual([{ name: 'aprove', count: 2 }]);
  });

  test('condition() with a timeout resolves false when nobody signals in time', async () => {
    t = await createTestApp([NoteActivities, ApprovalWorkflow]);
    const handle = await t.client.start(ApprovalWorkflow, { workflowId: 'approve-timeout', args: [1, 200] });
    expect(await handle.result()).toEqual({ met: false, approvals: [], note: 'noted: timed out' });
    const err = await handle.signal('approve', 'late').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowNotRunningError);
    expect((err as Error).message).toBe("Cannot signal workflow 'approve-timeout': it is completed, not running");
  });

  test('a query handler that schedules work is rejected; an unknown query names the known ones', async () => {
    t = await createTestApp([NoteActivities, ApprovalWorkflow]);
    const handle = await t.client.start(ApprovalWorkflow, { workflowId: 'approve-query', args: [1, 60_000] });
    await until(
      'the workflow to start waiting',
      async () => (await handle.describe()).historyLength >= 1 && (await handle.query('status')).stage === 'waiting',
    );
    // A typed handle names the handler's method; the query is registered as 'sneaky'.
    const sneaky = await handle.query('tryToSchedule').catch((e: unknown) => e);
    expect(sneaky).toBeInstanceOf(QueryMutationError);
    expect((sneaky as Error).message).toContain('queries are read-only');
    const unknown = await t.client
      .getHandle(handle.workflowId)
      .query('nope')
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(UnknownQueryError);
    expect((unknown as Error).message).toContain("has no query 'nope': known queries are status, sneaky");
    expect((await handle.fetchHistory()).filter((e) => e.type === 'ActivityTaskScheduled')).toHaveLength(0);
  });

  test('signalWithStart starts the workflow with the signal, or signals the running one', async () => {
    t = await createTestApp([NoteActivities, ApprovalWorkflow]);
    const first = await t.client.signalWithStart(ApprovalWorkflow, {
      workflowId: 'sws-1',
      args: [2, 60_000],
      signal: 'approve',
      signalArgs: ['ada'],
    });
    const second = await t.client.signalWithStart(ApprovalWorkflow, {
      workflowId: 'sws-1',
      args: [2, 60_000],
      signal: 'approve',
      signalArgs: ['grace'],
    });
    expect(second.runId).toBe(first.runId);
    expect(await first.result()).toEqual({ met: true, approvals: ['ada', 'grace'], note: 'noted: approved' });
    const history = await first.fetchHistory();
    expect(history.filter((e) => e.type === 'WorkflowExecutionStarted')).toHaveLength(1);
    expect(history[1].type).toBe('SignalReceived');
  });
});
