import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  Activities,
  Activity,
  ActivityFailure,
  TimeoutFailure,
  Workflow,
  WorkflowRun,
  activityContext,
} from 'redurable';
import { proxyActivities } from 'redurable/workflow';
import { createTestApp, type TestApp } from '../support/test-app.js';

const aborted: string[] = [];

@Injectable()
@Activities()
class SlowActivities {
  @Activity({ startToCloseTimeout: '100ms', retry: { initialInterval: '10ms', maximumAttempts: 2 } })
  async hangs(): Promise<string> {
    const { signal, attempt } = activityContext();
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    aborted.push(`hangs attempt ${attempt}: ${(signal.reason as Error).message}`);
    return 'never used';
  }

  @Activity({ heartbeatTimeout: '80ms', retry: { maximumAttempts: 1 } })
  async heartbeats(beats: number): Promise<number> {
    for (let i = 0; i < beats; i++) {
      await new Promise((r) => setTimeout(r, 30));
      activityContext().heartbeat();
    }
    await new Promise((r) => setTimeout(r, 300)); // then goes silent
    return beats;
  }

  @Activity({ retry: { initialInterval: '5s', maximumAttempts: 3 } })
  async failsSlowly(): Promise<string> {
    throw new Error('downstream is down');
  }
}

@Workflow({ taskQueue: 'timeouts' })
class TimeoutWorkflow {
  private readonly acts = proxyActivities(SlowActivities);

  @WorkflowRun()
  async run(which: 'hangs' | 'heartbeats' | 'failsSlowly') {
    try {
      return await (which === 'heartbeats' ? this.acts.heartbeats(3) : this.acts[which]());
    } catch (err) {
      const cause = (err as ActivityFailure).cause as TimeoutFailure;
      return {
        retryState: (err as ActivityFailure).retryState,
        attempt: (err as ActivityFailure).attempt,
        cause: cause.name,
        timeoutType: cause.timeoutType,
        message: cause.message,
      };
    }
  }
}

let t: TestApp;
afterEach(async () => t?.close());

describe('activity timeouts', () => {
  test('startToCloseTimeout fails the attempt with TimeoutFailure, aborts its signal, and retries per policy', async () => {
    t = await createTestApp([SlowActivities, TimeoutWorkflow]);
    const result = await t.client.execute(TimeoutWorkflow, { workflowId: 'timeout-s2c', args: ['hangs'] });
    expect(result).toMatchObject({
      retryState: 'MAXIMUM_ATTEMPTS_REACHED',
      attempt: 2,
      cause: 'TimeoutFailure',
      timeoutType: 'START_TO_CLOSE',
    });
    expect((result as { message: string }).message).toContain(
      "activity 'hangs' attempt 2 exceeded its startToCloseTimeout of 100ms",
    );
    expect(aborted).toEqual([
      "hangs attempt 1: activity 'hangs' attempt 1 exceeded its startToCloseTimeout of 100ms",
      "hangs attempt 2: activity 'hangs' attempt 2 exceeded its startToCloseTimeout of 100ms",
    ]);
  });

  test('heartbeatTimeout fails an attempt that stops heartbeating', async () => {
    t = await createTestApp([SlowActivities, TimeoutWorkflow]);
    const result = await t.client.execute(TimeoutWorkflow, { workflowId: 'timeout-hb', args: ['heartbeats'] });
    expect(result).toMatchObject({
      retryState: 'MAXIMUM_ATTEMPTS_REACHED',
      cause: 'TimeoutFailure',
      timeoutType: 'HEARTBEAT',
    });
    expect((result as { message: string }).message).toContain('sent no heartbeat for 80ms');
  });
});

describe('describe()', () => {
  test('lists a pending activity with its attempt and last error while it waits to retry', async () => {
    t = await createTestApp([SlowActivities, TimeoutWorkflow]);
    const handle = await t.client.start(TimeoutWorkflow, { workflowId: 'describe-pending', args: ['failsSlowly'] });
    let pending;
    for (let i = 0; i < 200; i++) {
      pending = (await handle.describe()).pendingActivities[0];
      if (pending?.lastFailure) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(pending).toMatchObject({
      seq: 1,
      activityType: 'failsSlowly',
      taskQueue: 'timeouts',
      attempt: 2,
      lastFailure: 'downstream is down',
      state: 'delayed',
    });
    // The retry policy waits 5 s after the first failure.
    expect(pending!.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now() + 3000);
    expect(pending!.nextAttemptAt!.getTime()).toBeLessThan(Date.now() + 6000);
    const description = await handle.describe();
    expect(description.status).toBe('running');
    expect(description.historyLength).toBe(2);
  });
});
