import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  Activities,
  Activity,
  CancelledFailure,
  Signal,
  TimeoutFailure,
  Workflow,
  WorkflowRun,
  activityContext,
  type HistoryEvent,
} from 'redurable';
import { CancellationScope, Saga, condition, nonCancellable, sleep, withTimeout } from 'redurable/workflow';
import { replayHistory } from 'redurable/testing';
import { createTestApp, type TestApp } from '../support/test-app.js';

@Injectable()
@Activities()
class SlowActivities {
  @Activity() async wait(ms: number, label: string): Promise<string> {
    const { signal } = activityContext();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      ); // shutdown: stop waiting
    });
    return label;
  }
}

@Workflow({ taskQueue: 'scopes' })
class DeadlineWorkflow {
  constructor(private readonly slow: SlowActivities) {}

  @WorkflowRun()
  async run(activityMs: number): Promise<string> {
    try {
      return await withTimeout('300ms', () => this.slow.wait(activityMs, 'in time'));
    } catch (err) {
      if (!(err instanceof TimeoutFailure)) throw err;
      return `${err.timeoutType}: ${err.message} | then ${await this.slow.wait(1, 'fallback')}`;
    }
  }
}

@Workflow({ taskQueue: 'scopes' })
class ScopedWorkflow {
  private stop = false;

  constructor(private readonly slow: SlowActivities) {}

  @WorkflowRun()
  async run(): Promise<string[]> {
    const log: string[] = [];
    const outer = new CancellationScope();
    const inner = outer.run(async () => {
      const nested = CancellationScope.cancellable(() => this.slow.wait(2000, 'nested'));
      return Promise.all([nested, this.slow.wait(2000, 'outer'), sleep(60_000)]);
    });
    await condition(() => this.stop);
    outer.cancel('the customer gave up');
    try {
      await inner;
    } catch (err) {
      log.push(`${(err as Error).constructor.name}: ${(err as Error).message}`);
    }
    log.push(`scope cancelled: ${outer.cancelRequested}`);
    // A durable call made in a cancelled scope is refused at once; the workflow's own calls go on.
    await outer
      .run(() => this.slow.wait(1, 'refused'))
      .catch((err: Error) => log.push(`refused: ${err instanceof CancelledFailure}`));
    log.push(await this.slow.wait(1, 'after the scope'));
    return log;
  }

  @Signal() giveUp(): void {
    this.stop = true;
  }
}

/** Undoes a step in a saga inside a withTimeout whose time ran out. */
@Workflow({ taskQueue: 'scopes' })
class CompensatedDeadlineWorkflow {
  constructor(private readonly slow: SlowActivities) {}

  @WorkflowRun()
  async run(): Promise<string[]> {
    const saga = new Saga();
    const log: string[] = [];
    await withTimeout('300ms', async () => {
      log.push(
        await saga.step(
          () => this.slow.wait(1, 'booked'),
          () => this.slow.wait(1, 'unbooked'),
        ),
      );
      try {
        await this.slow.wait(2000, 'too slow');
      } catch (err) {
        log.push((err as Error).constructor.name);
        // Inside the cancelled scope, shielded calls and the saga's compensations still run.
        log.push(await nonCancellable(() => this.slow.wait(1, 'shielded call')));
        await saga.compensate();
        log.push('compensated');
        throw err;
      }
    }).catch((err: Error) => log.push(err.constructor.name));
    return log;
  }
}

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const types = (h: HistoryEvent[]) =>
  h.map((e) => (e.type === 'ActivityTaskScheduled' ? `activity ${e.input.join(',')}` : e.type));

describe('cancellation scopes', () => {
  test('withTimeout rejects with a TimeoutFailure once its durable timer fires, and the late result is ignored; replay agrees', async () => {
    t = await createTestApp([SlowActivities, DeadlineWorkflow, ScopedWorkflow]);
    const handle = await t.client.start(DeadlineWorkflow, { workflowId: 'deadline-late', args: [1500] });
    expect(await handle.result()).toBe(
      "SCOPE: Workflow 'deadline-late': the code given to withTimeout did not finish within 300ms | then fallback",
    );
    const history = await handle.fetchHistory();
    expect(types(history).slice(0, 4)).toEqual([
      'WorkflowExecutionStarted',
      'TimerStarted',
      'activity 1500,"in time"',
      'TimerFired',
    ]);
    expect((await replayHistory(DeadlineWorkflow, history)).result).toBe(await handle.result());
  });

  test('withTimeout returns what the code returns in time, without waiting for its timer', async () => {
    t = await createTestApp([SlowActivities, DeadlineWorkflow, ScopedWorkflow]);
    const began = Date.now();
    const handle = await t.client.start(DeadlineWorkflow, { workflowId: 'deadline-ok', args: [10] });
    expect(await handle.result()).toBe('in time');
    const history = await handle.fetchHistory();
    expect(types(history)).toEqual([
      'WorkflowExecutionStarted',
      'TimerStarted',
      'activity 10,"in time"',
      'ActivityTaskCompleted',
      'WorkflowExecutionCompleted',
    ]);
    expect(Date.now() - began).toBeLessThan(5000);
  });

  test('cancelling a scope rejects the pending calls inside it and its nested scopes with a CancelledFailure; the workflow goes on', async () => {
    t = await createTestApp([SlowActivities, DeadlineWorkflow, ScopedWorkflow]);
    const handle = await t.client.start(ScopedWorkflow, { workflowId: 'scoped' });
    await handle.signal('giveUp');
    const log = await handle.result();
    expect(log).toEqual([
      "CancelledFailure: A cancellation scope of workflow 'scoped' was cancelled: the customer gave up",
      'scope cancelled: true',
      'refused: true',
      'after the scope',
    ]);
    const history = await handle.fetchHistory();
    expect((await replayHistory(ScopedWorkflow, history)).result).toEqual(log);
    expect((await handle.describe()).status).toBe('completed');
  });

  test("nonCancellable and a saga's compensations run inside a scope that withTimeout cancelled", async () => {
    t = await createTestApp([SlowActivities, CompensatedDeadlineWorkflow]);
    const handle = await t.client.start(CompensatedDeadlineWorkflow, { workflowId: 'deadline-saga' });
    expect(await handle.result()).toEqual([
      'booked',
      'CancelledFailure',
      'shielded call',
      'compensated',
      'TimeoutFailure',
    ]);
    const history = await handle.fetchHistory();
    expect(history.filter((e) => e.type === 'ActivityTaskScheduled' && e.compensation)).toHaveLength(1);
    expect((await replayHistory(CompensatedDeadlineWorkflow, history)).result).toEqual(await handle.result());
  });
});
