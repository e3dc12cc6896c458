import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Worker, type Queue } from 'bullmq';
import { Activities, Activity, ApplicationFailure, Signal, Workflow, WorkflowRun } from 'redurable';
import { condition, proxyActivities, sleep } from 'redurable/workflow';
import { createTestApp, testQueue, testRedis, type TestApp, keyNames } from '../support/test-app.js';
import { until } from '../support/until.js';

/**
 * An operator removes jobs in Bull Board, obliterates or cleans a queue, or a failover loses
 * the last writes: the recovery sweep notices the outstanding activity or timer has no job and
 * re-adds it. Each workflow completes and each activity's effect happens exactly once. Every
 * activity is a job here (eagerActivities: false); an eager activity's lost claim has its own
 * tests (test/crash/sigkill.spec.ts, test/unit/recovery-sweep.spec.ts).
 */
const effects = new Map<string, number>();
const count = (key: string) => effects.set(key, (effects.get(key) ?? 0) + 1);

@Injectable()
@Activities()
class SideActivities {
  @Activity() async touch(key: string): Promise<string> {
    count(key);
    return `touched ${key}`;
  }

  @Activity({ retry: { maximumAttempts: 1 } }) async refuse(key: string): Promise<string> {
    count(key);
    throw ApplicationFailure.nonRetryable(`refused ${key}`);
  }
}

/** Three parallel activities on a task queue the first worker does not serve, so their jobs wait. */
@Workflow({ taskQueue: 'lost-jobs' })
class FanOutWorkflow {
  private readonly side = proxyActivities(SideActivities, { taskQueue: 'lost-jobs-side' });

  @WorkflowRun()
  async run(id: string) {
    return Promise.all([1, 2, 3].map((i) => this.side.touch(`${id}-${i}`)));
  }
}

@Workflow({ taskQueue: 'lost-jobs' })
class NapWorkflow {
  private readonly acts = proxyActivities(SideActivities);

  @WorkflowRun()
  async run(id: string, napMs: number) {
    await sleep(napMs);
    return this.acts.touch(id);
  }
}

@Workflow({ taskQueue: 'lost-jobs' })
class FinishedStepsWorkflow {
  private readonly acts = proxyActivities(SideActivities);
  private go = false;

  @WorkflowRun()
  async run(id: string) {
    const first = await this.acts.touch(`${id}-ok`);
    const second = await this.acts.refuse(`${id}-refused`).catch((err: Error) => err.message);
    await condition(() => this.go);
    return [first, second, await this.acts.touch(`${id}-last`)];
  }

  @Signal() release() {
    this.go = true;
  }
}

