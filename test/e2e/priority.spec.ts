import { afterEach, describe, expect, test } from '@jest/globals';
import { Activities, Activity, InvalidArgumentError, Workflow, WorkflowRun } from 'redurable';
import { executeChild, proxyActivities, workflowInfo } from 'redurable/workflow';
import { createTestApp, keysUnder, testQueue, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

/** Workflow ids in the order their code first ran (a replay does not count again). */
const ran: string[] = [];

@Workflow({ taskQueue: 'prio' })
class RecordOrderWorkflow {
  @WorkflowRun()
  async run(): Promise<string> {
    const id = workflowInfo().workflowId;
    if (!ran.includes(id)) ran.push(id);
    return id;
  }
}

@Activities()
class PrioActivities {
  @Activity() async echo(x: string): Promise<string> {
    return x;
  }
}

@Workflow({ taskQueue: 'prio-child' })
class PrioChildWorkflow {
  @WorkflowRun()
  async run(): Promise<number> {
    return workflowInfo().priority;
  }
}

@Workflow({ taskQueue: 'prio-child' })
class PrioParentWorkflow {
  private readonly acts = proxyActivities(PrioActivities, { taskQueue: 'prio-acts', eager: false });
  private readonly urgent = proxyActivities(PrioActivities, { taskQueue: 'prio-acts', eager: false, priority: 1 });

  @WorkflowRun()
  async run(): Promise<number[]> {
    await this.acts.echo('inherits');
    await this.urgent.echo('own');
    const inherited = await executeChild(PrioChildWorkflow, { workflowId: `${workflowInfo().workflowId}-c1` });
    const own = await executeChild(PrioChildWorkflow, { workflowId: `${workflowInfo().workflowId}-c2`, priority: 9 });
    return [inherited, own];
  }
}

@Workflow({ taskQueue: 'prio-wake-child' })
class WakeChildWorkflow {
  @WorkflowRun()
  async run(): Promise<string> {
    return 'child done';
  }
}

/** Waits for a child on another task queue: the child's outcome wakes it with a task job. */
@Workflow({ taskQueue: 'prio-wake' })
class WakeParentWorkflow {
  @WorkflowRun()
  async run(): Promise<string> {
    return executeChild(WakeChildWorkflow, { workflowId: `${workflowInfo().workflowId}-child` });
  }
}

/**
 * The priority of the first task job of a run whose id ends with `tag` (a BullMQ job id ends
 * with the tag of what asked for the task), once it is waiting in the queue: no worker serves it.
 */
async function waitingTaskPriority(app: TestApp, taskQueue: string, tag: RegExp): Promise<number | undefined> {
  const queue = testQueue(`{${taskQueue}-workflows}`, app.prefix);
  try {
    const job = await until(`a task job tagged ${String(tag)} on ${taskQueue}`, async () =>
      (await queue.getJobs(['prioritized', 'wait', 'delayed'])).find((j) => tag.test(j.id ?? '')),
    );
    return job.opts.priority;
  } finally {
    await queue.close();
  }
}

let apps: TestApp[] = [];
afterEach(async () => {
  for (const a of apps.reverse()) await a.close();
  apps = [];
  ran.length = 0;
});

describe('priority', () => {
  test('queued starts run in priority order (1 first), the default (5) among them, ties in start order', async () => {
    // Starts recorded while no worker serves the task queue; then one worker taking one task at a time.
    const client = await createTestApp([RecordOrderWorkflow], { worker: false });
    apps.push(client);
    const starts: [string, number | undefined][] = [
      ['p10', 10],
      ['p-default-a', undefined],
      ['p1', 1],
      ['p5', 5],
      ['p3', 3],
      ['p-default-b', undefined],
    ];
    for (const [id, priority] of starts) await client.client.start(RecordOrderWorkflow, { workflowId: id, priority });
    const worker = await createTestApp([RecordOrderWorkflow], { prefix: client.prefix, workflowConcurrency: 1 });
    apps.push(worker);
    for (const [id] of starts) await worker.client.getHandle(id).result();
    expect(ran).toEqual(['p1', 'p3', 'p-default-a', 'p5', 'p-default-b', 'p10']);
  });

  test("a workflow's activities and children take its priority unless they set their own; the jobs carry it", async () => {
    const acts = await createTestApp([PrioActivities, PrioParentWorkflow, PrioChildWorkflow], {
      taskQueues: ['prio-child', 'prio-acts'],
    });
    apps.push(acts);
    const handle = await acts.client.start(PrioParentWorkflow, { workflowId: 'prio-parent', priority: 2 });
    await expect(handle.result()).resolves.toEqual([2, 9]);
    const history = await handle.fetchHistory();
    expect(history[0]).toMatchObject({ type: 'WorkflowExecutionStarted', priority: 2 });
    const scheduled = history.filter((e) => e.type === 'ActivityTaskScheduled');
    expect(scheduled.map((e) => e.type === 'ActivityTaskScheduled' && e.options.priority)).toEqual([2, 1]);
    const childStarted = (await acts.client.getHandle('prio-parent-c2').fetchHistory())[0];
    expect(childStarted).toMatchObject({ type: 'WorkflowExecutionStarted', priority: 9 });
    // BullMQ keeps the finished activity jobs (jobRetention): their priority is the recorded one.
    const queue = testQueue('{prio-acts-activities}', acts.prefix);
    try {
      const jobs = await queue.getJobs(['completed']);
      expect(jobs.map((j) => j.opts.priority).sort()).toEqual([1, 2]);
    } finally {
      await queue.close();
    }
  });

  test("the task a child's outcome wakes in its parent keeps the parent's priority", async () => {
    // The parent's worker starts the child and goes; the child runs and closes, waking the parent.
    const parentWorker = await createTestApp([WakeParentWorkflow, WakeChildWorkflow], { taskQueues: ['prio-wake'] });
    apps.push(parentWorker);
    await parentWorker.client.start(WakeParentWorkflow, { workflowId: 'wake-parent', priority: 3 });
    await until('the child to start', () =>
      parentWorker.client
        .getHandle('wake-parent-child')
        .describe()
        .then(
          (d) => d.status === 'running',
          () => false,
        ),
    );
    await parentWorker.close();
    apps = apps.filter((a) => a !== parentWorker);
    const childWorker = await createTestApp([WakeParentWorkflow, WakeChildWorkflow], {
      prefix: parentWorker.prefix,
      taskQueues: ['prio-wake-child'],
    });
    apps.push(childWorker);
    await expect(childWorker.client.getHandle('wake-parent-child').result()).resolves.toBe('child done');
    expect(await waitingTaskPriority(childWorker, 'prio-wake', /\|child-\d+$/)).toBe(3);
    // A worker for the parent's task queue takes it: the parent completes with the child's result.
    apps.push(await createTestApp([WakeParentWorkflow, WakeChildWorkflow], { prefix: parentWorker.prefix }));
    await expect(childWorker.client.getHandle('wake-parent').result()).resolves.toBe('child done');
  });

  test("a failed workflow task's retry keeps the run's priority", async () => {
    const client = await createTestApp([RecordOrderWorkflow], { worker: false });
    apps.push(client);
    const handle = await client.client.start(RecordOrderWorkflow, { workflowId: 'retried', priority: 3 });
    // A worker of the task queue without the workflow's class: its task fails, and is retried after 1 s.
    apps.push(await createTestApp([PrioActivities], { prefix: client.prefix, taskQueues: ['prio'] }));
    expect(await waitingTaskPriority(client, 'prio', /\|retry-\d+$/)).toBe(3);
    expect((await handle.describe()).taskFailure?.message).toContain("Unknown workflow type 'RecordOrderWorkflow'");
  });

  test('a priority that is not an integer in 1..10 is an InvalidArgumentError, and nothing is written', async () => {
    const t = await createTestApp([RecordOrderWorkflow], { worker: false });
    apps.push(t);
    const before = await keysUnder(t.redis, t.prefix);
    for (const priority of [0, 11, 2.5, '1' as unknown as number]) {
      const err = await t.client
        .start(RecordOrderWorkflow, { workflowId: `bad-${String(priority)}`, priority })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as Error).message).toContain(
        `Invalid priority ${JSON.stringify(priority)} of workflow 'RecordOrderWorkflow'`,
      );
      expect((err as Error).message).toContain('from 1 (runs first) to 10 (runs last)');
    }
    expect(await keysUnder(t.redis, t.prefix)).toEqual(before);
  });
});
