import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { HistoryEvent } from 'redurable';
import { spawnWorker, stop, type Child } from '../support/child-worker.js';
import { until } from '../support/until.js';
import { createTestApp, testConnectionEnv, type TestApp, keyNames } from '../support/test-app.js';

let client: TestApp;
const prefix = `crash-${randomUUID().slice(0, 8)}`;
const children: Child[] = [];

beforeAll(async () => {
  client = await createTestApp([], { prefix, worker: false });
});
// Every worker a test spawned is stopped after it, pass or fail: a worker left running on the
// shared prefix would take the next test's workflow away from its crashing worker.
afterEach(async () => {
  await Promise.all(children.splice(0).map(stop));
});
afterAll(async () => {
  await client.close();
});

function worker(env: Record<string, string> = {}): Child {
  const child = spawnWorker({ ...testConnectionEnv(), PREFIX: prefix, ...env });
  children.push(child);
  return child;
}

const ready = (c: Child) => until('worker ready', () => c.output().includes('ready'));

/** Until the child is terminated by its parent's close (parent-close policy TERMINATE). */
async function terminatedByParent(childId: string, parentId: string): Promise<void> {
  const child = await until('the child to be terminated', async () => {
    const d = await client.client.getHandle(childId).describe();
    return d.status === 'terminated' && d;
  });
  expect(child.failure?.message).toContain(`parent workflow '${parentId}' closed (parentClosePolicy TERMINATE)`);
}
/** Until the workflow's first task has committed and nothing is owed: it waits for a message. */
const waiting = (id: string) =>
  until(`workflow ${id} to wait`, async () => {
    const meta = await client.redis.hgetall(keyNames(prefix).meta(id));
    return meta.fence === '1' && meta.lease === '' && meta.dirty === '0';
  });
const history = (id: string) => client.client.getHandle(id).fetchHistory();
const completedSeqs = (h: HistoryEvent[]) => h.flatMap((e) => (e.type === 'ActivityTaskCompleted' ? [e.seq] : []));

async function counters(kind: 'runs' | 'effects', workflowId: string, steps: number): Promise<number[]> {
  const keys = Array.from({ length: steps }, (_, i) => `{${prefix}}:${kind}:${workflowId}:${i + 1}`);
  return (await client.redis.mget(...keys)).map((v) => Number(v ?? 0));
}

/** The seqs of the activities of the workflow's current run that a worker has claimed (eager), from its meta hash. */
async function claimedSeqs(workflowId: string): Promise<number[]> {
  const meta = await client.redis.hgetall(keyNames(prefix).meta(workflowId));
  return Object.entries(meta)
    .filter(([field, value]) => field.startsWith('c:') && value.startsWith(`${meta.runId}|`))
    .map(([field]) => Number(field.slice(2)));
}

/** Every step's completion is recorded exactly once, and its effect happened exactly once. */
async function expectExactlyOnce(workflowId: string, steps: number) {
  const seqs = completedSeqs(await history(workflowId));
  expect(seqs).toHaveLength(steps);
  expect(new Set(seqs).size).toBe(steps);
  expect(await counters('effects', workflowId, steps)).toEqual(Array(steps).fill(1));
}

async function startWorkflow(workflowId: string, steps: number, sleepAfter = 0, sleepMs = 0) {
  await client.client.start('CrashWorkflow', { workflowId, taskQueue: 'crash', args: [steps, sleepAfter, sleepMs] });
}

describe('a worker killed with SIGKILL', () => {
  test('in the middle of a workflow: a new process finishes it and no completed activity runs again', async () => {
    const id = 'kill-mid-run';
    const first = worker();
    await ready(first);
    await startWorkflow(id, 12);
    await until('4 completed steps', async () => completedSeqs(await history(id)).length >= 4);
    first.process.kill('SIGKILL');
    await first.exited;

    const completedAtKill = completedSeqs(await history(id));
    const runsAtKill = await counters('runs', id, 12);
    const second = worker();
    expect(await client.client.getHandle<number>(id).result()).toBe(78);
    const runsAfter = await counters('runs', id, 12);
    for (const seq of completedAtKill) expect(runsAfter[seq - 1]).toBe(runsAtKill[seq - 1]);
    await expectExactlyOnce(id, 12);
    await stop(second);
  }, 40_000);

  test('during a durable sleep: the timer still fires once and the workflow finishes', async () => {
    const id = 'kill-in-sleep';
    const first = worker();
    await ready(first);
    await startWorkflow(id, 4, 2, 1500);
    await until('the timer to start', async () => (await history(id)).some((e) => e.type === 'TimerStarted'));
    first.process.kill('SIGKILL');
    await first.exited;
    expect((await history(id)).some((e) => e.type === 'TimerFired')).toBe(false);

    const second = worker();
    expect(await client.client.getHandle<number>(id).result()).toBe(10);
    expect((await history(id)).filter((e) => e.type === 'TimerFired')).toHaveLength(1);
    expect(await counters('runs', id, 4)).toEqual([1, 1, 1, 1]);
    await expectExactlyOnce(id, 4);
    await stop(second);
  }, 40_000);
});

