import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  Activities,
  Activity,
  ApplicationFailure,
  ChildWorkflowFailure,
  Workflow,
  WorkflowRun,
  Signal,
} from 'redurable';
import {
  continueAsNew,
  executeChild,
  proxyActivities,
  sleep,
  startChild,
  workflowInfo,
  condition,
} from 'redurable/workflow';
import { createTestApp, type TestApp, keyNames } from '../support/test-app.js';
import { until } from '../support/until.js';

@Injectable()
@Activities()
class ChildActivities {
  @Activity() async double(n: number): Promise<number> {
    return n * 2;
  }
}

@Workflow({ taskQueue: 'children' })
class DoublerWorkflow {
  private readonly acts = proxyActivities(ChildActivities);

  @WorkflowRun()
  async run(n: number) {
    if (n < 0) throw ApplicationFailure.nonRetryable(`cannot double ${n}`, 'Negative');
    return { doubled: await this.acts.double(n), parent: workflowInfo().parent?.workflowId };
  }
}

@Workflow({ taskQueue: 'children' })
class SleepyChildWorkflow {
  @WorkflowRun()
  async run() {
    await sleep('1 hour');
  }
}

@Workflow({ taskQueue: 'children' })
class ParentWorkflow {
  @WorkflowRun()
  async run(mode: 'ok' | 'child-fails' | 'leave-child') {
    if (mode === 'leave-child') {
      await startChild(SleepyChildWorkflow, { workflowId: 'sleepy-child', parentClosePolicy: 'TERMINATE' });
      return 'left';
    }
    const id = workflowInfo().workflowId;
    try {
      const a = await executeChild(DoublerWorkflow, { workflowId: `${id}-a`, args: [mode === 'ok' ? 5 : -1] });
      const b = await executeChild(DoublerWorkflow, { workflowId: `${id}-b`, args: [a.doubled] });
      return { a, b };
    } catch (err) {
      const f = err as ChildWorkflowFailure;
      return { caught: f.name, child: f.workflowId, status: f.status, cause: (f.cause as Error).message };
    }
  }
}

@Workflow({ taskQueue: 'children' })
class CounterWorkflow {
  @WorkflowRun()
  async run(count: number, until: number): Promise<number> {
    await sleep(5);
    if (count < until) continueAsNew(count + 1, until);
    return count;
  }
}

/** An entity that handles one batch of signals per run, then continues as new with its total. */
@Workflow({ taskQueue: 'children' })
class TallyWorkflow {
  private pending: number[] = [];

  @WorkflowRun()
  async run(total: number, target: number): Promise<number> {
    await condition(() => this.pending.length > 0 || total >= target);
    const sum = total + this.pending.reduce((a, b) => a + b, 0);
    if (sum >= target) return sum;
    continueAsNew(sum, target);
  }

  @Signal() add(n: number) {
    this.pending.push(n);
  }
}

@Workflow({ taskQueue: 'children' })
class WaitsForChildWorkflow {
  @WorkflowRun()
  async run() {
    try {
      await executeChild(SleepyChildWorkflow, { workflowId: 'taken-over-child' });
      return 'child completed';
    } catch (err) {
      const f = err as ChildWorkflowFailure;
      return `${f.name}: ${f.status}`;
    }
  }
}

let t: TestApp;
afterEach(async () => t?.close());

