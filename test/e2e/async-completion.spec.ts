import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  Activities,
  Activity,
  ActivityFailure,
  ActivityNotAwaitingError,
  InvalidTaskTokenError,
  Signal,
  Workflow,
  WorkflowRun,
  activityContext,
} from 'redurable';
import { condition, nonCancellable } from 'redurable/workflow';
import { DurableRuntime } from 'redurable/internal';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

/** Task tokens handed out, by `<workflow id>#<attempt>`, and the heartbeat details each attempt found. */
const tokens = new Map<string, string>();
const resumedFrom = new Map<string, unknown>();

@Injectable()
@Activities()
class PrinterActivities {
  @Activity({ startToCloseTimeout: '1h' })
  async requestApproval(request: string): Promise<string> {
    const ctx = activityContext();
    tokens.set(`${ctx.workflowId}#${ctx.attempt}`, ctx.completeAsync());
    return `ignored: ${request}`;
  }

  @Activity({ heartbeatTimeout: '700ms', retry: { initialInterval: '50ms', maximumAttempts: 3 } })
  async fixPrinter(): Promise<string> {
    const ctx = activityContext();
    resumedFrom.set(`${ctx.workflowId}#${ctx.attempt}`, ctx.heartbeatDetails);
    tokens.set(`${ctx.workflowId}#${ctx.attempt}`, ctx.completeAsync());
    return 'ignored';
  }
}

/** Waits for an approval that a cancellation makes moot; reports how its call ended. */
@Workflow({ taskQueue: 'async-completion' })
class CancelledApprovalWorkflow {
  private done = false;

  constructor(private readonly printers: PrinterActivities) {}

  @WorkflowRun()
  async run(): Promise<string> {
    try {
      return await this.printers.fixPrinter();
    } catch (err) {
      await nonCancellable(() => condition(() => this.done));
      return `caught ${(err as Error).constructor.name}`;
    }
  }

  @Signal() finish(): void {
    this.done = true;
  }
}

@Workflow({ taskQueue: 'async-completion' })
class ApprovalWorkflow {
  constructor(private readonly printers: PrinterActivities) {}

  @WorkflowRun()
  async run(kind: 'approval' | 'printer'): Promise<string> {
    try {
      return kind === 'approval' ? await this.printers.requestApproval('expense 42') : await this.printers.fixPrinter();
    } catch (err) {
      return `failed: ${((err as ActivityFailure).cause as Error | undefined)?.message}`;
    }
  }
}

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
  tokens.clear();
  resumedFrom.clear();
});

const tokenOf = (key: string) => until(`the task token of ${key}`, () => tokens.get(key));