describe('a worker killed while its saga compensates', () => {
  test('resumes compensating after replay: forward steps do not run again, each compensation takes effect once', async () => {
    const id = 'kill-in-compensation';
    const first = worker();
    await ready(first);
    await client.client.start('SagaCrashWorkflow', { workflowId: id, taskQueue: 'crash', args: [4] });
    await until('the first compensation to complete', async () => {
      const h = await history(id);
      const compensations = new Set(
        h.flatMap((e) => (e.type === 'ActivityTaskScheduled' && e.compensation ? [e.seq] : [])),
      );
      return h.some((e) => e.type === 'ActivityTaskCompleted' && compensations.has(e.seq));
    });
    first.process.kill('SIGKILL');
    await first.exited;

    const second = worker();
    const err = await client.client
      .getHandle(id)
      .result()
      .catch((e: unknown) => e);
    expect((err as Error).message).toContain('the last step refused');
    const description = await client.client.getHandle(id).describe();
    expect(description.status).toBe('failed');
    expect(description.compensations.map((c) => `${c.activityType}:${c.status}`)).toEqual([
      'undo:completed',
      'undo:completed',
      'undo:completed',
      'undo:completed',
    ]);
    expect(await counters('runs', id, 4)).toEqual([1, 1, 1, 1]);
    const undoEffects = (
      await client.redis.mget(...[1, 2, 3, 4].map((i) => `{${prefix}}:undo-effects:${id}:${i}`))
    ).map(Number);
    expect(undoEffects).toEqual([1, 1, 1, 1]);
    await stop(second);
  }, 40_000);
});

