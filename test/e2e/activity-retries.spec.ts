import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  Activities,
  Activity,
  ActivityFailure,
  ApplicationFailure,
  Workflow,
  WorkflowFailedError,
  WorkflowRun,
  activityContext,
} from 'redurable';
import { proxyActivities, proxyLocalActivities } from 'redurable/workflow';
import { createTestApp, type TestApp } from '../support/test-app.js';

class FrozenAccountError extends Error {
  override name = 'FrozenAccountError';
}

/** Attempt times per activity id, so tests can check the backoff between attempts. */
const attempts = new Map<string, number[]>();
function recordAttempt(): number {
  const ctx = activityContext();
  const key = `${ctx.workflowId}/${ctx.activityType}`;
  const list = attempts.get(key) ?? [];
  list.push(Date.now());
  attempts.set(key, list);
  return list.length;
}

@Injectable()
@Activities()
class FlakyActivities {
  @Activity({ retry: { initialInterval: '100ms', backoffCoefficient: 2, maximumAttempts: 5 } })
  async flaky(): Promise<string> {
    const n = recordAttempt();
    if (n < 3) throw new Error(`bank unavailable (attempt ${n})`);
    return `ok after ${n}`;
  }

  @Activity({ retry: { initialInterval: '50ms', maximumAttempts: 5 } })
  async refuses(): Promise<string> {
    recordAttempt();
    throw ApplicationFailure.nonRetryable('card declined', 'CardDeclined');
  }

  @Activity({ retry: { initialInterval: '50ms', maximumAttempts: 5, nonRetryableErrorTypes: ['FrozenAccountError'] } })
  async frozen(): Promise<string> {
    recordAttempt();
    throw new FrozenAccountError('account 42 is frozen');
  }

  /** Works through `total` items, heartbeating the next one; attempt 1 fails after item 2. */
  @Activity({ retry: { initialInterval: '50ms', backoffCoefficient: 1, maximumAttempts: 3 } })
  async resumable(total: number): Promise<{ attempt: number; from: number }> {
    const ctx = activityContext();
    const seen = resumed.get(ctx.workflowId) ?? { details: [], processed: [] };
    resumed.set(ctx.workflowId, seen);
    seen.details.push(ctx.heartbeatDetails);
    const from = (ctx.heartbeatDetails as { next: number } | undefined)?.next ?? 0;
    for (let i = from; i < total; i++) {
      seen.processed.push(i);
      ctx.heartbeat({ next: i + 1 });
      if (ctx.attempt === 1 && i === 2) throw new Error('connection reset after item 2');
    }
    return { attempt: ctx.attempt, from };
  }

  @Activity({ retry: { initialInterval: '20ms', backoffCoefficient: 1, maximumAttempts: 3 } })
  async alwaysFails(): Promise<string> {
    const n = recordAttempt();
    throw new TypeError(`still broken (attempt ${n})`);
  }
}

@Workflow({ taskQueue: 'retries' })
class RetryWorkflow {
  private readonly acts = proxyActivities(FlakyActivities);

  @WorkflowRun()
  async run(which: 'flaky' | 'refuses' | 'frozen' | 'alwaysFails') {
    try {
      return { value: await this.acts[which]() };
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      const cause = err.cause as ApplicationFailure;
      return {
        caught: err.name,
        retryState: err.retryState,
        attempt: err.attempt,
        causeType: cause.type,
        causeMessage: cause.message,
        hasStack: (cause.stack ?? '').includes('activity-retries.spec'),
      };
    }
  }
}

/** What each attempt of `resumable` saw as heartbeat details, and the items it processed. */
const resumed = new Map<string, { details: unknown[]; processed: number[] }>();

@Workflow({ taskQueue: 'retries' })
class ResumeWorkflow {
  @WorkflowRun()
  async run(local: boolean) {
    return (local ? proxyLocalActivities(FlakyActivities) : proxyActivities(FlakyActivities)).resumable(5);
  }
}

@Workflow({ taskQueue: 'retries' })
class UncaughtWorkflow {
  private readonly acts = proxyActivities(FlakyActivities);

  @WorkflowRun()
  async run() {
    return this.acts.refuses();
  }
}

let t: TestApp;
afterEach(async () => t?.close());

