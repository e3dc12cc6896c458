import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Activities, Activity, Workflow, WorkflowRun } from 'redurable';
import { proxyActivities, sleep, uuid4 } from 'redurable/workflow';
import { replayHistory } from 'redurable/testing';
import { createTestApp, type TestApp } from '../support/test-app.js';

@Injectable()
@Activities()
class MathActivities {
  @Activity() async square(n: number): Promise<number> {
    await new Promise((r) => setTimeout(r, (5 - n) * 15)); // later inputs finish first
    return n * n;
  }
  @Activity() async slow(ms: number): Promise<string> {
    await new Promise((r) => setTimeout(r, ms));
    return `slow ${ms}`;
  }
}

@Workflow({ taskQueue: 'replay' })
class ConcurrentWorkflow {
  private readonly math = proxyActivities(MathActivities);

  @WorkflowRun()
  async run() {
    const squares = await Promise.all([1, 2, 3, 4].map((n) => this.math.square(n)));
    const timerWins = await Promise.race([
      this.math.slow(400).then((v) => `activity: ${v}`),
      sleep(50).then(() => 'timer'),
    ]);
    const activityWins = await Promise.race([
      this.math.slow(10).then((v) => `activity: ${v}`),
      sleep(2000).then(() => 'timer'),
    ]);
    const order: string[] = [];
    await Promise.all([
      this.math.square(1).then(() => order.push('a')),
      this.math.slow(60).then(() => order.push('b')),
      sleep(30).then(() => order.push('t')),
    ]);
    return { squares, timerWins, activityWins, order, id: uuid4(), random: Math.random(), now: Date.now() };
  }
}

let t: TestApp;
afterEach(async () => t?.close());

describe('replay gives the same result as the first run', () => {
  test('Promise.all and Promise.race over activities and timers, with and without the workflow cache', async () => {
    t = await createTestApp([MathActivities, ConcurrentWorkflow]);
    const first = await t.client.execute(ConcurrentWorkflow, { workflowId: 'concurrent-cached' });
    expect(first.squares).toEqual([1, 4, 9, 16]);
    expect(first.timerWins).toBe('timer');
    expect(first.activityWins).toBe('activity: slow 10');
    expect([...first.order].sort()).toEqual(['a', 'b', 't']); // real timing decides the order; replay must reproduce it

    // The recorded history replayed from scratch ends the same way: same result, no non-determinism.
    const history = await t.client.getHandle('concurrent-cached').fetchHistory();
    const replay = await replayHistory(ConcurrentWorkflow, history);
    expect(replay.closing?.status).toBe('completed');
    expect(replay.result).toEqual(first);
    expect(replay.newCommands).toBe(0);
    await t.close();

    // With no cache every workflow task rebuilds the execution by replaying its history.
    t = await createTestApp([MathActivities, ConcurrentWorkflow], { workflowCacheSize: 0 });
    const uncached = await t.client.execute(ConcurrentWorkflow, { workflowId: 'concurrent-uncached' });
    expect({ ...uncached, id: '', random: 0, now: 0, order: [] }).toEqual({
      ...first,
      id: '',
      random: 0,
      now: 0,
      order: [],
    });
    const uncachedHistory = await t.client.getHandle('concurrent-uncached').fetchHistory();
    const uncachedReplay = await replayHistory(ConcurrentWorkflow, uncachedHistory);
    expect(uncachedReplay.result).toEqual(uncached);
    expect(
      uncachedHistory
        .filter((e) => 'seq' in e && e.type !== 'ActivityTaskCompleted' && e.type !== 'TimerFired')
        .map((e) => e.type),
    ).toEqual(
      history
        .filter((e) => 'seq' in e && e.type !== 'ActivityTaskCompleted' && e.type !== 'TimerFired')
        .map((e) => e.type),
    );
  });
});
