/**
 * The WorkflowTaskRunner (engine/task-runner.ts) against the in-memory store and jobs: what
 * each kind of task writes, in which calls, and what it leaves for the jobs and the sweep.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import 'reflect-metadata';
import { Signal, Workflow, WorkflowRun } from '../../libs/redurable/src/core/definitions/workflow.decorator.js';
import { describeEvent, type NewEvent } from '../../libs/redurable/src/core/events.js';
import type { OutcomeEvent } from '../../libs/redurable/src/engine/commands.js';
import { installDeterminism } from '../../libs/redurable/src/workflow/determinism.js';
import { executeActivity, executeLocalActivity, sleep } from '../../libs/redurable/src/workflow/workflow-api.js';
import { condition, continueAsNew, startChild } from '../../libs/redurable/src/workflow/workflow-control-api.js';
import { LEASE_TTL, taskRunner } from './support/engine.js';
import { p } from './support/histories.js';

let release: () => void;
beforeAll(() => {
  release = installDeterminism();
});
afterAll(() => release());

@Workflow({ taskQueue: 'q' })
class Transfer {
  private readonly notes: string[] = [];

  @WorkflowRun()
  async run(amount: number) {
    const id = await executeActivity<string>('withdraw', [amount]);
    await sleep('1s');
    await executeActivity('deposit', [id]);
    return { id, notes: this.notes };
  }

  @Signal()
  note(text: string) {
    this.notes.push(text);
  }
}

@Workflow({ taskQueue: 'q' })
class Child {
  @WorkflowRun()
  async run(n: number) {
    return n * 7;
  }
}

@Workflow({ taskQueue: 'q' })
class Parent {
  @WorkflowRun()
  async run() {
    await startChild(Child, { workflowId: 'child-1', args: [1], parentClosePolicy: 'ABANDON' });
    return 'spawned';
  }
}

@Workflow({ taskQueue: 'q' })
class Counter {
  private readonly notes: string[] = [];

  @WorkflowRun()
  async run(n: number) {
    if (n < 1) continueAsNew(n + 1);
    await condition(() => this.notes.length > 0);
    return { n, notes: this.notes };
  }

  @Signal()
  note(text: string) {
    this.notes.push(text);
  }
}

@Workflow({ taskQueue: 'q' })
class Quoting {
  @WorkflowRun()
  async run(amount: number) {
    const rate = await executeLocalActivity<number>('rate', ['EUR']);
    const fee = await executeLocalActivity<number>('fee', [amount]);
    await executeActivity('charge', [amount * rate + fee]);
    return 'charged';
  }
}

const workflows = [Transfer, Child, Parent, Counter, Quoting];
const done = (seq: number, result: unknown, ts: number): OutcomeEvent => ({
  type: 'ActivityTaskCompleted',
  seq,
  result: p(result),
  attempt: 1,
  ts,
});
const noteSignal = (text: string): NewEvent => ({ type: 'SignalReceived', signalName: 'note', input: [p(text)] });

/** A Transfer `w1` (run `r1`) whose first task ran. */
async function afterFirstTask() {
  const h = taskRunner(workflows);
  h.start('Transfer', [100], 'w1', 'r1');
  await h.runner.run('w1', 'r1', 'q');
  h.store.calls.length = 0;
  return h;
}