describe('activity retries', () => {
  test('an activity that throws twice then succeeds is retried with the configured backoff and recorded once', async () => {
    t = await createTestApp([FlakyActivities, RetryWorkflow]);
    const handle = await t.client.start(RetryWorkflow, { workflowId: 'retry-flaky', args: ['flaky'] });
    expect(await handle.result()).toEqual({ value: 'ok after 3' });

    const times = attempts.get('retry-flaky/flaky')!;
    expect(times).toHaveLength(3);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(90); // initialInterval 100ms
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(190); // x2 backoff

    const history = await handle.fetchHistory();
    const outcomes = history.filter((e) => e.type === 'ActivityTaskCompleted' || e.type === 'ActivityTaskFailed');
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ type: 'ActivityTaskCompleted', seq: 1, attempt: 3 });
  });

  test('a non-retryable ApplicationFailure is not retried and reaches the workflow as ActivityFailure', async () => {
    t = await createTestApp([FlakyActivities, RetryWorkflow]);
    const result = await t.client.execute(RetryWorkflow, { workflowId: 'retry-refuses', args: ['refuses'] });
    expect(result).toEqual({
      caught: 'ActivityFailure',
      retryState: 'NON_RETRYABLE_FAILURE',
      attempt: 1,
      causeType: 'CardDeclined',
      causeMessage: 'card declined',
      hasStack: true,
    });
    expect(attempts.get('retry-refuses/refuses')).toHaveLength(1);
  });

  test('an error type listed in nonRetryableErrorTypes is not retried', async () => {
    t = await createTestApp([FlakyActivities, RetryWorkflow]);
    const result = await t.client.execute(RetryWorkflow, { workflowId: 'retry-frozen', args: ['frozen'] });
    expect(result).toMatchObject({
      caught: 'ActivityFailure',
      retryState: 'NON_RETRYABLE_FAILURE',
      causeType: 'FrozenAccountError',
      causeMessage: 'account 42 is frozen',
    });
    expect(attempts.get('retry-frozen/frozen')).toHaveLength(1);
  });

  test('exhausted attempts reach the workflow as ActivityFailure whose cause is the last error', async () => {
    t = await createTestApp([FlakyActivities, RetryWorkflow]);
    const handle = await t.client.start(RetryWorkflow, { workflowId: 'retry-exhausted', args: ['alwaysFails'] });
    expect(await handle.result()).toEqual({
      caught: 'ActivityFailure',
      retryState: 'MAXIMUM_ATTEMPTS_REACHED',
      attempt: 3,
      causeType: 'TypeError',
      causeMessage: 'still broken (attempt 3)',
      hasStack: true,
    });
    expect(attempts.get('retry-exhausted/alwaysFails')).toHaveLength(3);
    const failed = (await handle.fetchHistory()).filter((e) => e.type === 'ActivityTaskFailed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ attempt: 3 });
  });

  test('an uncaught activity failure fails the workflow; result() rejects with the cause chain', async () => {
    t = await createTestApp([FlakyActivities, UncaughtWorkflow]);
    const handle = await t.client.start(UncaughtWorkflow, { workflowId: 'retry-uncaught' });
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as Error).message).toContain("Workflow 'retry-uncaught'");
    expect((err as Error).message).toContain('card declined');
    const activityFailure = (err as Error).cause as ActivityFailure;
    expect(activityFailure).toBeInstanceOf(ActivityFailure);
    expect(activityFailure.activityType).toBe('refuses');
    expect((activityFailure.cause as ApplicationFailure).type).toBe('CardDeclined');
    const description = await handle.describe();
    expect(description.status).toBe('failed');
    expect(description.failure?.message).toContain('card declined');
  });

  test.each([
    [false, 'an activity (the details are kept in its job)'],
    [true, 'a local activity (the next attempt in the task)'],
  ])(
    'heartbeat details reach the next attempt, which resumes where the failed one stopped (local: %s, %s)',
    async (local) => {
      t = await createTestApp([FlakyActivities, ResumeWorkflow]);
      const id = `resume-${local}`;
      expect(await t.client.execute(ResumeWorkflow, { workflowId: id, args: [local] })).toEqual({
        attempt: 2,
        from: 3,
      });
      expect(resumed.get(id)).toEqual({ details: [undefined, { next: 3 }], processed: [0, 1, 2, 3, 4] });
    },
  );
});
