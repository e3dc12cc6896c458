import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Activities, Activity, Workflow, WorkflowRun, activityContext } from 'redurable';
import { proxyActivities, sleep, uuid4, sideEffect, workflowInfo } from 'redurable/workflow';
import { createTestApp, testQueue, testRedis, type TestApp, keyNames } from '../support/test-app.js';

@Injectable()
class Greeter {
  greeting(name: string) {
    return `Hello, ${name}`;
  }
}

@Injectable()
@Activities()
class OrderActivities implements OnApplicationShutdown {
  readonly redis = testRedis();
  constructor(private readonly greeter: Greeter) {}

  async onApplicationShutdown() {
    await this.redis.quit();
  }

  @Activity() async reserve(item: string): Promise<string> {
    await this.redis.incr(`{count}:${activityContext().workflowId}:reserve`);
    return `reserved ${item}`;
  }
  @Activity() async charge(amount: number): Promise<number> {
    await this.redis.incr(`{count}:${activityContext().workflowId}:charge`);
    return amount * 2;
  }
  @Activity() async notify(name: string): Promise<string> {
    return this.greeter.greeting(name);
  }
}

@Workflow({ taskQueue: 'orders' })
class OrderWorkflow {
  private readonly acts = proxyActivities(OrderActivities);

  @WorkflowRun()
  async run(item: string, amount: number) {
    const reserved = await this.acts.reserve(item);
    const charged = await this.acts.charge(amount);
    await sleep(50);
    const note = await this.acts.notify('Ada');
    const id = uuid4();
    const fixed = await sideEffect(() => 42);
    return {
      reserved,
      charged,
      note,
      idLength: id.length,
      fixed,
      type: workflowInfo().workflowType,
      now: typeof Date.now(),
    };
  }
}

@Workflow({ taskQueue: 'orders' })
class NapWorkflow {
  @WorkflowRun()
  async run(ms: number): Promise<void> {
    await sleep(ms);
  }
}

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('a workflow with three activities', () => {
  test('completes, records the expected history in order, and describe() says completed', async () => {
    t = await createTestApp([Greeter, OrderActivities, OrderWorkflow]);
    const handle = await t.client.start(OrderWorkflow, { workflowId: 'order-1', args: ['book', 21] });
    const result = await handle.result();
    expect(result).toEqual({
      reserved: 'reserved book',
      charged: 42,
      note: 'Hello, Ada',
      idLength: 36,
      fixed: 42,
      type: 'OrderWorkflow',
      now: 'number',
    });

    const history = await handle.fetchHistory();
    expect(history.map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
      'ActivityTaskScheduled',
      'ActivityTaskCompleted',
      'ActivityTaskScheduled',
      'ActivityTaskCompleted',
      'TimerStarted',
      'TimerFired',
      'ActivityTaskScheduled',
      'ActivityTaskCompleted',
      'MarkerRecorded',
      'WorkflowExecutionCompleted',
    ]);
    expect(history.map((e) => e.id)).toEqual(history.map((_, i) => i + 1));
    expect(
      history
        .filter((e) => e.type === 'ActivityTaskScheduled')
        .map((e) => (e as { activityType: string }).activityType),
    ).toEqual(['reserve', 'charge', 'notify']);

    const description = await handle.describe();
    expect(description.status).toBe('completed');
    expect(description.workflowType).toBe('OrderWorkflow');
    expect(description.result).toEqual(result);
    expect(description.closeTime!.getTime()).toBeGreaterThanOrEqual(description.startTime.getTime());
    expect(description.pendingActivities).toEqual([]);

    // A closed run is kept for the retention period (default 7 days), then expires.
    const ttl = await t.redis.pttl(keyNames(t.prefix).meta('order-1'));
    expect(ttl).toBeGreaterThan(6 * 86_400_000);
    expect(ttl).toBeLessThanOrEqual(7 * 86_400_000);
    expect(await t.redis.pttl(keyNames(t.prefix).history('order-1', handle.runId!))).toBeGreaterThan(6 * 86_400_000);
    // The done set expires with the run, so a restarted job of its last activity is still recognised.
    expect(await t.redis.pttl(keyNames(t.prefix).done('order-1', handle.runId!))).toBeGreaterThan(6 * 86_400_000);

    const counts = await t.redis.mget('{count}:order-1:reserve', '{count}:order-1:charge');
    expect(counts).toEqual(['1', '1']);
    await t.redis.del('{count}:order-1:reserve', '{count}:order-1:charge');
  });

  test('a durable timer never fires before its due time, as recorded in the history (30 timers of 20 ms)', async () => {
    t = await createTestApp([Greeter, OrderActivities, OrderWorkflow, NapWorkflow]);
    const handles = await Promise.all(
      Array.from({ length: 30 }, (_, i) => t!.client.start(NapWorkflow, { workflowId: `nap-${i}`, args: [20] })),
    );
    await Promise.all(handles.map((h) => h.result()));
    for (const h of handles) {
      const history = await h.fetchHistory();
      const started = history.find((e) => e.type === 'TimerStarted')!;
      const fired = history.find((e) => e.type === 'TimerFired')!;
      expect([h.workflowId, fired.ts - started.ts >= 20]).toEqual([h.workflowId, true]);
    }
  });
});