describe('the first task', () => {
  test('replays the start, commits the first commands with the dispatch mark, releases the lease and adds the jobs', async () => {
    const h = taskRunner(workflows);
    h.start('Transfer', [100], 'w1', 'r1');
    await h.runner.run('w1', 'r1', 'q');
    expect(h.store.calls).toEqual(['acquire', 'commit']);
    expect(h.store.commits[0]).toMatchObject({ fence: 1, release: true, dispatchMark: 'set', clean: false });
    expect(h.store.history('w1').map(describeEvent)).toEqual([
      'WorkflowExecutionStarted',
      'ActivityTaskScheduled(withdraw) seq 1',
    ]);
    expect(h.store.metaOf('w1')).toMatchObject({
      status: 'running',
      fence: 1,
      lease: undefined,
      dirty: false,
      dispatchAt: h.clock.now(),
      historyLength: 2,
    });
    expect(h.jobs.list()).toMatchObject([
      { kind: 'activity', queue: 'activities:q', id: 'a|w1|r1|1', state: 'pending' },
    ]);
    expect(h.cache.size).toBe(1);
    expect(h.metrics.lookups).toEqual([false]);
  });

  test('events that arrive while it runs come back with its commit and are handled under the same lease', async () => {
    const h = taskRunner(workflows);
    h.start('Transfer', [100], 'w1', 'r1');
    h.store.before('commit', () => h.store.appendExternal('w1', 'r1', noteSignal('early'), { requestId: 's1' }));
    await h.runner.run('w1', 'r1', 'q');
    expect(h.store.calls).toEqual(['acquire', 'appendExternal', 'commit', 'commit']);
    expect(h.store.commits.map((c) => [c.fence, c.events.length])).toEqual([
      [1, 1],
      [1, 0],
    ]);
    expect(h.store.metaOf('w1')).toMatchObject({ fence: 1, lease: undefined, dirty: false });
    await h.runner.complete('w1', 'r1', 'q', done(1, 'tx-1', h.clock.now()));
    await h.runner.complete('w1', 'r1', 'q', { type: 'TimerFired', seq: 2, ts: h.clock.now() });
    await h.runner.complete('w1', 'r1', 'q', done(3, null, h.clock.now()));
    expect(h.store.calls.slice(4)).toEqual(['completeAndCommit', 'completeAndCommit', 'completeAndCommit']);
    expect(h.store.metaOf('w1')?.closeValue).toBe(p({ id: 'tx-1', notes: ['early'] }));
  });

  test('a task for a closed run, or for a lease another task holds, does nothing', async () => {
    const h = await afterFirstTask();
    await h.store.acquire('w1', 'r1', LEASE_TTL); // another worker's task
    await h.runner.run('w1', 'r1', 'q');
    await h.runner.run('w1', 'other-run', 'q');
    expect(h.store.calls).toEqual(['acquire', 'acquire', 'acquire']);
    expect(h.store.history('w1')).toHaveLength(2);
  });
});

describe('an outcome for a cached execution', () => {
  test('is one completeAndCommit: the outcome and the commands it produced, under a new fence', async () => {
    const h = await afterFirstTask();
    h.clock.advance(500);
    await h.runner.complete('w1', 'r1', 'q', done(1, 'tx-1', h.clock.now()));
    await h.runner.settled();
    expect(h.store.calls).toEqual(['completeAndCommit']);
    expect(h.store.history('w1').map(describeEvent).slice(2)).toEqual([
      'ActivityTaskCompleted seq 1',
      'TimerStarted(1000ms) seq 2',
    ]);
    expect(h.store.metaOf('w1')).toMatchObject({ fence: 2, lease: undefined, dirty: false });
    expect(h.jobs.get('t|w1|r1|2')).toMatchObject({ kind: 'timer', dueAt: h.clock.now() + 1000 });

    // Every step after it is the same, up to the close.
    h.clock.advance(1000);
    await h.runner.complete('w1', 'r1', 'q', { type: 'TimerFired', seq: 2, ts: h.clock.now() });
    await h.runner.complete('w1', 'r1', 'q', done(3, null, h.clock.now()));
    await h.runner.settled();
    expect(h.store.calls).toEqual(['completeAndCommit', 'completeAndCommit', 'completeAndCommit']);
    expect(h.store.metaOf('w1')).toMatchObject({
      status: 'completed',
      closeValue: p({ id: 'tx-1', notes: [] }),
      fence: 4,
    });
    expect(h.store.history('w1').at(-1)?.type).toBe('WorkflowExecutionCompleted');
    expect(h.store.dueAt('w1')).toBeUndefined();
    expect(h.cache.size).toBe(0);
    expect(h.metrics.closed).toEqual(['Transfer:completed']);
    expect(h.runs.afterCloseCalls).toEqual([]); // no parent, no children
  });

  test('falls back to a replay when another event arrived since its last task', async () => {
    const h = await afterFirstTask();
    const cached = h.cache.get('w1', 'r1');
    await h.store.appendExternal('w1', 'r1', noteSignal('hello'), { requestId: 's1' });
    await h.runner.complete('w1', 'r1', 'q', done(1, 'tx-1', h.clock.now()));
    // The outcome is recorded alone and comes back with the lease: the task replays the history.
    expect(h.store.calls).toEqual(['appendExternal', 'completeAndCommit', 'commit']);
    expect(h.store.history('w1').map(describeEvent)).toEqual([
      'WorkflowExecutionStarted',
      'ActivityTaskScheduled(withdraw) seq 1',
      'SignalReceived(note)',
      'ActivityTaskCompleted seq 1',
      'TimerStarted(1000ms) seq 2',
    ]);
    expect(h.cache.get('w1', 'r1')).not.toBe(cached);
    expect(h.store.metaOf('w1')).toMatchObject({ fence: 2, lease: undefined });
    await h.runner.complete('w1', 'r1', 'q', { type: 'TimerFired', seq: 2, ts: h.clock.now() });
    await h.runner.complete('w1', 'r1', 'q', done(3, null, h.clock.now()));
    expect(h.store.metaOf('w1')?.closeValue).toBe(p({ id: 'tx-1', notes: ['hello'] }));
  });

  test('only records the outcome when another worker holds the lease', async () => {
    const h = await afterFirstTask();
    await h.store.acquire('w1', 'r1', LEASE_TTL); // another worker's task, fence 2
    await h.runner.complete('w1', 'r1', 'q', done(1, 'tx-1', h.clock.now()));
    await h.runner.settled();
    expect(h.store.calls).toEqual(['acquire', 'completeAndCommit']);
    expect(h.store.history('w1').map(describeEvent).slice(2)).toEqual(['ActivityTaskCompleted seq 1']);
    expect(h.store.metaOf('w1')).toMatchObject({ fence: 2, lease: '2', dirty: true });
    expect(h.cache.size).toBe(0);
    expect(h.jobs.ids()).toEqual(['a|w1|r1|1']);
  });

  test('a second copy of an outcome (a retried job) records nothing', async () => {
    const h = await afterFirstTask();
    await h.runner.complete('w1', 'r1', 'q', done(1, 'tx-1', h.clock.now()));
    const length = h.store.history('w1').length;
    await h.runner.complete('w1', 'r1', 'q', done(1, 'tx-2', h.clock.now()));
    await h.runner.settled();
    expect(h.store.history('w1')).toHaveLength(length);
    expect(h.store.metaOf('w1')).toMatchObject({ lease: undefined, dirty: false });
    expect(h.jobs.ids('task')).toEqual([]);
  });
});

