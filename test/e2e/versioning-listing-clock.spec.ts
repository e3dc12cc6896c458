import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Activities, Activity, Workflow, WorkflowRun } from 'redurable';
import { deprecatePatch, patched, proxyActivities, sleep } from 'redurable/workflow';
import { TestWorkflowEnvironment, replayHistory } from 'redurable/testing';
import { createTestApp, testConnection, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

@Injectable()
@Activities()
class StepActivities {
  @Activity() async step(name: string): Promise<string> {
    return name;
  }
}

const acts = () => proxyActivities(StepActivities);

@Workflow({ name: 'Versioned', taskQueue: 'versioning' })
class VersionedV1 {
  @WorkflowRun()
  async run() {
    const done = [await acts().step('a')];
    await sleep(300);
    done.push(await acts().step('b'));
    return done;
  }
}

/** v2 adds step c for new executions; old ones replay and finish on the old path. */
@Workflow({ name: 'Versioned', taskQueue: 'versioning' })
class VersionedV2 {
  @WorkflowRun()
  async run() {
    const done = [await acts().step('a')];
    if (patched('add-c')) done.push(await acts().step('c'));
    await sleep(300);
    done.push(await acts().step('b'));
    return done;
  }
}

/** v3: every v1 execution is gone; the patch is deprecated and c always runs. */
@Workflow({ name: 'Versioned', taskQueue: 'versioning' })
class VersionedV3 {
  @WorkflowRun()
  async run() {
    const done = [await acts().step('a')];
    deprecatePatch('add-c');
    done.push(await acts().step('c'));
    await sleep(300);
    done.push(await acts().step('b'));
    return done;
  }
}

@Workflow({ taskQueue: 'clock' })
class WeeklyReminderWorkflow {
  @WorkflowRun()
  async run() {
    const start = Date.now();
    await sleep('7 days');
    return { waitedDays: Math.round((Date.now() - start) / 86_400_000) };
  }
}

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('versioning with patched()', () => {
  test('a patched workflow replays an old history on the old branch; new executions take the new one', async () => {
    t = await createTestApp([StepActivities, VersionedV1]);
    const prefix = t.prefix;
    expect(await t.client.execute(VersionedV1, { workflowId: 'v1-done' })).toEqual(['a', 'b']);
    const v1History = await t.client.getHandle('v1-done').fetchHistory();
    const inFlight = await t.client.start(VersionedV1, { workflowId: 'v1-in-flight' });
    await until('v1 to wait in its timer', async () =>
      (await inFlight.fetchHistory()).some((e) => e.type === 'TimerStarted'),
    );
    await t.close();

    // v2 replays the finished v1 history without a non-determinism error, on the old branch.
    const replay = await replayHistory(VersionedV2, v1History);
    expect(replay.closing?.status).toBe('completed');

    t = await createTestApp([StepActivities, VersionedV2], { prefix });
    expect(await t.client.getHandle('v1-in-flight').result()).toEqual(['a', 'b']); // started under v1: old path
    expect(await t.client.execute(VersionedV2, { workflowId: 'v2-new' })).toEqual(['a', 'c', 'b']);
    const v2History = await t.client.getHandle('v2-new').fetchHistory();
    expect(v2History.find((e) => e.type === 'MarkerRecorded')).toMatchObject({ name: 'patch', seq: 2 });

    // v3 deprecates the patch: v2 histories (with the marker) still replay.
    await expect(replayHistory(VersionedV3, v2History)).resolves.toMatchObject({ closing: { status: 'completed' } });
  });
});

describe('listing', () => {
  test('list and count by type, status and start time, with paging', async () => {
    t = await createTestApp([StepActivities, VersionedV1, WeeklyReminderWorkflow]);
    const before = new Date();
    for (let i = 0; i < 3; i++) await t.client.execute(VersionedV1, { workflowId: `list-done-${i}` });
    for (let i = 0; i < 2; i++) await t.client.start(WeeklyReminderWorkflow, { workflowId: `list-waiting-${i}` });

    expect(await t.client.count()).toBe(5);
    expect(await t.client.count({ status: 'completed' })).toBe(3);
    expect(await t.client.count({ type: 'WeeklyReminderWorkflow' })).toBe(2);
    expect(await t.client.count({ type: 'WeeklyReminderWorkflow', status: 'running' })).toBe(2);
    expect(await t.client.count({ type: 'Versioned', status: 'running' })).toBe(0);
    expect(await t.client.count({ startedAfter: new Date(Date.now() + 60_000) })).toBe(0);
    expect(await t.client.count({ startedAfter: before })).toBe(5);

    const page1 = await t.client.list({ limit: 2 });
    const page2 = await t.client.list({ limit: 2, cursor: page1.nextCursor });
    const page3 = await t.client.list({ limit: 2, cursor: page2.nextCursor });
    const ids = [...page1.workflows, ...page2.workflows, ...page3.workflows].map((w) => w.workflowId);
    expect(ids).toEqual(['list-waiting-1', 'list-waiting-0', 'list-done-2', 'list-done-1', 'list-done-0']);
    expect(page3.nextCursor).toBeUndefined();
    const running = await t.client.list({ status: 'running' });
    expect(running.workflows.map((w) => [w.workflowId, w.workflowType, w.status])).toEqual([
      ['list-waiting-1', 'WeeklyReminderWorkflow', 'running'],
      ['list-waiting-0', 'WeeklyReminderWorkflow', 'running'],
    ]);
  });
});

describe('TestWorkflowEnvironment', () => {
  test('a seven-day sleep is tested in well under a second by moving the clock', async () => {
    const env = await TestWorkflowEnvironment.create({
      connection: testConnection(),
      providers: [WeeklyReminderWorkflow],
    });
    try {
      const started = Date.now();
      const handle = await env.client.start(WeeklyReminderWorkflow, { workflowId: 'weekly' });
      await until('the timer to start', async () =>
        (await handle.fetchHistory()).some((e) => e.type === 'TimerStarted'),
      );
      expect(await env.advanceTime('6 days')).toBe(0);
      expect(await env.advanceTime('1 day')).toBe(1);
      expect(await handle.result()).toEqual({ waitedDays: 7 });
      expect(Date.now() - started).toBeLessThan(5000); // it did not wait a week (typically ~100 ms)
    } finally {
      await env.close();
    }
  });
});
