import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  Activities,
  Activity,
  CancelledFailure,
  Workflow,
  WorkflowFailedError,
  WorkflowRun,
  activityContext,
} from 'redurable';
import { Saga, nonCancellable, proxyActivities, sleep } from 'redurable/workflow';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

const events: string[] = [];

@Injectable()
@Activities()
class BookingActivities {
  @Activity({ compensatedBy: 'release' })
  async reserve(seat: string): Promise<string> {
    events.push(`reserve ${seat}`);
    return seat;
  }
  @Activity({ retry: { maximumAttempts: 1 } })
  async longPayment(seat: string): Promise<void> {
    const { signal } = activityContext();
    events.push(`pay ${seat} started`);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, 10_000);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          events.push(`pay ${seat} aborted: ${(signal.reason as Error).name}`);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }
  @Activity() async release(seat: string): Promise<void> {
    events.push(`release ${seat}`);
  }
}

@Workflow({ taskQueue: 'cancel' })
class BookingWorkflow {
  @WorkflowRun()
  async run(seat: string) {
    const saga = new Saga();
    const acts = saga.proxy(BookingActivities);
    try {
      await acts.reserve(seat);
      await acts.longPayment(seat);
      return 'booked';
    } catch (err) {
      await saga.compensate(); // runs even though the workflow is cancelled
      throw err;
    }
  }
}

@Workflow({ taskQueue: 'cancel' })
class SleeperWorkflow {
  @WorkflowRun()
  async run() {
    await sleep('1 hour');
    return 'woke';
  }
}

let t: TestApp;
afterEach(async () => t?.close());

describe('cancellation and termination', () => {
  test('cancel during a running activity aborts it, the workflow catches CancelledFailure and compensates, and ends canceled', async () => {
    t = await createTestApp([BookingActivities, BookingWorkflow]);
    const handle = await t.client.start(BookingWorkflow, { workflowId: 'booking-1', args: ['12A'] });
    await until('the payment to start', () => events.includes('pay 12A started'));
    await handle.cancel('customer changed their mind');

    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as Error).cause).toBeInstanceOf(CancelledFailure);
    expect((err as Error).message).toContain('customer changed their mind');
    expect(events).toEqual(['reserve 12A', 'pay 12A started', 'pay 12A aborted: CancelledFailure', 'release 12A']);

    const description = await handle.describe();
    expect(description.status).toBe('canceled');
    expect(description.compensations).toEqual([{ seq: 3, activityType: 'release', status: 'completed' }]);
    const types = (await handle.fetchHistory()).map((e) => e.type);
    expect(types).toContain('WorkflowCancelRequested');
    expect(types[types.length - 1]).toBe('WorkflowExecutionCanceled');
  });

  test('terminate stops a workflow at once without running its code, and records it', async () => {
    t = await createTestApp([BookingActivities, SleeperWorkflow]);
    const handle = await t.client.start(SleeperWorkflow, { workflowId: 'sleeper-1' });
    await until('the timer to start', async () => (await handle.fetchHistory()).some((e) => e.type === 'TimerStarted'));
    await handle.terminate('maintenance');
    const err = await handle.result().catch((e: unknown) => e);
    expect((err as Error).message).toContain('terminated: maintenance');
    const description = await handle.describe();
    expect(description.status).toBe('terminated');
    expect(description.failure).toMatchObject({ type: 'Terminated', message: 'terminated: maintenance' });
    const history = await handle.fetchHistory();
    expect(history.map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
      'TimerStarted',
      'WorkflowExecutionTerminated',
    ]);
    expect(await t.client.count({ status: 'terminated' })).toBe(1);
  });
});

@Injectable()
@Activities()
class ShieldedActivities {
  @Activity({ retry: { maximumAttempts: 1 } })
  async settle(id: string): Promise<string> {
    const { signal } = activityContext();
    events.push(`settle ${id} started`);
    await new Promise((r) => setTimeout(r, 400));
    events.push(`settle ${id} ${signal.aborted ? 'aborted' : 'finished'}`);
    return 'settled';
  }
}

@Workflow({ taskQueue: 'cancel' })
class ShieldedWorkflow {
  @WorkflowRun()
  async run(id: string) {
    const acts = proxyActivities(ShieldedActivities);
    const settled = await nonCancellable(() => acts.settle(id));
    await sleep('1 hour'); // cancellable: the cancellation lands here
    return settled;
  }
}

describe('nonCancellable', () => {
  test('an activity scheduled inside nonCancellable is not aborted by a cancel and its result is recorded', async () => {
    t = await createTestApp([ShieldedActivities, ShieldedWorkflow]);
    const handle = await t.client.start(ShieldedWorkflow, { workflowId: 'shielded-1', args: ['s1'] });
    await until('the settlement to start', () => events.includes('settle s1 started'));
    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect((err as Error).cause).toBeInstanceOf(CancelledFailure);
    expect(events.filter((e) => e.startsWith('settle s1'))).toEqual(['settle s1 started', 'settle s1 finished']);
    const history = await handle.fetchHistory();
    expect(history.find((e) => e.type === 'ActivityTaskScheduled')).toMatchObject({ nonCancellable: true });
    expect(history.filter((e) => e.type === 'ActivityTaskCompleted')).toHaveLength(1);
    expect((await handle.describe()).status).toBe('canceled');
  });
});
