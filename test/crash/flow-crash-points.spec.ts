import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Workflow, WorkflowRun, type HistoryEvent, type WorkflowHandle } from 'redurable';
import { spawnWorker, stop, type Child } from '../support/child-worker.js';
import { until } from '../support/until.js';
import { createTestApp, testConnectionEnv, type TestApp } from '../support/test-app.js';

/**
 * A worker SIGKILLed right after it took or freed a concurrency slot (crash points
 * `flow.after-acquire` and `flow.after-release`, in the workflow and the activity paths), using
 * test/fixtures/flow-worker.ts: the slot is not leaked (the one waiting for it runs, within
 * leaseTtl + sweepInterval of the crash), the key never runs above its limit (the spans the
 * work recorded never overlap), and each step is recorded once. Runs on the Cluster too.
 */
/**
 * The fixture's SoloWorkflow as the client sees it: a start computes the run's concurrency key
 * from the class (a start by type name alone records no limit). Its code runs in the worker.
 */
@Workflow({ taskQueue: 'flow', concurrency: { limit: 1, name: 'solo' } })
class SoloWorkflow {
  @WorkflowRun()
  async run(tag: string, _ms: number): Promise<string> {
    return tag;
  }
}

let client: TestApp;
const children: Child[] = [];
/** The fixture's leaseTtl and sweepInterval. */
const LEASE_TTL_MS = 2000;
const SWEEP_INTERVAL_MS = 300;

beforeAll(async () => {
  client = await createTestApp([], { worker: false });
});
afterEach(async () => {
  await Promise.all(children.splice(0).map(stop));
});
afterAll(async () => {
  await client.close();
});

/** A flow worker of its own prefix; `crash` names the point where it SIGKILLs itself. */
async function worker(prefix: string, crash?: string): Promise<Child> {
  const env = { ...testConnectionEnv(), PREFIX: prefix, WORKER_NAME: crash ? 'doomed' : 'survivor' };
  const child = spawnWorker(crash ? { ...env, REDURABLE_CRASH_POINT: crash } : env, 'flow-worker');
  children.push(child);
  await until('worker ready', () => child.output().includes('ready') || child.process.exitCode !== null);
  return child;
}

interface Span {
  tag: string;
  worker: string;
  start: number;
  end: number;
}

const spans = async (prefix: string, list: string) =>
  (await client.redis.lrange(`{${prefix}}:spans:${list}`, 0, -1)).map((s) => JSON.parse(s) as Span);

/** Whether two spans ran at the same time (an end at the start's ms: freed before taken). */
const overlapping = (all: Span[]) =>
  all.some((a, i) => all.some((b, j) => i < j && a.start < b.end && b.start < a.end));

const completions = (h: HistoryEvent[]) => h.filter((e) => e.type === 'ActivityTaskCompleted').length;

/** A client on the worker's prefix (the test app's client writes under its own). */
async function clientOf(prefix: string): Promise<TestApp> {
  const app = await createTestApp([SoloWorkflow], { prefix, worker: false });
  apps.push(app);
  return app;
}
const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

/** Starts a workflow by type name on the fixture's task queue. */
const start = (app: TestApp, type: string, workflowId: string, args: unknown[]): Promise<WorkflowHandle> =>
  app.client.start(type, { workflowId, taskQueue: 'flow', args });

describe.each(['flow.after-acquire', 'flow.after-release'])('a worker SIGKILLed at %s', (point) => {
  test('of a workflow slot: the waiting workflow gets it, one at a time, each step recorded once', async () => {
    const prefix = `fcp-${randomUUID().slice(0, 8)}`;
    const app = await clientOf(prefix);
    const doomed = await worker(prefix, point);
    // The first holds the slot on the doomed worker; the second waits for it.
    const first = await app.client.start(SoloWorkflow, { workflowId: 'first', args: ['first', 500] });
    await until('the first to run', async () => (await first.describe()).pendingActivities.length > 0);
    const second = await app.client.start(SoloWorkflow, { workflowId: 'second', args: ['second', 10] });
    await until('the second to wait', async () => (await second.describe()).waitingFor);
    // The first closes on the doomed worker, which dies freeing its slot (after-release) or
    // right after taking it for the second (after-acquire), before the second is told.
    const died = await doomed.exited;
    expect(died.signal).toBe('SIGKILL');
    const diedAt = Date.now();
    await expect(first.result()).resolves.toBe('first');

    await worker(prefix);
    await expect(second.result()).resolves.toBe('second');
    expect(Date.now() - diedAt).toBeLessThan(LEASE_TTL_MS + SWEEP_INTERVAL_MS + 5000);
    const ran = await spans(prefix, 'solo');
    expect(ran.map((s) => s.tag).sort()).toEqual(['first', 'second']);
    expect(overlapping(ran)).toBe(false);
    for (const h of [first, second]) expect(completions(await h.fetchHistory())).toBe(1);
  });

  test('of an activity slot: the waiting activity gets it, one at a time, each outcome recorded once', async () => {
    const prefix = `fca-${randomUUID().slice(0, 8)}`;
    const app = await clientOf(prefix);
    const doomed = await worker(prefix, point);
    // The doomed worker takes the first's slot and dies at once (after-acquire), or runs it and
    // dies freeing it, before its outcome is recorded (after-release).
    const first = await start(app, 'ExclusiveWorkflow', 'first', ['first', 300]);
    const died = await doomed.exited;
    expect(died.signal).toBe('SIGKILL');
    const diedAt = Date.now();
    const second = await start(app, 'ExclusiveWorkflow', 'second', ['second', 300]);

    await worker(prefix);
    await Promise.all([first.result(), second.result()]);
    expect(Date.now() - diedAt).toBeLessThan(LEASE_TTL_MS + SWEEP_INTERVAL_MS + 5000);
    const ran = await spans(prefix, 'exclusive');
    // Activities run at least once. After the release the outcome's recording was already on its
    // way (the two go out together): the first ran again only if it had not reached Redis.
    const firstRuns = ran.filter((s) => s.tag === 'first').length;
    if (point === 'flow.after-release') expect([1, 2]).toContain(firstRuns);
    else expect(firstRuns).toBe(1);
    expect(ran.filter((s) => s.tag === 'second').length).toBe(1);
    expect(overlapping(ran)).toBe(false);
    for (const h of [first, second]) expect(completions(await h.fetchHistory())).toBe(1);
  });
});