describe('a process killed at each crash point between two Redis writes', () => {
  // With the cache, a step records an outcome and its commands in one script; without it
  // (CACHE_SIZE 0) every task replays and takes the two-write path. Both are killed here, with
  // every activity a BullMQ job (EAGER 0; eager activities have their own table below).
  test.each([
    ['task.after-commit', '1000', 'outcome and commands committed, jobs not yet dispatched'],
    ['task.after-commit', '0', 'replayed task committed, jobs not yet dispatched'],
    ['task.after-dispatch', '1000', 'jobs dispatched, cache not yet updated'],
    ['task.after-dispatch', '0', 'jobs dispatched, lease not yet released'],
    ['activity.after-run', '1000', 'activity ran, outcome not yet recorded'],
    ['completion.after-append', '0', 'outcome recorded, next workflow task not yet run'],
  ])(
    '%s, cache size %s (%s): the workflow completes with every step recorded once',
    async (point, cacheSize) => {
      const id = `crash-at-${point}-${cacheSize}`;
      const crashing = worker({
        REDURABLE_CRASH_POINT: point,
        REDURABLE_CRASH_AFTER: '2',
        CACHE_SIZE: cacheSize,
        EAGER: '0',
      });
      await ready(crashing);
      await startWorkflow(id, 4);
      expect((await crashing.exited).signal).toBe('SIGKILL'); // it really died at that point

      const second = worker({ CACHE_SIZE: cacheSize, EAGER: '0' });
      expect(await client.client.getHandle<number>(id).result()).toBe(10);
      await expectExactlyOnce(id, 4);
      const runs = (await counters('runs', id, 4)).reduce((a, b) => a + b, 0);
      // Only a crash between an activity's effect and its recording runs that activity again (at
      // least once). In the cached step the next job is added while the job that brought the
      // outcome finishes, and BullMQ may hand the dying worker that next job at once: killed after
      // the add, it may already be running the next activity, which then runs again (its effect
      // still once).
      if (point === 'activity.after-run') expect(runs).toBe(5);
      else if (point === 'task.after-dispatch' && cacheSize === '1000') expect([4, 5]).toContain(runs);
      else expect(runs).toBe(4);
      await stop(second);
    },
    40_000,
  );

  // An eager activity runs in the process that committed its scheduling, claimed by that commit,
  // with no job: a process killed anywhere around it loses the claim, and the recovery sweep adds
  // the activity's job once the claim expires (lease ttl 1s here). Each step is recorded once and
  // its effect happens once; only a kill after an attempt began runs that step again.
  test.each([
    ['task.after-commit', '1000', {}, 4, 'the commit claimed the next activity, which has not started'],
    ['task.after-commit', '0', {}, 4, 'a replayed task claimed the next activity, which has not started'],
    ['eager.after-run', '1000', {}, 5, 'the activity ran, its outcome not yet recorded'],
    ['eager.after-run', '0', {}, 5, 'the activity ran (no cache), its outcome not yet recorded'],
    ['eager.before-renew', '1000', { STEP_MS: '700' }, 5, 'the activity is running, at its claim renewal'],
    [
      'eager.after-handover',
      '1000',
      { FAIL_FIRST: '2', REDURABLE_CRASH_AFTER: '1' },
      5,
      'attempt 1 failed, its retry job added, the claim kept',
    ],
  ])(
    'eager: %s, cache size %s %j: the workflow completes, each step recorded once, %i runs (%s)',
    async (point, cacheSize, env, runs, _why) => {
      const id = `eager-crash-at-${point}-${cacheSize}`;
      const crashing = worker({
        REDURABLE_CRASH_POINT: point,
        REDURABLE_CRASH_AFTER: '2',
        CACHE_SIZE: cacheSize,
        ...env,
      });
      await ready(crashing);
      await startWorkflow(id, 4);
      expect((await crashing.exited).signal).toBe('SIGKILL');
      // It died holding the claim of the activity it ran (or was about to run) in process.
      expect(await claimedSeqs(id)).toHaveLength(1);

      const second = worker({ CACHE_SIZE: cacheSize, ...env });
      expect(await client.client.getHandle<number>(id).result()).toBe(10);
      await expectExactlyOnce(id, 4);
      const ran = (await counters('runs', id, 4)).reduce((a, b) => a + b, 0);
      // At its claim renewal, the survivor's own 700 ms attempt under a 1 s claim may outlive the
      // claim when the machine is loaded (a renewal late by over 2/3 of it), and the sweep runs it
      // again: activities run at least once; their outcomes (checked above) once.
      if (point === 'eager.before-renew') expect([runs, runs + 1]).toContain(ran);
      else expect(ran).toBe(runs);
      await stop(second);
    },
    40_000,
  );

  test('sweep.after-takeover: a sweep killed after taking over an expired claim; the next one adds the job', async () => {
    const id = 'eager-crash-sweep-takeover';
    const first = worker({ REDURABLE_CRASH_POINT: 'eager.before-renew', REDURABLE_CRASH_AFTER: '2', STEP_MS: '700' });
    await ready(first);
    await startWorkflow(id, 3);
    expect((await first.exited).signal).toBe('SIGKILL'); // killed while a step ran, its claim held
    const [seq] = await claimedSeqs(id);
    expect(seq).toBeDefined();
    const sweeper = worker({ REDURABLE_CRASH_POINT: 'sweep.after-takeover' });
    expect((await sweeper.exited).signal).toBe('SIGKILL'); // took the expired claim over, added no job
    // The claim is marked taken (its owner could no longer renew it), and the step has no job yet.
    expect((await client.redis.hget(keyNames(prefix).meta(id), `c:${seq}`))?.endsWith('|taken')).toBe(true);
    const pending = (await client.client.getHandle(id).describe()).pendingActivities.find((a) => a.seq === seq);
    expect(pending?.state).toBe('missing');

    const last = worker();
    expect(await client.client.getHandle<number>(id).result()).toBe(6);
    await expectExactlyOnce(id, 3);
    // The step running at the kill ran again (once), the others once.
    expect((await counters('runs', id, 3)).reduce((a, b) => a + b, 0)).toBe(4);
    await stop(last);
  }, 40_000);

  // Local activities run inside the workflow task and are recorded with its commit: a kill
  // before the commit runs them again (at least once), a kill after it does not.
  test.each([
    [
      'LLLR',
      'local.after-run',
      '2',
      [2, 2, 1, 1],
      'first task killed after two local activities ran, nothing committed',
    ],
    [
      'RLLR',
      'local.after-run',
      '2',
      [1, 2, 2, 1],
      'killed in the step after an activity (its outcome recorded first), before two local activities were',
    ],
    ['LLLR', 'task.after-commit', '1', [1, 1, 1, 1], 'local outcomes committed, the next job not yet added'],
  ])(
    '%s at %s (hit %s): the workflow completes, each step recorded once, runs %j (%s)',
    async (pattern, point, after, runs) => {
      const id = `crash-local-${pattern}-${point}`;
      const crashing = worker({ REDURABLE_CRASH_POINT: point, REDURABLE_CRASH_AFTER: after });
      await ready(crashing);
      await client.client.start('LocalCrashWorkflow', { workflowId: id, taskQueue: 'crash', args: [pattern] });
      expect((await crashing.exited).signal).toBe('SIGKILL');

      const second = worker();
      expect(await client.client.getHandle<number>(id).result()).toBe(10);
      await expectExactlyOnce(id, 4);
      expect(await counters('runs', id, 4)).toEqual(runs);
      const h = await history(id);
      const locals = h.flatMap((e) => (e.type === 'ActivityTaskScheduled' && e.local ? [e.seq] : []));
      expect(locals).toEqual([...pattern].flatMap((c, i) => (c === 'L' ? [i + 1] : [])));
      await stop(second);
    },
    40_000,
  );

  test('close.after-commit of a child (closed, parent not yet told): the sweep reports its result to the parent', async () => {
    const id = 'crash-child-close';
    const crashing = worker({ REDURABLE_CRASH_POINT: 'close.after-commit' });
    await ready(crashing);
    await client.client.start('ParentCrashWorkflow', { workflowId: id, taskQueue: 'crash', args: [3] });
    expect((await crashing.exited).signal).toBe('SIGKILL');
    const childId = `${id}-child`;
    expect((await client.client.getHandle(childId).describe()).status).toBe('completed');

    const second = worker();
    expect(await client.client.getHandle<number>(id).result()).toBe(1006);
    await expectExactlyOnce(childId, 3);
    // The child's last activity job, restarted after the kill, found its outcome recorded and did not run again.
    expect(await counters('runs', childId, 3)).toEqual([1, 1, 1]);
    const parentHistory = await history(id);
    expect(parentHistory.filter((e) => e.type === 'ChildWorkflowCompleted')).toHaveLength(1);
    await stop(second);
  }, 40_000);

  test('close.after-commit of a parent (closed, parent-close policy not yet applied): the sweep terminates its child', async () => {
    const id = 'crash-parent-close';
    const childId = `${prefix}-left-child`;
    const crashing = worker({ REDURABLE_CRASH_POINT: 'close.after-commit' });
    await ready(crashing);
    await client.client.start('ParentLeavesChildWorkflow', { workflowId: id, taskQueue: 'crash' });
    expect((await crashing.exited).signal).toBe('SIGKILL');
    expect((await client.client.getHandle(id).describe()).status).toBe('completed');
    expect((await client.client.getHandle(childId).describe()).status).toBe('running');

    const second = worker();
    await terminatedByParent(childId, id);
    await stop(second);
  }, 40_000);

  test('timeout.after-close (a parent closed as timed_out, its jobs and children not yet handled): the sweep terminates its child', async () => {
    const id = 'crash-timeout-parent';
    const childId = `${prefix}-timeout-child`;
    const crashing = worker({ REDURABLE_CRASH_POINT: 'timeout.after-close' });
    await ready(crashing);
    const handle = await client.client.start('ParentTimesOutWithChildWorkflow', {
      workflowId: id,
      taskQueue: 'crash',
      workflowRunTimeout: '2s',
    });
    await until(
      'the child to run',
      async () =>
        (
          await client.client
            .getHandle(childId)
            .describe()
            .catch(() => undefined)
        )?.status === 'running',
    );
    expect((await crashing.exited).signal).toBe('SIGKILL');
    expect((await handle.describe()).status).toBe('timed_out');
    expect((await handle.fetchHistory()).map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
      'ChildWorkflowScheduled',
      'TimerStarted',
      'WorkflowExecutionTimedOut',
    ]);
    expect((await client.client.getHandle(childId).describe()).status).toBe('running');

    const second = worker();
    await terminatedByParent(childId, id);
    await stop(second);
  }, 40_000);

  test('close.after-commit of a parent whose last round scheduled a child: the sweep starts the child', async () => {
    const id = 'crash-last-round-child';
    const childId = `${prefix}-last-round-child`;
    const crashing = worker({ REDURABLE_CRASH_POINT: 'close.after-commit' });
    await ready(crashing);
    await client.client.start('ParentClosesWithChildWorkflow', { workflowId: id, taskQueue: 'crash' });
    expect((await crashing.exited).signal).toBe('SIGKILL');
    expect((await client.client.getHandle(id).describe()).status).toBe('completed');
    expect(await client.redis.exists(keyNames(prefix).meta(childId))).toBe(0);

    const second = worker();
    expect(
      await client.client
        .getHandle<number>(childId)
        .result()
        .catch(async (e) => {
          // The child may not exist yet when result() first looks: wait for the sweep to start it.
          await until(
            'the child to exist',
            async () => (await client.redis.exists(keyNames(prefix).meta(childId))) === 1,
          );
          if (!(e instanceof Error)) throw e;
          return client.client.getHandle<number>(childId).result();
        }),
    ).toBe(3);
    await stop(second);
  }, 40_000);

  test('child.after-start (child created, its first task not enqueued): the sweep runs it and the parent gets its result', async () => {
    const id = 'crash-child-start';
    const crashing = worker({ REDURABLE_CRASH_POINT: 'child.after-start' });
    await ready(crashing);
    await client.client.start('ParentCrashWorkflow', { workflowId: id, taskQueue: 'crash', args: [2] });
    expect((await crashing.exited).signal).toBe('SIGKILL');
    const childId = `${id}-child`;
    expect((await client.client.getHandle(childId).fetchHistory()).map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
    ]);

    const second = worker();
    expect(await client.client.getHandle<number>(id).result()).toBe(1003);
    await expectExactlyOnce(childId, 2);
    await stop(second);
  }, 40_000);

  test('notify.after-append (parent has the child result, neither woken nor index cleared): completes once', async () => {
    const id = 'crash-notify';
    const crashing = worker({ REDURABLE_CRASH_POINT: 'notify.after-append' });
    await ready(crashing);
    await client.client.start('ParentCrashWorkflow', { workflowId: id, taskQueue: 'crash', args: [2] });
    expect((await crashing.exited).signal).toBe('SIGKILL');

    const second = worker();
    expect(await client.client.getHandle<number>(id).result()).toBe(1003);
    // The sweep told the parent again; the second copy of the outcome was ignored.
    expect((await history(id)).filter((e) => e.type === 'ChildWorkflowCompleted')).toHaveLength(1);
    await stop(second);
  }, 40_000);

  test('external.after-append (a signal recorded by a client that died before waking the workflow): the sweep wakes it', async () => {
    const id = 'crash-signal';
    const first = worker();
    await ready(first);
    await client.client.start('SignalWaitWorkflow', { workflowId: id, taskQueue: 'crash' });
    await waiting(id);
    await stop(first); // no worker, no queued task: only the signal's wake-up could move it now
    const signaler = worker({ ROLE: 'signaler', WORKFLOW_ID: id, REDURABLE_CRASH_POINT: 'external.after-append' });
    expect((await signaler.exited).signal).toBe('SIGKILL');
    expect((await history(id)).map((e) => e.type)).toEqual(['WorkflowExecutionStarted', 'SignalReceived']);

    const second = worker();
    expect(await client.client.getHandle<number>(id).result()).toBe(1);
    await stop(second);
  }, 40_000);

  test("reset.after-script (a reset recorded by a client that died before enqueuing the new run's task): the sweep runs the new run, with the reapplied signal", async () => {
    const id = 'crash-reset';
    const first = worker();
    await ready(first);
    const oldRun = (await client.client.start('SignalWaitWorkflow', { workflowId: id, taskQueue: 'crash' })).runId!;
    await waiting(id);
    await stop(first);
    await client.client.getHandle(id).signal('release'); // recorded; no worker runs it
    const resetter = worker({ ROLE: 'resetter', WORKFLOW_ID: id, REDURABLE_CRASH_POINT: 'reset.after-script' });
    expect((await resetter.exited).signal).toBe('SIGKILL');
    const newRun = (await client.client.getHandle(id).describe()).runId;
    expect(newRun).not.toBe(oldRun);
    expect((await client.client.getHandle(id, oldRun).fetchHistory()).map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
      'SignalReceived',
      'WorkflowExecutionReset',
    ]);
    expect((await history(id)).map((e) => e.type)).toEqual(['WorkflowExecutionStarted', 'SignalReceived']);

    const second = worker();
    expect(await client.client.getHandle<number>(id, oldRun).result()).toBe(1); // the old run's handle follows the reset
    expect(await counters('runs', id, 1)).toEqual([1]);
    await stop(second);
  }, 40_000);

  test('external.after-append of an update (accepted, the client died before waking the workflow): the sweep wakes it and the update completes once', async () => {
    const id = 'crash-update-accepted';
    const first = worker();
    await ready(first);
    await client.client.start('UpdateCrashWorkflow', { workflowId: id, taskQueue: 'crash' });
    await waiting(id);
    await stop(first);
    const updater = worker({
      ROLE: 'updater',
      WORKFLOW_ID: id,
      UPDATE_ID: 'u-1',
      STEP: '5',
      REDURABLE_CRASH_POINT: 'external.after-append',
    });
    expect((await updater.exited).signal).toBe('SIGKILL');
    expect((await history(id)).map((e) => e.type)).toEqual(['WorkflowExecutionStarted', 'WorkflowUpdateAccepted']);

    worker();
    expect(await client.client.getHandle(id).getUpdateHandle('u-1').result()).toBe(5);
    await client.client.getHandle(id).signal('finish');
    expect(await client.client.getHandle<number>(id).result()).toBe(5);
    expect((await history(id)).filter((e) => e.type === 'WorkflowUpdateCompleted')).toHaveLength(1);
    expect(await counters('effects', id, 5)).toEqual([0, 0, 0, 0, 1]);
  }, 40_000);

  test.each([
    ['task.after-commit', '2', "the update's activity recorded, its job not yet added"],
    ['activity.after-run', '1', "the update's activity ran, its outcome not recorded"],
    ['task.after-commit', '3', "the update's result recorded, nothing after it"],
  ])(
    'a worker running an update killed at %s (hit %s, %s): another worker completes the update once, with the same result',
    async (point, after) => {
      const id = `crash-update-${point}-${after}`;
      // The update's activity is a job here (EAGER 0): the points are those of the queue path.
      const crashing = worker({ REDURABLE_CRASH_POINT: point, REDURABLE_CRASH_AFTER: after, EAGER: '0' });
      await ready(crashing);
      const handle = client.client.getHandle(id);
      await client.client.start('UpdateCrashWorkflow', { workflowId: id, taskQueue: 'crash' });
      // The update is sent by a process with the workflow's class (its validator would run there).
      const updater = worker({ ROLE: 'updater', WORKFLOW_ID: id, UPDATE_ID: 'u-2', STEP: '2' });
      expect((await updater.exited).code).toBe(0);
      const update = handle.getUpdateHandle<number>('u-2');
      expect((await crashing.exited).signal).toBe('SIGKILL');
      const recordedAtKill = (await history(id)).some((e) => e.type === 'WorkflowUpdateCompleted');
      expect(recordedAtKill).toBe(after === '3');

      worker({ EAGER: '0' });
      expect(await update.result()).toBe(2);
      await handle.signal('finish');
      expect(await client.client.getHandle<number>(id).result()).toBe(2);
      const h = await history(id);
      expect(h.filter((e) => e.type === 'WorkflowUpdateAccepted')).toHaveLength(1);
      expect(h.filter((e) => e.type === 'WorkflowUpdateCompleted')).toHaveLength(1);
      expect(await counters('effects', id, 2)).toEqual([0, 1]);
      expect((await counters('runs', id, 2))[1]).toBeLessThanOrEqual(point === 'activity.after-run' ? 2 : 1);
    },
    40_000,
  );

  test('close.after-commit of a continue-as-new (next run created, its first task not yet enqueued): the sweep starts it', async () => {
    const id = 'crash-continue';
    const crashing = worker({ REDURABLE_CRASH_POINT: 'close.after-commit' });
    await ready(crashing);
    await client.client.start('ContinuingCrashWorkflow', { workflowId: id, taskQueue: 'crash', args: [1, 3] });
    expect((await crashing.exited).signal).toBe('SIGKILL');

    const second = worker();
    expect(await client.client.getHandle<number>(id).result()).toBe(3);
    expect(await counters('effects', id, 3)).toEqual([1, 1, 1]);
    await stop(second);
  }, 40_000);

  test('a task running local activities killed after recording what it had done (a checkpoint): those do not run again', async () => {
    // 12 local steps of 40 ms in one task; with the fixture's 1 s lease a checkpoint comes after about 333 ms.
    const id = 'crash-local-checkpoint';
    const crashing = worker({ REDURABLE_CRASH_POINT: 'local.after-checkpoint' });
    await ready(crashing);
    await client.client.start('LocalCrashWorkflow', { workflowId: id, taskQueue: 'crash', args: ['L'.repeat(12)] });
    expect((await crashing.exited).signal).toBe('SIGKILL');
    const recordedAtKill = completedSeqs(await history(id));
    expect(recordedAtKill.length).toBeGreaterThan(0);
    expect(recordedAtKill.length).toBeLessThan(12);

    const second = worker();
    expect(await client.client.getHandle<number>(id).result()).toBe(78);
    await expectExactlyOnce(id, 12);
    const runs = await counters('runs', id, 12);
    for (const seq of recordedAtKill) expect(runs[seq - 1]).toBe(1); // recorded before the kill: never run again
    await stop(second);
  }, 40_000);

  // Eager start: a worker that starts a workflow runs its first task itself, with no job behind it.
  test.each([
    ['start.after-script', '1', 'workflow created, its first task not yet run'],
    ['task.after-commit', '1', 'first task committed, its activity job not yet added'],
  ])(
    'a worker starting a workflow killed at %s (hit %s, %s): the workflow completes, each step once',
    async (point, after) => {
      const id = `crash-eager-${point}`;
      const starting = worker({
        ROLE: 'starting-worker',
        WORKFLOW_ID: id,
        STEPS: '3',
        REDURABLE_CRASH_POINT: point,
        REDURABLE_CRASH_AFTER: after,
      });
      expect((await starting.exited).signal).toBe('SIGKILL');
      expect(completedSeqs(await history(id))).toEqual([]);
      worker();
      expect(await client.client.getHandle<number>(id).result()).toBe(6);
      await expectExactlyOnce(id, 3);
      expect(await counters('runs', id, 3)).toEqual([1, 1, 1]);
    },
    40_000,
  );

  test('start.after-script (workflow created, first task not yet enqueued): the recovery sweep starts it', async () => {
    const id = 'crash-at-start';
    const starter = worker({
      ROLE: 'starter',
      WORKFLOW_ID: id,
      STEPS: '3',
      REDURABLE_CRASH_POINT: 'start.after-script',
    });
    expect((await starter.exited).signal).toBe('SIGKILL');
    expect((await history(id)).map((e) => e.type)).toEqual(['WorkflowExecutionStarted']);

    const second = worker();
    expect(await client.client.getHandle<number>(id).result()).toBe(6);
    await expectExactlyOnce(id, 3);
    await stop(second);
  }, 40_000);

  test('debounce.after-script (a debounced start replaced the arguments, its delayed task not yet added): the run begins with them', async () => {
    const id = 'crash-at-debounce';
    const starter = (steps: string, env: Record<string, string> = {}) =>
      worker({ ROLE: 'starter', WORKFLOW_ID: id, STEPS: steps, DEBOUNCE_MS: '500', ...env });
    expect((await starter('2').exited).code).toBe(0);
    const killed = starter('3', { REDURABLE_CRASH_POINT: 'debounce.after-script' });
    expect((await killed.exited).signal).toBe('SIGKILL');
    expect((await history(id)).map((e) => e.type)).toEqual(['WorkflowExecutionStarted', 'WorkflowStartDebounced']);

    // The first start's task comes first and finds the run not yet due; the sweep begins it later.
    const second = worker();
    expect(await client.client.getHandle<number>(id).result()).toBe(6);
    await expectExactlyOnce(id, 3);
    await stop(second);
  }, 40_000);
});
