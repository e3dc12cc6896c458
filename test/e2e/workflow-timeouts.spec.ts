import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  Activities,
  Activity,
  ChildWorkflowFailure,
  InvalidDurationError,
  InvalidOptionsError,
  Signal,
  TimeoutFailure,
  Workflow,
  WorkflowFailedError,
  WorkflowRun,
  activityContext,
  type Duration,
} from 'redurable';
import { condition, continueAsNew, executeChild, proxyActivities, sleep, startChild } from 'redurable/workflow';
import { TestWorkflowEnvironment } from 'redurable/testing';
import { createTestApp, testConnection, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

const seen: string[] = [];

@Injectable()
@Activities()
class TimeoutActivities {
  @Activity({ retry: { maximumAttempts: 1 } })
  async waitForAbort(): Promise<string> {
    const { signal } = activityContext();
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    seen.push(`aborted: ${(signal.reason as Error).message}`);
    return 'aborted';
  }
}

@Workflow({ taskQueue: 'wf-timeouts' })
class SleeperWorkflow {
  @WorkflowRun()
  async run(duration: Duration) {
    await sleep(duration);
    return 'woke';
  }
}

@Workflow({ taskQueue: 'wf-timeouts' })
class BusyWorkflow {
  private readonly acts = proxyActivities(TimeoutActivities);

  @WorkflowRun()
  async run() {
    return this.acts.waitForAbort();
  }
}

@Workflow({ taskQueue: 'wf-timeouts' })
class LoopWorkflow {
  @WorkflowRun()
  async run(round: number): Promise<number> {
    await sleep('150ms');
    return continueAsNew(round + 1);
  }
}

@Workflow({ taskQueue: 'wf-timeouts' })
class ApprovalWorkflow {
  private approved = false;

  @WorkflowRun()
  async run() {
    await condition(() => this.approved);
    return 'approved';
  }

  @Signal() approve() {
    this.approved = true;
  }
}

@Workflow({ taskQueue: 'wf-timeouts' })
class ParentOfSlowChildWorkflow {
  @WorkflowRun()
  async run(mode: 'catch' | 'abandon-parent') {
    if (mode === 'abandon-parent') {
      await startChild(SleeperWorkflow, {
        workflowId: 'orphan-child',
        args: ['1 hour'],
        parentClosePolicy: 'TERMINATE',
      });
      await sleep('1 hour');
      return 'never';
    }
    try {
      return await executeChild(SleeperWorkflow, {
        workflowId: 'slow-child',
        args: ['1 hour'],
        workflowRunTimeout: '300ms',
      });
    } catch (err) {
      const f = err as ChildWorkflowFailure;
      return { caught: f.name, status: f.status, cause: (f.cause as TimeoutFailure).timeoutType };
    }
  }
}

const providers = [
  TimeoutActivities,
  SleeperWorkflow,
  BusyWorkflow,
  LoopWorkflow,
  ApprovalWorkflow,
  ParentOfSlowChildWorkflow,
];

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function rejection(p: Promise<unknown>): Promise<WorkflowFailedError> {
  return p.then(
    () => {
      throw new Error('expected the workflow to fail');
    },
    (err: WorkflowFailedError) => err,
  );
}

describe('workflow timeouts', () => {
  test('a run past its workflowRunTimeout is closed as timed_out; result() rejects with a TimeoutFailure; its timer job is removed', async () => {
    t = await createTestApp(providers);
    const handle = await t!.client.start(SleeperWorkflow, {
      workflowId: 'run-timeout',
      args: ['1 hour'],
      workflowRunTimeout: '400ms',
    });
    const described = await until('the timer is pending', async () => {
      const d = await handle.describe();
      return d.pendingTimers.length === 1 && d;
    });
    expect(described.runDeadline!.getTime() - described.startTime.getTime()).toBeGreaterThanOrEqual(300);
    expect(described.executionDeadline).toBeUndefined();
    const err = await rejection(handle.result());
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(err.message).toBe(
      `Workflow 'run-timeout' (run ${handle.runId}) timed out: it ran past its workflowRunTimeout of 400ms`,
    );
    expect(err.cause).toBeInstanceOf(TimeoutFailure);
    expect((err.cause as TimeoutFailure).timeoutType).toBe('WORKFLOW_RUN');
    const after = await handle.describe();
    expect(after.status).toBe('timed_out');
    expect(after.failure).toMatchObject({ kind: 'timeout', timeoutType: 'WORKFLOW_RUN' });
    expect(after.closeTime!.getTime() - after.startTime.getTime()).toBeGreaterThanOrEqual(400);
    const history = await handle.fetchHistory();
    expect(history.map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
      'TimerStarted',
      'WorkflowExecutionTimedOut',
    ]);
    expect((await t!.client.list({ status: 'timed_out' })).workflows.map((w) => w.workflowId)).toEqual(['run-timeout']);
    // The hour-long timer does not fire into a closed run later: its job is gone.
    expect(after.pendingTimers).toEqual([]);
    const { Queue } = await import('bullmq');
    const queue = new Queue(described.jobQueues.workflows, { connection: t!.redis, prefix: t!.prefix });
    expect(await queue.getJob(described.pendingTimers[0].jobId)).toBeUndefined();
    await queue.close();
  });

  test('the running activity of a timed-out workflow gets its abort signal', async () => {
    seen.length = 0;
    t = await createTestApp(providers);
    const handle = await t!.client.start(BusyWorkflow, {
      workflowId: 'busy-timeout',
      workflowExecutionTimeout: '300ms',
    });
    const err = await rejection(handle.result());
    expect((err.cause as TimeoutFailure).timeoutType).toBe('WORKFLOW_EXECUTION');
    await until('the activity aborted', () => seen.length > 0);
    expect(seen[0]).toContain('aborted');
  });

  test('workflowExecutionTimeout spans continue-as-new; each run gets its own workflowRunTimeout', async () => {
    t = await createTestApp(providers);
    const handle = await t!.client.start(LoopWorkflow, {
      workflowId: 'loop-timeout',
      args: [1],
      workflowExecutionTimeout: '900ms',
      workflowRunTimeout: '5s',
    });
    const first = await handle.describe();
    const err = await rejection(t!.client.getHandle('loop-timeout').result());
    expect((err.cause as TimeoutFailure).timeoutType).toBe('WORKFLOW_EXECUTION');
    const last = await t!.client.getHandle('loop-timeout').describe();
    expect(last.status).toBe('timed_out');
    expect(last.runId).not.toBe(first.runId); // it continued as new at least once before the deadline
    expect(last.executionDeadline).toEqual(first.executionDeadline); // the same deadline across runs
    expect(last.runDeadline!.getTime()).toBeGreaterThan(first.runDeadline!.getTime()); // a run deadline of its own
    // The handle of the first run follows continue-as-new to the run that timed out.
    expect((await rejection(handle.result())).runId).toBe(last.runId);
  });

  test('a child past its timeout fails in its parent with status timed_out', async () => {
    t = await createTestApp(providers);
    const result = await t!.client.execute(ParentOfSlowChildWorkflow, {
      workflowId: 'parent-of-slow',
      args: ['catch'],
    });
    expect(result).toEqual({ caught: 'ChildWorkflowFailure', status: 'timed_out', cause: 'WORKFLOW_RUN' });
    expect((await t!.client.getHandle('slow-child').describe()).status).toBe('timed_out');
  });

  test("a timed-out parent's children get its parent-close policy", async () => {
    t = await createTestApp(providers);
    const handle = await t!.client.start(ParentOfSlowChildWorkflow, {
      workflowId: 'timed-parent',
      args: ['abandon-parent'],
      workflowRunTimeout: '500ms',
    });
    await rejection(handle.result());
    await until(
      'the child terminated',
      async () => (await t!.client.getHandle('orphan-child').describe()).status === 'terminated',
    );
  });

  test('a lost timeout job: the recovery sweep closes the run past its deadline', async () => {
    t = await createTestApp(providers);
    const handle = await t!.client.start(SleeperWorkflow, {
      workflowId: 'lost-timeout-job',
      args: ['1 hour'],
      workflowRunTimeout: '1500ms',
    });
    const { jobQueues } = await handle.describe();
    const { Queue } = await import('bullmq');
    const queue = new Queue(jobQueues.workflows, { connection: t!.redis, prefix: t!.prefix });
    // The job exists once start() returns; an operator deletes it in Bull Board before it is due.
    const job = await queue.getJob(`x|lost-timeout-job|${handle.runId}`);
    expect(job?.name).toBe('timeout');
    expect(await job!.isDelayed()).toBe(true);
    await job!.remove();
    await queue.close();
    const err = await rejection(handle.result());
    expect((err.cause as TimeoutFailure).timeoutType).toBe('WORKFLOW_RUN');
    expect((await handle.fetchHistory()).filter((e) => e.type === 'WorkflowExecutionTimedOut')).toHaveLength(1);
  });

  test('a workflow that finishes in time is not touched by its timeout', async () => {
    t = await createTestApp(providers);
    // The run waits for a signal, not a short sleep: a sleep could end (and the close remove the
    // timeout job) before the test looks at the job, on a loaded machine.
    const handle = await t!.client.start(ApprovalWorkflow, { workflowId: 'in-time', workflowRunTimeout: '2s' });
    const { jobQueues, runDeadline } = await handle.describe();
    const { Queue } = await import('bullmq');
    const queue = new Queue(jobQueues.workflows, { connection: t!.redis, prefix: t!.prefix });
    expect(await queue.getJob(`x|in-time|${handle.runId}`)).toBeDefined();
    await handle.signal('approve');
    expect(await handle.result()).toBe('approved');
    // Closing the run removes its timeout job (it does not wait in the queue until the deadline).
    await until('the timeout job removed', async () => (await queue.getJob(`x|in-time|${handle.runId}`)) === undefined);
    await queue.close();
    // Past the deadline the closed run is still completed: nothing timed it out.
    await new Promise((r) => setTimeout(r, Math.max(0, runDeadline!.getTime() + 300 - Date.now())));
    expect((await handle.describe()).status).toBe('completed');
    expect((await handle.fetchHistory()).at(-1)!.type).toBe('WorkflowExecutionCompleted');
  });

  test('invalid timeouts are refused before anything is written', async () => {
    t = await createTestApp(providers);
    const bad = (options: object) =>
      t!.client.start(SleeperWorkflow, { workflowId: 'bad-timeout', args: ['1s'], ...options });
    await expect(bad({ workflowRunTimeout: 'soon' as Duration })).rejects.toThrow(InvalidDurationError);
    await expect(bad({ workflowExecutionTimeout: 0 })).rejects.toThrow(
      new InvalidOptionsError(
        "Invalid workflowExecutionTimeout 0 for workflow 'SleeperWorkflow' (bad-timeout): use a positive duration such as '1h', or leave it out for no limit",
      ),
    );
    expect(await t!.client.count({})).toBe(0);
  });
});