const providers = [SideActivities, FanOutWorkflow, NapWorkflow, FinishedStepsWorkflow];
const apps: TestApp[] = [];
const queues: Queue[] = [];
afterEach(async () => {
  await Promise.all(queues.splice(0).map((q) => q.close()));
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

function queue(t: TestApp, name: string): Queue {
  const q = testQueue(name, t.prefix);
  queues.push(q);
  return q;
}

/**
 * Waits until the sweep has confirmed that the jobs of the workflow's last commit exist (its
 * dispatch mark is gone): a job lost after that is found only by looking for it.
 */
async function dispatchConfirmed(t: TestApp, workflowId: string): Promise<void> {
  await until(
    'the dispatch to be confirmed',
    async () => (await t.redis.hget(keyNames(t.prefix).meta(workflowId), 'dispatchAt')) === null,
    10_000,
  );
}

/** Starts a fan-out whose activity jobs wait (nobody serves their queue), then hands it to `lose`, then starts a worker for them. */
async function fanOutLosingJobs(id: string, lose: (side: Queue) => Promise<void>): Promise<void> {
  const t = await createTestApp(providers, { eagerActivities: false, taskQueues: ['lost-jobs'] });
  apps.push(t);
  const side = queue(t, '{lost-jobs-side-activities}');
  const handle = await t.client.start(FanOutWorkflow, { workflowId: id, args: [id] });
  await until('three waiting activity jobs', async () => (await side.getJobs(['waiting', 'prioritized'])).length === 3);
  await dispatchConfirmed(t, id);
  await lose(side);
  expect(await side.getJobCounts('waiting', 'prioritized', 'active', 'delayed')).toEqual({
    waiting: 0,
    prioritized: 0,
    active: 0,
    delayed: 0,
  });
  apps.push(
    await createTestApp(providers, { eagerActivities: false, prefix: t.prefix, taskQueues: ['lost-jobs-side'] }),
  );
  expect(await handle.result()).toEqual([1, 2, 3].map((i) => `touched ${id}-${i}`));
  for (const i of [1, 2, 3]) expect(effects.get(`${id}-${i}`)).toBe(1);
}

describe('a job that disappears does not strand its workflow', () => {
  test('waiting activity jobs removed one by one (Bull Board "remove")', async () => {
    await fanOutLosingJobs('lj-removed', async (side) => {
      for (const job of await side.getJobs(['waiting', 'prioritized'])) await job.remove();
    });
  });

  test('the activity queue obliterated', async () => {
    await fanOutLosingJobs('lj-obliterated', (side) => side.obliterate({ force: true }));
  });

  test('activity jobs that finished while their outcomes were lost (a failover dropped the history write): they run again', async () => {
    await fanOutLosingJobs('lj-finished', async (side) => {
      // A stand-in processor finishes each job without recording anything, as if the outcome's
      // write had been acknowledged and then lost with its master.
      const connection = testRedis();
      const impostor = new Worker(side.name, async () => 'finished elsewhere', {
        connection,
        prefix: side.opts.prefix,
      });
      await until('three finished jobs', async () => (await side.getJobCounts('completed')).completed === 3);
      await impostor.close();
      connection.disconnect();
    });
  });

  test("a terminated workflow's activity jobs that had not started are removed, and never run", async () => {
    const t = await createTestApp(providers, { eagerActivities: false, taskQueues: ['lost-jobs'] });
    apps.push(t);
    const side = queue(t, '{lost-jobs-side-activities}');
    const handle = await t.client.start(FanOutWorkflow, { workflowId: 'lj-terminated', args: ['lj-terminated'] });
    await until(
      'three waiting activity jobs',
      async () => (await side.getJobs(['waiting', 'prioritized'])).length === 3,
    );
    await handle.terminate('no longer wanted');
    expect(await side.getJobCounts('waiting', 'prioritized', 'delayed', 'active')).toEqual({
      waiting: 0,
      prioritized: 0,
      delayed: 0,
      active: 0,
    });
    apps.push(
      await createTestApp(providers, { eagerActivities: false, prefix: t.prefix, taskQueues: ['lost-jobs-side'] }),
    );
    await new Promise((r) => setTimeout(r, 1500)); // a worker for the side queue, and a few sweep passes
    expect([1, 2, 3].map((i) => effects.get(`lj-terminated-${i}`))).toEqual([undefined, undefined, undefined]);
    expect((await handle.describe()).status).toBe('terminated');
  });

  test('an activity job added again after its run closed (a sweep that read the run before it closed) does not run', async () => {
    const t = await createTestApp(providers, { eagerActivities: false, taskQueues: ['lost-jobs'] });
    apps.push(t);
    const side = queue(t, '{lost-jobs-side-activities}');
    const handle = await t.client.start(FanOutWorkflow, { workflowId: 'lj-closed', args: ['lj-closed'] });
    const jobs = await until('three waiting activity jobs', async () => {
      const waiting = await side.getJobs(['waiting', 'prioritized']);
      return waiting.length === 3 && waiting;
    });
    await handle.terminate('closed before its activities ran');
    await new Promise((r) => setTimeout(r, 1100)); // the copy is added well after its command was recorded
    for (const job of jobs) await job.remove();
    const [first] = jobs;
    await side.add(first.name, first.data, { jobId: first.id });
    apps.push(
      await createTestApp(providers, { eagerActivities: false, prefix: t.prefix, taskQueues: ['lost-jobs-side'] }),
    );
    await until('the copy to be processed', async () => (await side.getJobCounts('completed')).completed === 1);
    expect([1, 2, 3].map((i) => effects.get(`lj-closed-${i}`))).toEqual([undefined, undefined, undefined]);
  });

  test('a delayed timer job removed: the timer still fires, shortly after its due time', async () => {
    const t = await createTestApp(providers, { eagerActivities: false });
    apps.push(t);
    const timers = queue(t, '{lost-jobs-workflows}');
    const handle = await t.client.start(NapWorkflow, { workflowId: 'lj-timer', args: ['lj-timer', 4000] });
    const [job] = await until('the delayed timer job', async () => {
      const jobs = await timers.getJobs(['delayed']);
      return jobs.some((j) => j.name === 'timer') && jobs.filter((j) => j.name === 'timer');
    });
    await dispatchConfirmed(t, 'lj-timer');
    await job.remove();
    expect((await handle.describe()).pendingTimers).toMatchObject([{ seq: 1, state: 'missing' }]);
    expect(await handle.result()).toBe('touched lj-timer');
    const history = await handle.fetchHistory();
    const started = history.find((e) => e.type === 'TimerStarted')!;
    const fired = history.find((e) => e.type === 'TimerFired')!;
    // It fired after its due time (4 s), within a lease ttl (2 s) and a sweep interval.
    expect(fired.ts - started.ts).toBeGreaterThanOrEqual(4000);
    expect(fired.ts - started.ts).toBeLessThan(4000 + 2000 + 2000);
    expect(effects.get('lj-timer')).toBe(1);
  });

  test('a workflow in no due index (started by an older version) is indexed at worker start, and its lost timer job re-added', async () => {
    const first = await createTestApp(providers, { eagerActivities: false });
    const timers = queue(first, '{lost-jobs-workflows}');
    const handle = await first.client.start(NapWorkflow, { workflowId: 'lj-unindexed', args: ['lj-unindexed', 3000] });
    const [job] = await until('the delayed timer job', async () => {
      const jobs = (await timers.getJobs(['delayed'])).filter((j) => j.name === 'timer');
      return jobs.length > 0 && jobs;
    });
    await dispatchConfirmed(first, 'lj-unindexed');
    const redis = testRedis();
    await first.close();
    expect(await redis.zrem(keyNames(first.prefix).dueIndexOf('lj-unindexed', 'lost-jobs'), 'lj-unindexed')).toBe(1);
    await redis.quit();
    await job.remove();
    const second = await createTestApp(providers, { eagerActivities: false, prefix: first.prefix });
    apps.push(second);
    expect(await second.client.getHandle(handle.workflowId).result()).toBe('touched lj-unindexed');
    expect(effects.get('lj-unindexed')).toBe(1);
  });

  test('completed and failed jobs cleaned: nothing finished runs again', async () => {
    const t = await createTestApp(providers, { eagerActivities: false });
    apps.push(t);
    const acts = queue(t, '{lost-jobs-activities}');
    const handle = await t.client.start(FinishedStepsWorkflow, { workflowId: 'lj-clean', args: ['lj-clean'] });
    await until(
      'both steps finished',
      async () =>
        (await handle.fetchHistory()).filter(
          (e) => e.type === 'ActivityTaskCompleted' || e.type === 'ActivityTaskFailed',
        ).length === 2,
    );
    await until('their jobs settled', async () => (await acts.getJobCounts('completed', 'failed')).failed === 1);
    expect(await acts.clean(0, 100, 'completed')).toHaveLength(1);
    expect(await acts.clean(0, 100, 'failed')).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 3000)); // more than a lease ttl and a sweep interval
    await handle.signal('release');
    expect(await handle.result()).toEqual([
      'touched lj-clean-ok',
      "Activity 'refuse' failed (NON_RETRYABLE_FAILURE, attempt 1): refused lj-clean-refused",
      'touched lj-clean-last',
    ]);
    expect([effects.get('lj-clean-ok'), effects.get('lj-clean-refused'), effects.get('lj-clean-last')]).toEqual([
      1, 1, 1,
    ]);
  });
});
