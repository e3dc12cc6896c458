import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import {
  Activities,
  Activity,
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  Signal,
  Workflow,
  WorkflowFailedError,
  WorkflowRun,
  activityContext,
  type HistoryEvent,
} from 'redurable';
import { proxyActivities, proxyLocalActivities } from 'redurable/workflow';
import { DurableRuntime } from 'redurable/internal';
import { replayHistory } from 'redurable/testing';
import { createTestApp, testQueue, type TestApp } from '../support/test-app.js';

/** Every call, by workflow id and activity type: its attempt, idempotency key and time. */
const calls = new Map<string, { attempt: number; key: string; at: number }[]>();
function recordCall(): number {
  const ctx = activityContext();
  const key = `${ctx.workflowId}/${ctx.activityType}`;
  const list = calls.get(key) ?? [];
  list.push({ attempt: ctx.attempt, key: ctx.idempotencyKey, at: Date.now() });
  calls.set(key, list);
  return list.length;
}

@Injectable()
@Activities()
class QuoteActivities {
  @Activity() async quote(amount: number): Promise<number> {
    recordCall();
    return amount * 2;
  }

  @Activity() async book(amount: number): Promise<string> {
    recordCall();
    return `booked ${amount}`;
  }

  @Activity({ retry: { initialInterval: '50ms', backoffCoefficient: 1, maximumAttempts: 5 } })
  async flaky(): Promise<string> {
    const n = recordCall();
    if (n < 3) throw new Error(`rate service busy (call ${n})`);
    return `ok on attempt ${activityContext().attempt}`;
  }

  @Activity({ retry: { initialInterval: '300ms', backoffCoefficient: 1, maximumAttempts: 5 } })
  async slowRetry(): Promise<string> {
    const n = recordCall();
    if (n < 2) throw new Error('ledger locked');
    return `ok on attempt ${activityContext().attempt}`;
  }

  @Activity({ retry: { maximumAttempts: 5 } })
  async declined(): Promise<string> {
    recordCall();
    throw ApplicationFailure.nonRetryable('card declined', 'CardDeclined');
  }

  @Activity() async slow(i: number): Promise<number> {
    recordCall();
    await new Promise((r) => setTimeout(r, 200));
    return i;
  }
}

@Workflow({ taskQueue: 'local' })
class QuoteWorkflow {
  private readonly local = proxyLocalActivities(QuoteActivities);
  private readonly acts = proxyActivities(QuoteActivities);

  /** Three local quotes, an activity, and a local quote after it (the step that follows an activity's outcome). */
  @WorkflowRun() async run(amount: number): Promise<string> {
    let total = 0;
    for (let i = 1; i <= 3; i++) total += await this.local.quote(amount * i);
    const booked = await this.acts.book(total);
    return `${booked}, then ${await this.local.quote(1)}`;
  }
}

@Workflow({ taskQueue: 'local' })
class RetryingWorkflow {
  @WorkflowRun() async run(which: 'flaky' | 'slowRetry' | 'declined'): Promise<unknown> {
    const local = proxyLocalActivities(QuoteActivities, { localRetryThreshold: '100ms' });
    try {
      return await local[which]();
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      return { caught: err.retryState, cause: (err.cause as Error).message, attempt: err.attempt };
    }
  }
}

@Workflow({ taskQueue: 'local' })
class SlowChainWorkflow {
  private readonly local = proxyLocalActivities(QuoteActivities);
  @WorkflowRun() async run(n: number): Promise<number> {
    let sum = 0;
    for (let i = 1; i <= n; i++) sum += await this.local.slow(i);
    return sum;
  }
}

/** Local activities (after an activity when `afterActivity`), noting after each whether a signal had come. */
@Workflow({ taskQueue: 'local' })
class PokedWorkflow {
  private readonly local = proxyLocalActivities(QuoteActivities);
  private readonly acts = proxyActivities(QuoteActivities);
  private poked = false;

  @Signal() poke(): void {
    this.poked = true;
  }

  @WorkflowRun() async run(afterActivity: boolean): Promise<boolean[]> {
    if (afterActivity) await this.acts.book(1);
    const seen: boolean[] = [];
    for (let i = 1; i <= 4; i++) {
      await this.local.slow(i);
      seen.push(this.poked);
    }
    return seen;
  }
}

