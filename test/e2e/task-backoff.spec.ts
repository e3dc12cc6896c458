import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Activities, Activity, Signal, Workflow, WorkflowRun } from 'redurable';
import { condition, proxyActivities } from 'redurable/workflow';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

@Injectable()
@Activities()
class GreetActivities {
  @Activity() async greet(name: string): Promise<string> {
    return `hello ${name}`;
  }
}

@Workflow({ taskQueue: 'backoff' })
class GreetWorkflow {
  private readonly acts = proxyActivities(GreetActivities);
  private released = false;
  @WorkflowRun() async run(name: string): Promise<string> {
    const greeting = await this.acts.greet(name);
    await condition(() => this.released);
    return greeting;
  }
  @Signal() release(): void {
    this.released = true;
  }
}

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

describe('a failing workflow task backs off', () => {
  test('a type no worker on the task queue registers: visible, retried with growing delays, resumed by a worker that has it', async () => {
    // The workflow makes progress on a worker that has the class, then waits for a signal.
    const first = await createTestApp([GreetActivities, GreetWorkflow], { sweepInterval: '200ms' });
    const started = await first.client.start(GreetWorkflow, { workflowId: 'greet-1', args: ['ada'] });
    await until('the activity to be recorded', async () =>
      (await started.fetchHistory()).some((e) => e.type === 'ActivityTaskCompleted'),
    );
    await first.close();
    // Now only a worker without the class serves the task queue when the signal arrives.
    const stranger = await createTestApp([GreetActivities], {
      prefix: first.prefix,
      taskQueues: ['backoff'],
      sweepInterval: '200ms',
    });
    apps.push(stranger);
    const client = await createTestApp([GreetActivities, GreetWorkflow], { prefix: first.prefix, worker: false });
    apps.push(client);
    const handle = client.client.getHandle<string>('greet-1');
    await handle.signal('release');

    await until('the task failure', async () => (await handle.describe()).taskFailure);
    await new Promise((r) => setTimeout(r, 4000)); // 20 sweep passes
    const failing = await handle.describe();
    expect(failing.status).toBe('running');
    expect(failing.taskFailure?.message).toContain("UnknownWorkflowTypeError: Unknown workflow type 'GreetWorkflow'");
    // Retries after 1 s, 2 s, 4 s...: about three attempts in 4-5 s, not one per sweep pass.
    expect(failing.taskFailure!.attempt).toBeGreaterThanOrEqual(2);
    expect(failing.taskFailure!.attempt).toBeLessThanOrEqual(4);
    expect(failing.taskFailure!.retryAt!.getTime()).toBeGreaterThan(Date.now() - 1000);

    // A deploy with the class resumes it.
    await stranger.close();
    apps.splice(apps.indexOf(stranger), 1);
    apps.push(await createTestApp([GreetActivities, GreetWorkflow], { prefix: stranger.prefix }));
    expect(await handle.result()).toBe('hello ada');
    expect((await handle.describe()).taskFailure).toBeUndefined();
  }, 60_000);
});