describe('async activity completion', () => {
  test('an activity completed later from outside: the workflow gets the given result, the job is gone, a second completion is refused', async () => {
    t = await createTestApp([PrinterActivities, ApprovalWorkflow, CancelledApprovalWorkflow]);
    const handle = await t.client.start(ApprovalWorkflow, { workflowId: 'approve-1', args: ['approval'] });
    const token = await tokenOf('approve-1#1');
    const waiting = await until('the parked job', async () => {
      const [pending] = (await handle.describe()).pendingActivities;
      return pending?.state === 'delayed' && pending;
    });
    expect(waiting).toMatchObject({ activityType: 'requestApproval', attempt: 1 });
    // Waiting for an outside completion, not for a retry.
    expect(waiting.nextAttemptAt).toBeUndefined();
    expect(waiting.awaitingCompletion!.since.getTime()).toBeGreaterThan(Date.now() - 10_000);

    await t.client.activity.complete(token, 'approved by ada');
    await expect(handle.result()).resolves.toBe('approved by ada');
    const queue = await t.app.get(DurableRuntime).queues.activityFor('async-completion', 'approve-1');
    expect(await queue.getJob(waiting.jobId)).toBeUndefined(); // the parked job was removed, not left to time out
    const history = await handle.fetchHistory();
    expect(history.filter((e) => e.type === 'ActivityTaskCompleted')).toMatchObject([{ seq: 1, attempt: 1 }]);
    expect(
      await t.client.decodePayload(
        (history.find((e) => e.type === 'ActivityTaskCompleted') as { result: string }).result,
      ),
    ).toBe('approved by ada');

    const again = await t.client.activity.complete(token, 'approved twice').catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ActivityNotAwaitingError);
    expect((again as Error).message).toContain(
      `Activity seq 1 (attempt 1) of workflow 'approve-1' (run ${handle.runId}) is not waiting for completion`,
    );
    await expect(t.client.activity.complete('not-a-token', 1)).rejects.toBeInstanceOf(InvalidTaskTokenError);
  });

  test('task tokens are signed: an altered, made-up or other-prefix token is refused with InvalidTaskTokenError and records nothing', async () => {
    t = await createTestApp([PrinterActivities, ApprovalWorkflow, CancelledApprovalWorkflow]);
    const handle = await t.client.start(ApprovalWorkflow, { workflowId: 'approve-signed', args: ['approval'] });
    const token = await tokenOf('approve-signed#1');
    const [payload, signature] = token.split('.');
    const fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown[];
    // The same attempt with another seq, under the original signature.
    const altered = `${Buffer.from(JSON.stringify([fields[0], fields[1], fields[2], 2, fields[4], fields[5]])).toString('base64url')}.${signature}`;
    // A made-up token of the right shape, signed with a guessed secret.
    const madeUp = `${payload}.${Buffer.alloc(32, 7).toString('base64url')}`;
    for (const bad of [altered, madeUp, payload]) {
      const err = await t.client.activity.complete(bad, 'forged').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidTaskTokenError);
      expect((err as Error).message).toContain('Invalid task token');
    }
    // A client of another prefix (another secret) cannot use it either.
    const other = await createTestApp([], { worker: false });
    try {
      const err = await other.client.activity.complete(token, 'from elsewhere').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidTaskTokenError);
      expect((err as Error).message).toContain('its signature does not match');
    } finally {
      await other.close();
    }
    // Nothing was recorded: the activity still waits, and the real token completes it.
    expect((await handle.fetchHistory()).some((e) => e.type === 'ActivityTaskCompleted')).toBe(false);
    await t.client.activity.complete(token, 'approved');
    await expect(handle.result()).resolves.toBe('approved');
  });

  test("taskTokenSecret: processes of a prefix that give the same secret accept each other's tokens", async () => {
    const taskTokenSecret = 'a-secret-of-at-least-32-characters-long';
    t = await createTestApp([PrinterActivities, ApprovalWorkflow, CancelledApprovalWorkflow], { taskTokenSecret });
    const handle = await t.client.start(ApprovalWorkflow, { workflowId: 'approve-secret', args: ['approval'] });
    const token = await tokenOf('approve-secret#1');
    const other = await createTestApp([], { worker: false, prefix: t.prefix, taskTokenSecret });
    try {
      await other.client.activity.complete(token, 'approved elsewhere');
    } finally {
      await other.close();
    }
    await expect(handle.result()).resolves.toBe('approved elsewhere');
  });

  test('fail(token, error) fails the activity for good: the workflow call rejects with an ActivityFailure caused by it', async () => {
    t = await createTestApp([PrinterActivities, ApprovalWorkflow, CancelledApprovalWorkflow]);
    const handle = await t.client.start(ApprovalWorkflow, { workflowId: 'approve-2', args: ['approval'] });
    await t.client.activity.fail(await tokenOf('approve-2#1'), new Error('rejected by grace'));
    await expect(handle.result()).resolves.toBe('failed: rejected by grace');
  });

  test('timeouts still apply: heartbeats through the client keep the attempt alive, silence times it out, and the retry gets a new token and the details', async () => {
    t = await createTestApp([PrinterActivities, ApprovalWorkflow, CancelledApprovalWorkflow]);
    const handle = await t.client.start(ApprovalWorkflow, { workflowId: 'printer-1', args: ['printer'] });
    const first = await tokenOf('printer-1#1');
    // 1.5 s of heartbeats, twice the heartbeat timeout: the first attempt stays alive.
    for (let i = 1; i <= 5; i++) {
      await new Promise((r) => setTimeout(r, 300));
      await t.client.activity.heartbeat(first, { step: `unjammed tray ${i}` });
    }
    expect(tokens.has('printer-1#2')).toBe(false);
    // Then silence: the attempt times out and the retry runs the activity again.
    const second = await tokenOf('printer-1#2');
    expect(second).not.toBe(first);
    expect(resumedFrom.get('printer-1#2')).toEqual({ step: 'unjammed tray 5' });
    const stale = await t.client.activity.complete(first, 'too late').catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(ActivityNotAwaitingError);
    expect((stale as Error).message).toContain('attempt 1 timed out; attempt 2 is the current one');
    await t.client.activity.complete(second, 'printer fixed');
    await expect(handle.result()).resolves.toBe('printer fixed');
  });

  test('a parked attempt of a cancelled workflow ends as cancelled when it wakes: it is not retried, no new token is handed out', async () => {
    t = await createTestApp([PrinterActivities, ApprovalWorkflow, CancelledApprovalWorkflow]);
    const handle = await t.client.start(CancelledApprovalWorkflow, { workflowId: 'printer-cancelled' });
    const first = await tokenOf('printer-cancelled#1');
    await handle.cancel('the printer was replaced');
    // The heartbeat timeout (700 ms) wakes the parked job: it sees the cancellation.
    const failed = await until('the attempt to end', async () =>
      (await handle.fetchHistory()).find((e) => e.type === 'ActivityTaskFailed'),
    );
    expect(failed).toMatchObject({
      seq: 1,
      attempt: 1,
      failure: { message: expect.stringContaining("was cancelled while activity 'fixPrinter'") },
    });
    await new Promise((r) => setTimeout(r, 1000));
    expect(tokens.has('printer-cancelled#2')).toBe(false);
    await expect(t.client.activity.complete(first, 'too late')).rejects.toBeInstanceOf(ActivityNotAwaitingError);
    await handle.signal('finish');
    await expect(handle.result()).resolves.toBe('caught CancelledFailure');
  });
});