describe('child workflows', () => {
  test('a child runs with its own id and history and its result reaches the parent', async () => {
    t = await createTestApp([ChildActivities, DoublerWorkflow, ParentWorkflow, SleepyChildWorkflow]);
    const result = await t.client.execute(ParentWorkflow, { workflowId: 'parent-1', args: ['ok'] });
    expect(result).toEqual({ a: { doubled: 10, parent: 'parent-1' }, b: { doubled: 20, parent: 'parent-1' } });
    const childHistory = await t.client.getHandle('parent-1-a').fetchHistory();
    expect(childHistory.map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
      'ActivityTaskScheduled',
      'ActivityTaskCompleted',
      'WorkflowExecutionCompleted',
    ]);
    const parentTypes = (await t.client.getHandle('parent-1').fetchHistory()).map((e) => e.type);
    expect(parentTypes.filter((x) => x.startsWith('ChildWorkflow'))).toEqual([
      'ChildWorkflowScheduled',
      'ChildWorkflowCompleted',
      'ChildWorkflowScheduled',
      'ChildWorkflowCompleted',
    ]);
  });

  test("a child's failure reaches the parent as ChildWorkflowFailure, which it can catch", async () => {
    t = await createTestApp([ChildActivities, DoublerWorkflow, ParentWorkflow, SleepyChildWorkflow]);
    const result = await t.client.execute(ParentWorkflow, { workflowId: 'parent-2', args: ['child-fails'] });
    expect(result).toEqual({
      caught: 'ChildWorkflowFailure',
      child: 'parent-2-a',
      status: 'failed',
      cause: 'cannot double -1',
    });
  });

  test('parentClosePolicy TERMINATE terminates a running child when the parent closes', async () => {
    t = await createTestApp([ChildActivities, DoublerWorkflow, ParentWorkflow, SleepyChildWorkflow]);
    expect(await t.client.execute(ParentWorkflow, { workflowId: 'parent-3', args: ['leave-child'] })).toBe('left');
    const child = t.client.getHandle('sleepy-child');
    const description = await until('the child to be terminated', async () => {
      const d = await child.describe().catch(() => undefined);
      return d?.status === 'terminated' && d;
    });
    expect(description.failure?.message).toContain("parent workflow 'parent-3' closed (parentClosePolicy TERMINATE)");
  });
});

describe('continue-as-new', () => {
  test('keeps the workflow id, starts a fresh history per run, and result() follows to the last run', async () => {
    t = await createTestApp([CounterWorkflow]);
    const handle = await t.client.start(CounterWorkflow, { workflowId: 'counter', args: [1, 4] });
    expect(await handle.result()).toBe(4); // the handle start() returned follows the continued runs
    expect(await t.client.getHandle<number>('counter').result()).toBe(4);
    const last = await t.client.getHandle('counter').describe();
    expect(last.runId).not.toBe(handle.runId);
    const lastHistory = await t.client.getHandle('counter').fetchHistory();
    expect(lastHistory.map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
      'TimerStarted',
      'TimerFired',
      'WorkflowExecutionCompleted',
    ]);
    const firstHistory = await t.client.getHandle('counter', handle.runId).fetchHistory();
    const end = firstHistory[firstHistory.length - 1];
    expect(end).toMatchObject({ type: 'WorkflowExecutionContinuedAsNew', input: ['2', '4'] });
    expect(firstHistory).toHaveLength(4);
    expect(await t.client.getHandle('counter', handle.runId).describe()).toMatchObject({
      runId: handle.runId,
      status: 'continued_as_new',
      historyLength: 4,
      pendingTimers: [],
    });
  });
});

describe('continue-as-new and child edge cases', () => {
  test('signals that arrive while a run continues as new are carried over to the next run, none lost', async () => {
    t = await createTestApp([TallyWorkflow]);
    const handle = await t.client.start(TallyWorkflow, { workflowId: 'tally', args: [0, 60] });
    for (let i = 0; i < 60; i++) await t.client.getHandle('tally').signal('add', 1);
    expect(await handle.result()).toBe(60);
  });

  test('starting a running child id with TERMINATE_EXISTING still reports the terminated child to its parent', async () => {
    t = await createTestApp([WaitsForChildWorkflow, SleepyChildWorkflow]);
    const parent = await t.client.start(WaitsForChildWorkflow, { workflowId: 'waits-for-child' });
    await until(
      'the child to run',
      async () =>
        (
          await t.client
            .getHandle('taken-over-child')
            .describe()
            .catch(() => undefined)
        )?.status === 'running',
    );
    const fenceBefore = Number(await t.redis.hget(keyNames(t.prefix).meta('taken-over-child'), 'fence'));
    await t.client.start(SleepyChildWorkflow, {
      workflowId: 'taken-over-child',
      workflowIdConflictPolicy: 'TERMINATE_EXISTING',
    });
    expect(await parent.result()).toBe('ChildWorkflowFailure: terminated');
    // Fencing tokens keep growing across runs of one id, so an old run's stalled task can never write.
    expect(Number(await t.redis.hget(keyNames(t.prefix).meta('taken-over-child'), 'fence'))).toBeGreaterThanOrEqual(
      fenceBefore,
    );
  });
});