describe('workflow timeouts with TestWorkflowEnvironment', () => {
  test('advanceTime past a one-day run timeout closes a workflow waiting for a signal', async () => {
    const env = await TestWorkflowEnvironment.create({ connection: testConnection(), providers });
    try {
      const handle = await env.client.start(ApprovalWorkflow, {
        workflowId: 'approval-timeout',
        workflowRunTimeout: '1 day',
      });
      await env.advanceTime('2 hours');
      expect((await handle.describe()).status).toBe('running');
      await env.advanceTime('1 day');
      const err = await rejection(handle.result());
      expect((err.cause as TimeoutFailure).timeoutType).toBe('WORKFLOW_RUN');
      await expect(handle.signal('approve')).rejects.toThrow(
        "Cannot signal workflow 'approval-timeout': it is timed_out, not running",
      );
    } finally {
      await env.close();
    }
  });

  test("a schedule's action gives each workflow it starts its timeouts", async () => {
    const env = await TestWorkflowEnvironment.create({ connection: testConnection(), providers });
    try {
      const created = await env.client.schedule.create({
        scheduleId: 'approvals',
        spec: { every: '1h' },
        action: { workflow: ApprovalWorkflow, workflowRunTimeout: '90m' },
        policies: { overlap: 'ALLOW_ALL' },
      });
      expect(created.action.workflowRunTimeout).toBe(90 * 60_000);
      await expect(
        env.client.schedule.create({
          scheduleId: 'bad',
          spec: { every: '1h' },
          action: { workflow: ApprovalWorkflow, workflowRunTimeout: 'soon' as Duration },
        }),
      ).rejects.toThrow("Invalid schedule 'bad': action: Invalid duration 'soon'");
      await env.advanceTime('1 hour');
      const [first] = (await env.client.schedule.describe('approvals')).running;
      const firstHandle = env.client.getHandle(first.workflowId);
      const { runDeadline, startTime } = await firstHandle.describe();
      expect(runDeadline!.getTime() - startTime.getTime()).toBeGreaterThanOrEqual(90 * 60_000 - 1000);
      const firedAt = (await env.client.schedule.describe('approvals')).lastFireTime.getTime();
      await env.advanceTime(firedAt + 60 * 60_000 - env.now());
      expect((await firstHandle.describe()).status).toBe('running'); // 60 of its 90 minutes
      await env.advanceTime('31m');
      const err = await rejection(firstHandle.result());
      expect((err.cause as TimeoutFailure).timeoutType).toBe('WORKFLOW_RUN');
    } finally {
      await env.close();
    }
  });
});