@Injectable()
@Activities({ taskQueue: 'mailers' })
class MailActivities {
  @Activity() async mail(to: string): Promise<string> {
    return `mailed ${to}`;
  }
}

@Workflow({ taskQueue: 'signups' })
class SignupWorkflow {
  private readonly mailer = proxyActivities(MailActivities);

  @WorkflowRun()
  async run(to: string): Promise<string> {
    return this.mailer.mail(to);
  }
}

describe('task queues', () => {
  test("an @Activities({ taskQueue }) class's activities run on that task queue, not the workflow's", async () => {
    t = await createTestApp([MailActivities, SignupWorkflow]);
    const handle = await t.client.start(SignupWorkflow, { workflowId: 'signup-1', args: ['ada'] });
    expect(await handle.result()).toBe('mailed ada');
    const scheduled = (await handle.fetchHistory()).find((e) => e.type === 'ActivityTaskScheduled');
    expect(scheduled).toMatchObject({ activityType: 'mail', options: { taskQueue: 'mailers' } });
  });
});

describe('eager start', () => {
  /** Job ids BullMQ reports as added to the workflow queue of 'orders' (its events stream). */
  async function addedWorkflowJobs(app: TestApp): Promise<string[]> {
    const queue = testQueue('{orders-workflows}', app.prefix);
    try {
      const entries = await app.redis.xrange(queue.toKey('events'), '-', '+');
      return entries.flatMap(([, fields]) => {
        const f = Object.fromEntries(
          Array.from({ length: fields.length / 2 }, (_, i) => [fields[2 * i], fields[2 * i + 1]]),
        );
        return f.event === 'added' ? [f.jobId] : [];
      });
    } finally {
      await queue.close();
    }
  }

  test('a process with workers for the task queue runs the first task itself: no task job; a client-only process enqueues one', async () => {
    t = await createTestApp([Greeter, OrderActivities, OrderWorkflow, NapWorkflow]);
    expect(await t.client.execute(NapWorkflow, { workflowId: 'eager-nap', args: [10] })).toBeUndefined();
    const added = await addedWorkflowJobs(t);
    expect(added.some((id) => id.startsWith('t|'))).toBe(true); // its timer is a job
    expect(added.filter((id) => id.startsWith('w|'))).toEqual([]); // its first task was not

    const clientOnly = await createTestApp([NapWorkflow], { prefix: t.prefix, worker: false });
    try {
      const handle = await clientOnly.client.start(NapWorkflow, { workflowId: 'queued-nap', args: [10] });
      await handle.result();
      expect((await addedWorkflowJobs(t)).filter((id) => id.startsWith('w|'))).toEqual([
        `w|queued-nap|${handle.runId}|start`,
      ]);
    } finally {
      await clientOnly.close();
    }
  });
});
