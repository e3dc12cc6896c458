import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Activities, Activity, NonDeterminismError, Workflow, WorkflowRun } from 'redurable';
import { proxyActivities, sleep } from 'redurable/workflow';
import { replayHistory } from 'redurable/testing';
import { until } from '../support/until.js';
import { cliConnectionFlags, createTestApp, type TestApp } from '../support/test-app.js';
import { runCli } from '../support/cli.js';

@Injectable()
@Activities()
class StepActivities {
  @Activity() async stepA(): Promise<string> {
    return 'A';
  }
  @Activity() async stepB(): Promise<string> {
    return 'B';
  }
}

@Workflow({ name: 'Reorderable', taskQueue: 'nondet' })
class OriginalWorkflow {
  private readonly steps = proxyActivities(StepActivities);

  @WorkflowRun()
  async run() {
    const a = await this.steps.stepA();
    await sleep(1500);
    const b = await this.steps.stepB();
    return a + b;
  }
}

/** The same workflow type after a careless edit: the activities swapped places. */
@Workflow({ name: 'Reorderable', taskQueue: 'nondet' })
class ReorderedWorkflow {
  private readonly steps = proxyActivities(StepActivities);

  @WorkflowRun()
  async run() {
    const b = await this.steps.stepB();
    await sleep(1500);
    const a = await this.steps.stepA();
    return a + b;
  }
}

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('non-determinism', () => {
  test('reordered code raises a non-determinism error on replay without corrupting the workflow; restoring the code lets it finish', async () => {
    t = await createTestApp([StepActivities, OriginalWorkflow]);
    const prefix = t.prefix;
    const handle = await t.client.start(OriginalWorkflow, { workflowId: 'reorder-1' });
    await until('the timer to start', async () => (await handle.fetchHistory()).some((e) => e.type === 'TimerStarted'));
    await t.close();

    // A new deployment with reordered code: it has no cached execution, so it replays.
    // (It would not boot past the replay gate: this test is of what happens when it is off.)
    t = await createTestApp([StepActivities, ReorderedWorkflow], { prefix, replayCheck: false });
    const before = await t.client.getHandle('reorder-1').fetchHistory();
    const failed = await until(
      'the task failure',
      async () => (await t!.client.getHandle('reorder-1').describe()).taskFailure,
    );
    expect(failed.message).toContain('NonDeterminismError');
    expect(failed.message).toContain("workflow 'reorder-1'");
    expect(failed.message).toContain('history event #2');
    expect(failed.message).toContain('ActivityTaskScheduled(stepA) seq 1');
    expect(failed.message).toContain('ActivityTaskScheduled(stepB) seq 1');
    // Side by side: the mismatch, the recorded step the code never reached, and the code's line.
    const lines = failed.message.split('\n');
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^ {2}> #2 +ActivityTaskScheduled\(stepA\) seq 1 +produced ActivityTaskScheduled\(stepB\) seq 1$/,
      ),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^ {4}#4 +TimerStarted\(1500ms\) seq 2 +-$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}the code's call: .*non-determinism\.spec\.[jt]s:\d+:\d+/));
    // The CLI's describe shows the same view.
    const shown = await runCli(['workflow', 'describe', 'reorder-1', '--prefix', prefix, ...cliConnectionFlags()]);
    expect(shown.stdout).toContain(lines.find((l) => l.startsWith('  > #2')));
    const described = await t.client.getHandle('reorder-1').describe();
    expect(described.status).toBe('running');
    // Nothing was written by the failing code: the history only gained the timer's firing.
    const during = await t.client.getHandle('reorder-1').fetchHistory();
    expect(during.slice(0, before.length)).toEqual(before);
    expect(during.filter((e) => e.type === 'ActivityTaskScheduled')).toHaveLength(1);

    // replayHistory reports the same mismatch offline.
    const offline = await replayHistory(ReorderedWorkflow, during).catch((e: unknown) => e);
    expect(offline).toBeInstanceOf(NonDeterminismError);
    expect((offline as NonDeterminismError).eventId).toBe(2);
    await t.close();

    // The fix is deployed: the retried workflow task replays cleanly and the workflow completes.
    t = await createTestApp([StepActivities, OriginalWorkflow], { prefix });
    expect(await t.client.getHandle<string>('reorder-1').result()).toBe('AB');
    const after = await t.client.getHandle('reorder-1').describe();
    expect(after.status).toBe('completed');
    expect(after.taskFailure).toBeUndefined();
  }, 30_000);
});