describe('a lost lease', () => {
  test('writes nothing: the commit is refused, the task gives up without recording a failure', async () => {
    const h = taskRunner(workflows);
    h.start('Transfer', [100], 'w1', 'r1');
    // The task stalls past its lease; another worker takes the workflow over (fence 2).
    h.store.before('commit', async () => {
      h.clock.advance(LEASE_TTL + 1);
      await h.store.acquire('w1', 'r1', LEASE_TTL);
    });
    await h.runner.run('w1', 'r1', 'q');
    expect(h.store.calls).toEqual(['acquire', 'acquire', 'commit']);
    expect(h.store.history('w1').map(describeEvent)).toEqual(['WorkflowExecutionStarted']);
    expect(h.store.metaOf('w1')).toMatchObject({ fence: 2, lease: '2' });
    expect(h.store.metaOf('w1')?.taskFailure).toBeUndefined();
    expect(h.jobs.list()).toEqual([]);
    expect(h.cache.size).toBe(0);
    expect(h.logger.at('warn')).toEqual([
      "Workflow 'w1' (run r1): lease 1 was lost; another worker owns the workflow task",
    ]);
  });
});

describe('a failing workflow task', () => {
  test('records the failure, releases the lease and enqueues a retry task with doubling backoff', async () => {
    const h = taskRunner(workflows);
    h.start('Transfer', [100], 'w1', 'r1');
    // History recorded by an older version of the code.
    h.store.appendRecorded('w1', [
      {
        type: 'ActivityTaskScheduled',
        seq: 1,
        activityType: 'legacyWithdraw',
        input: [p(100)],
        options: { taskQueue: 'q' },
      },
    ]);
    await h.runner.run('w1', 'r1', 'q');
    const failure =
      "NonDeterminismError: Non-deterministic workflow 'w1' (run r1) at history event #2: history recorded ActivityTaskScheduled(legacyWithdraw) seq 1, " +
      'but the code produced ActivityTaskScheduled(withdraw) seq 1. Check that your workflow is deterministic; to change a running workflow safely, deploy code that replays its existing history.\n' +
      '    event  history recorded                              code produced\n' +
      '  > #2     ActivityTaskScheduled(legacyWithdraw) seq 1   produced ActivityTaskScheduled(withdraw) seq 1';
    expect(h.store.calls).toEqual(['acquire', 'failTask']);
    expect(h.store.metaOf('w1')).toMatchObject({
      lease: undefined,
      dirty: true,
      taskFailure: expect.stringMatching(/^NonDeterminismError.*\n.*\n.*\n {2}the code's call: /),
      taskAttempt: 1,
      retryAt: h.clock.now() + 1000,
    });
    expect(h.store.history('w1')).toHaveLength(2);
    expect(h.jobs.list('task')).toMatchObject([{ id: 'w|w1|r1|retry-1', delay: 1000 }]);
    expect(h.logger.at('error')).toEqual([
      expect.stringContaining(
        `Workflow task non-determinism error for workflow w1 (run r1), attempt 1; retrying in 1000ms: ${failure}\n  the code's call: `,
      ),
    ]);
    h.jobs.takeTasks();
    h.clock.advance(1000);
    await h.runner.run('w1', 'r1', 'q');
    expect(h.store.metaOf('w1')).toMatchObject({ taskAttempt: 2, retryAt: h.clock.now() + 2000 });
    expect(h.jobs.list('task')).toMatchObject([{ id: 'w|w1|r1|retry-2', delay: 2000 }]);
  });
});

describe('a corrupt history', () => {
  test('fails the task under the lease it took (recorded and retried), never leaving a silent lease', async () => {
    const h = taskRunner(workflows);
    h.start('Transfer', [100], 'w1', 'r1');
    const entry = h.store.appendRaw('w1', '{oops');
    await h.runner.run('w1', 'r1', 'q');
    expect(h.store.calls).toEqual(['acquire', 'failTask']);
    const meta = h.store.metaOf('w1')!;
    expect(meta).toMatchObject({ fence: 1, lease: undefined, dirty: true, taskAttempt: 1 });
    expect(meta.taskFailure).toMatch(
      new RegExp(
        `^CorruptHistoryError: History of workflow 'w1' \\(run r1\\) is corrupt at stream entry ${entry}: its event is not valid JSON`,
      ),
    );
    expect(h.jobs.ids('task')).toEqual(['w|w1|r1|retry-1']);
    expect(h.logger.at('error')[0]).toMatch(
      /^Workflow task failed on a corrupt history for workflow w1 \(run r1\), attempt 1; retrying in 1000ms: /,
    );
  });
});

describe('closing a run', () => {
  test("a parent's close commits its last command with the close, starts the child, then applies the parent-close policy", async () => {
    const h = taskRunner(workflows);
    h.start('Parent', [], 'p1', 'r1');
    await h.runner.run('p1', 'r1', 'q');
    // Flagged before the commit, so a crash before the child starts leaves the parent in the closed-parents index.
    expect(h.store.calls).toEqual(['acquire', 'markHasChildren', 'commit']);
    expect(h.store.history('p1').map(describeEvent)).toEqual([
      'WorkflowExecutionStarted',
      'ChildWorkflowScheduled(Child child-1) seq 1',
      'WorkflowExecutionCompleted',
    ]);
    expect(h.store.closedParentsData.get('p1')).toBe('r1');
    expect(h.children.started).toMatchObject([
      {
        parent: { workflowId: 'p1', runId: 'r1', taskQueue: 'q' },
        cmd: { workflowId: 'child-1', workflowType: 'Child', input: [p(1)], parentClosePolicy: 'ABANDON' },
      },
    ]);
    expect(h.runs.afterCloseCalls).toEqual([
      { workflowId: 'p1', runId: 'r1', related: { parent: false, children: true } },
    ]);
  });

  test('a run with a workflow timeout gets its timeout job from its first task; its close removes it', async () => {
    const h = taskRunner(workflows);
    const deadline = h.clock.now() + 60_000;
    h.start('Transfer', [100], 'w1', 'r1', { timeouts: { runTimeoutMs: 60_000, runDeadline: deadline } });
    await h.runner.run('w1', 'r1', 'q');
    expect(h.jobs.get('x|w1|r1')).toMatchObject({
      kind: 'timeout',
      dueAt: deadline,
      data: { timeoutType: 'WORKFLOW_RUN', timeoutMs: 60_000 },
    });
    await h.runner.complete('w1', 'r1', 'q', done(1, 'tx-1', h.clock.now()));
    await h.runner.complete('w1', 'r1', 'q', { type: 'TimerFired', seq: 2, ts: h.clock.now() });
    await h.runner.complete('w1', 'r1', 'q', done(3, null, h.clock.now()));
    await h.runner.settled();
    expect(h.store.metaOf('w1')?.status).toBe('completed');
    expect(h.jobs.ids('timeout')).toEqual([]);
  });

  test("a child's close is reported to its parent", async () => {
    const h = taskRunner(workflows);
    const parent = { workflowId: 'p1', runId: 'r1', seq: 1, taskQueue: 'q', parentClosePolicy: 'ABANDON' as const };
    h.start('Child', [1], 'child-1', 'c1', { parent });
    await h.runner.run('child-1', 'c1', 'q');
    expect(h.store.metaOf('child-1')).toMatchObject({ status: 'completed', closeValue: p(7) });
    expect(h.store.notifyData.get('child-1')).toEqual({ parent, status: 'completed', value: p(7), runId: 'c1' });
    expect(h.runs.afterCloseCalls).toEqual([
      { workflowId: 'child-1', runId: 'c1', related: { parent: true, children: false } },
    ]);
  });

  test("continue-as-new starts the next run on the same meta, carries a late signal over and enqueues the next run's task", async () => {
    const h = taskRunner(workflows);
    h.start('Counter', [0], 'c1', 'r1');
    // A signal that arrives while the closing task runs: the old run's code never sees it.
    h.store.before('commit', () => h.store.appendExternal('c1', 'r1', noteSignal('late'), { requestId: 's1' }));
    await h.runner.run('c1', 'r1', 'q');
    const meta = h.store.metaOf('c1')!;
    expect(meta).toMatchObject({ status: 'running', dirty: true, lease: undefined, historyLength: 2 });
    const next = meta.runId;
    expect(next).not.toBe('r1');
    expect(h.store.history('c1', 'r1').map(describeEvent)).toEqual([
      'WorkflowExecutionStarted',
      'SignalReceived(note)',
      'WorkflowExecutionContinuedAsNew',
    ]);
    expect(h.store.history('c1', next)).toMatchObject([
      { type: 'WorkflowExecutionStarted', runId: next, input: [p(1)], continuedFromRunId: 'r1' },
      { type: 'SignalReceived', signalName: 'note' },
    ]);
    expect(h.jobs.list('task')).toMatchObject([{ id: `w|c1|${next}|start`, delay: 0 }]);
    expect(h.metrics.closed).toEqual(['Counter:continued']);
    expect(h.runs.afterCloseCalls).toEqual([]);
    await h.runner.run('c1', next, 'q');
    expect(h.store.metaOf('c1')).toMatchObject({ status: 'completed', closeValue: p({ n: 1, notes: ['late'] }) });
  });
});

describe('local activities', () => {
  const rates = { rate: () => 2, fee: (amount: number) => amount / 100 };

  test('run in the task and are recorded with their scheduling, and the next commands, in one commit', async () => {
    const h = taskRunner(workflows, { local: rates });
    h.start('Quoting', [100], 'w1', 'r1');
    await h.runner.run('w1', 'r1', 'q');
    expect(h.store.calls).toEqual(['acquire', 'commit']);
    expect(h.store.commits[0]).toMatchObject({ clean: true, release: true, dispatchMark: 'set' });
    expect(h.store.history('w1').map(describeEvent)).toEqual([
      'WorkflowExecutionStarted',
      'ActivityTaskScheduled(rate) seq 1',
      'ActivityTaskCompleted seq 1',
      'ActivityTaskScheduled(fee) seq 2',
      'ActivityTaskCompleted seq 2',
      'ActivityTaskScheduled(charge) seq 3',
    ]);
    expect(h.store.history('w1')[1]).toMatchObject({ local: { attempt: 1, firstScheduledAt: h.clock.now() } });
    expect(h.local.calls.map((c) => [c.activityType, c.args])).toEqual([
      ['rate', ['EUR']],
      ['fee', [100]],
    ]);
    // Only the queued activity has a job.
    expect(h.jobs.list()).toMatchObject([{ id: 'a|w1|r1|3', data: { input: [p(201)] } }]);
  });

  test('an event that arrives while they run refuses the commit: the task replays and runs them again', async () => {
    const h = taskRunner(workflows, { local: rates });
    h.start('Quoting', [100], 'w1', 'r1');
    h.local.during = async () => {
      h.local.during = undefined;
      await h.store.appendExternal('w1', 'r1', noteSignal('meanwhile'), { requestId: 's1' });
    };
    await h.runner.run('w1', 'r1', 'q');
    expect(h.store.calls).toEqual(['acquire', 'appendExternal', 'commit', 'commit']);
    expect(h.store.commits.map((c) => c.fence)).toEqual([1, 1]); // the refusal renewed the same lease
    expect(h.local.calls.map((c) => c.activityType)).toEqual(['rate', 'fee', 'rate', 'fee']);
    expect(h.store.history('w1').map(describeEvent)).toEqual([
      'WorkflowExecutionStarted',
      'SignalReceived(note)',
      'ActivityTaskScheduled(rate) seq 1',
      'ActivityTaskCompleted seq 1',
      'ActivityTaskScheduled(fee) seq 2',
      'ActivityTaskCompleted seq 2',
      'ActivityTaskScheduled(charge) seq 3',
    ]);
  });
});
