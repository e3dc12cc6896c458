import { afterEach, describe, expect, test } from '@jest/globals';
import { Signal, Workflow, WorkflowAlreadyStartedError, WorkflowIdReuseError, WorkflowRun } from 'redurable';
import { condition } from 'redurable/workflow';
import { createTestApp, type TestApp } from '../support/test-app.js';

@Workflow({ taskQueue: 'policies' })
class GateWorkflow {
  private open = false;

  @WorkflowRun()
  async run(outcome: 'pass' | 'fail') {
    await condition(() => this.open);
    if (outcome === 'fail') throw new Error('failed on purpose');
    return 'passed';
  }

  @Signal() release() {
    this.open = true;
  }
}

let t: TestApp;
afterEach(async () => t?.close());

async function finish(id: string, outcome: 'pass' | 'fail') {
  const handle = await t.client.start(GateWorkflow, { workflowId: id, args: [outcome] });
  await handle.signal('release');
  await handle.result().catch(() => undefined);
  return handle;
}

describe('workflow id policies', () => {
  test('reuse policies for a closed id: allow duplicate, allow duplicate failed only, reject duplicate', async () => {
    t = await createTestApp([GateWorkflow]);
    await finish('reuse-ok', 'pass');
    await expect(t.client.start(GateWorkflow, { workflowId: 'reuse-ok', args: ['pass'] })).resolves.toBeDefined();

    await finish('reuse-failed-only', 'pass');
    const rejected = await t.client
      .start(GateWorkflow, {
        workflowId: 'reuse-failed-only',
        args: ['pass'],
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      })
      .catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(WorkflowIdReuseError);
    expect((rejected as Error).message).toContain('last run completed');
    await finish('reuse-failed-only-2', 'fail');
    await expect(
      t.client.start(GateWorkflow, {
        workflowId: 'reuse-failed-only-2',
        args: ['pass'],
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      }),
    ).resolves.toBeDefined();

    await finish('reuse-never', 'fail');
    const before = await t.client.getHandle('reuse-never').describe();
    const never = await t.client
      .start(GateWorkflow, { workflowId: 'reuse-never', args: ['pass'], workflowIdReusePolicy: 'REJECT_DUPLICATE' })
      .catch((e: unknown) => e);
    expect(never).toBeInstanceOf(WorkflowIdReuseError);
    expect((await t.client.getHandle('reuse-never').describe()).runId).toBe(before.runId);
  });

  test('conflict policies for a running id: fail, use existing, terminate existing', async () => {
    t = await createTestApp([GateWorkflow]);
    const first = await t.client.start(GateWorkflow, { workflowId: 'conflict', args: ['pass'] });
    await expect(t.client.start(GateWorkflow, { workflowId: 'conflict', args: ['pass'] })).rejects.toBeInstanceOf(
      WorkflowAlreadyStartedError,
    );
    const existing = await t.client.start(GateWorkflow, {
      workflowId: 'conflict',
      args: ['pass'],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    expect(existing.runId).toBe(first.runId);
    const replacement = await t.client.start(GateWorkflow, {
      workflowId: 'conflict',
      args: ['pass'],
      workflowIdConflictPolicy: 'TERMINATE_EXISTING',
    });
    expect(replacement.runId).not.toBe(first.runId);
    const old = await t.client.getHandle('conflict', first.runId).fetchHistory();
    expect(old[old.length - 1]).toMatchObject({ type: 'WorkflowExecutionTerminated' });
    expect((await t.client.getHandle('conflict').describe()).status).toBe('running');
  });

  test('two concurrent starts of one id under reject: exactly one wins', async () => {
    t = await createTestApp([GateWorkflow]);
    for (let round = 0; round < 5; round++) {
      const id = `race-${round}`;
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () =>
          t.client.start(GateWorkflow, { workflowId: id, args: ['pass'], workflowIdReusePolicy: 'REJECT_DUPLICATE' }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results)
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(WorkflowAlreadyStartedError);
      expect(
        (await t.client.getHandle(id).fetchHistory()).filter((e) => e.type === 'WorkflowExecutionStarted'),
      ).toHaveLength(1);
    }
  });
});