let t: TestApp;
let queue: Queue | undefined;
afterEach(async () => {
  await queue?.close();
  queue = undefined;
  await t?.close();
});

const providers = [QuoteActivities, QuoteWorkflow, RetryingWorkflow, SlowChainWorkflow, PokedWorkflow];
const types = (h: HistoryEvent[]) =>
  h.map((e) => (e.type === 'ActivityTaskScheduled' ? `${e.local ? 'local ' : ''}${e.activityType}` : e.type));

describe('local activities', () => {
  test('run in the workflow task, are recorded with their outcome, make no job, and replay without running again', async () => {
    // Eager activities off: the one activity is a job, the local ones are not.
    t = await createTestApp(providers, { eagerActivities: false });
    const handle = await t.client.start(QuoteWorkflow, { workflowId: 'local-quote', args: [10] });
    expect(await handle.result()).toBe('booked 120, then 2');

    const history = await handle.fetchHistory();
    expect(types(history)).toEqual([
      'WorkflowExecutionStarted',
      'local quote',
      'ActivityTaskCompleted',
      'local quote',
      'ActivityTaskCompleted',
      'local quote',
      'ActivityTaskCompleted',
      'book',
      'ActivityTaskCompleted',
      'local quote',
      'ActivityTaskCompleted',
      'WorkflowExecutionCompleted',
    ]);
    expect(history.find((e) => e.type === 'ActivityTaskScheduled' && e.local)).toMatchObject({ local: { attempt: 1 } });
    // Same context as an activity: attempt and idempotency key (workflow/run/seq).
    expect(calls.get('local-quote/quote')!.map((c) => c.key)).toEqual(
      [1, 2, 3, 5].map((seq) => `local-quote/${handle.runId}/${seq}`),
    );
    expect(calls.get('local-quote/quote')!.every((c) => c.attempt === 1)).toBe(true);

    // One job on the activity queue: the activity's; the local ones never were jobs.
    queue = testQueue('{local-activities}', t.prefix);
    const jobs = await queue.getJobs(['completed', 'waiting', 'active', 'failed', 'delayed']);
    expect(jobs.map((j) => j.name)).toEqual(['book']);

    // Replaying the history feeds the recorded outcomes: nothing runs again.
    const before = calls.get('local-quote/quote')!.length;
    expect((await replayHistory(QuoteWorkflow, history)).closing).toMatchObject({ status: 'completed' });
    expect(calls.get('local-quote/quote')).toHaveLength(before);
  });

  test('a failed attempt whose backoff is under localRetryThreshold is retried inside the task: one outcome, no timer', async () => {
    t = await createTestApp(providers);
    const handle = await t.client.start(RetryingWorkflow, { workflowId: 'local-flaky', args: ['flaky'] });
    expect(await handle.result()).toBe('ok on attempt 3');
    const times = calls.get('local-flaky/flaky')!.map((c) => c.at);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(45);
    expect(types(await handle.fetchHistory())).toEqual([
      'WorkflowExecutionStarted',
      'local flaky',
      'ActivityTaskCompleted',
      'WorkflowExecutionCompleted',
    ]);
    expect((await handle.fetchHistory())[2]).toMatchObject({ type: 'ActivityTaskCompleted', attempt: 3 });
  });

  test('a longer backoff waits on a durable timer, then the next attempt runs as a new local activity', async () => {
    t = await createTestApp(providers);
    const handle = await t.client.start(RetryingWorkflow, { workflowId: 'local-slow-retry', args: ['slowRetry'] });
    expect(await handle.result()).toBe('ok on attempt 2');
    const history = await handle.fetchHistory();
    expect(types(history)).toEqual([
      'WorkflowExecutionStarted',
      'local slowRetry',
      'ActivityTaskFailed',
      'TimerStarted',
      'TimerFired',
      'local slowRetry',
      'ActivityTaskCompleted',
      'WorkflowExecutionCompleted',
    ]);
    expect(history[2]).toMatchObject({
      type: 'ActivityTaskFailed',
      attempt: 1,
      backoffMs: 300,
      failure: { message: 'ledger locked' },
    });
    expect(history[3]).toMatchObject({ type: 'TimerStarted', durationMs: 300 });
    expect(history[5]).toMatchObject({ local: { attempt: 2 } });
    const times = calls.get('local-slow-retry/slowRetry')!.map((c) => c.at);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(290);
  });

  test('a non-retryable failure reaches the workflow as ActivityFailure after one attempt', async () => {
    t = await createTestApp(providers);
    const result = await t.client.execute(RetryingWorkflow, { workflowId: 'local-declined', args: ['declined'] });
    expect(result).toEqual({ caught: 'NON_RETRYABLE_FAILURE', cause: 'card declined', attempt: 1 });
    expect(calls.get('local-declined/declined')).toHaveLength(1);
  });

  test('local activities running longer than the lease keep it: recorded as they go, each runs once', async () => {
    // 8 × 200 ms in one task with a 1 s lease. At 1.3 s another process tries to take the
    // workflow's task, as a worker woken by a signal would: had the lease expired, it would get
    // it, and the local activities would run again in its task.
    t = await createTestApp(providers, { leaseTtl: '1s' });
    const other = await createTestApp([], { prefix: t.prefix, worker: false, leaseTtl: '1s' });
    const handle = await t.client.start(SlowChainWorkflow, { workflowId: 'local-long', args: [8] });
    await new Promise((r) => setTimeout(r, 1300));
    const taken = await other.app.get(DurableRuntime).histories.acquire('local-long', handle.runId!, 1000);
    await other.close();
    expect(taken.kind).toBe('busy');
    expect(await handle.result()).toBe(36);
    expect(calls.get('local-long/slow')).toHaveLength(8);
    const completed = (await handle.fetchHistory()).filter((e) => e.type === 'ActivityTaskCompleted');
    expect(completed.map((e) => (e as { seq: number }).seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  // The code sees local outcomes before an event that arrives while they run; the history must
  // say the same, or a replay would take another path: such a commit is refused, and the task
  // replays the history (with the event first) and runs those local activities again.
  test.each([
    [false, 'in the first task'],
    [true, 'in the step after an activity'],
  ])(
    'a signal that arrives while local activities run (after an activity: %s, %s) is recorded before their outcomes; replay agrees',
    async (afterActivity) => {
      t = await createTestApp(providers, { leaseTtl: '1s' });
      const id = `local-poked-${afterActivity}`;
      const handle = await t.client.start(PokedWorkflow, { workflowId: id, args: [afterActivity] });
      await new Promise((r) => setTimeout(r, 250));
      await handle.signal('poke');
      const result = await handle.result();
      const history = await handle.fetchHistory();
      expect(result).toEqual((await replayHistory(PokedWorkflow, history)).result);
      const signalAt = history.findIndex((e) => e.type === 'SignalReceived');
      const firstLocalOutcome = history.findIndex(
        (e, i) =>
          e.type === 'ActivityTaskCompleted' &&
          history.some(
            (s, j) => j < i && s.type === 'ActivityTaskScheduled' && s.local && s.seq === (e as { seq: number }).seq,
          ),
      );
      expect(signalAt).toBeLessThan(firstLocalOutcome); // the signal came during the first local activity: recorded before its outcome
      expect(result).toEqual([true, true, true, true]);
      expect(calls.get(`${id}/slow`)!.length).toBeGreaterThan(4); // the first ran again after the refused commit
    },
  );

  test('a cancellation while a local activity runs cancels the workflow (the outcome the abort produced is not recorded)', async () => {
    t = await createTestApp(providers);
    const handle = await t.client.start(PokedWorkflow, { workflowId: 'local-cancelled', args: [false] });
    await new Promise((r) => setTimeout(r, 100));
    await handle.cancel('customer gave up');
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as Error).cause).toBeInstanceOf(CancelledFailure);
    expect((await handle.describe()).status).toBe('canceled');
    const history = await handle.fetchHistory();
    expect(history.some((e) => e.type === 'ActivityTaskFailed')).toBe(false);
    expect((await replayHistory(PokedWorkflow, history)).closing?.status).toBe('canceled');
  });
});
