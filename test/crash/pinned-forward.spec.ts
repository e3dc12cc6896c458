import { afterEach, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { spawnWorker, stop, type Child } from '../support/child-worker.js';
import { runCli } from '../support/cli.js';
import { until } from '../support/until.js';
import { cliConnectionFlags, createTestApp, testConnectionEnv, testQueue, type TestApp } from '../support/test-app.js';

/**
 * A worker of another build SIGKILLed between finding a task's run pinned to another build and
 * handing the task to that build's queue (crash point `task.before-forward`), with
 * test/fixtures/pinned-worker.ts: the task job, left active, comes back after its lock to a
 * surviving worker, which hands it over; the run's build runs it, and the signal it carries is
 * handled once, well before the recovery sweep would look (the fixture's lease is 30 s). Runs
 * on the Cluster too.
 */
const children: Child[] = [];
const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map(stop));
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function worker(prefix: string, build: string, crash?: string): Promise<Child> {
  const env = { ...testConnectionEnv(), PREFIX: prefix, BUILD_ID: build };
  const child = spawnWorker(crash ? { ...env, REDURABLE_CRASH_POINT: crash } : env, 'pinned-worker');
  children.push(child);
  await until('worker ready', () => child.output().includes('ready') || child.process.exitCode !== null);
  return child;
}

const cli = (prefix: string, args: string[], env: Record<string, string> = {}) =>
  runCli([...args, '--prefix', prefix, ...cliConnectionFlags()], env);

async function buildRow(prefix: string, build: string): Promise<{ takesNewRuns: boolean } | undefined> {
  const rows = JSON.parse((await cli(prefix, ['build', 'list', '--json'])).stdout) as {
    build: string;
    takesNewRuns: boolean;
  }[];
  return rows.find((r) => r.build === build);
}

describe('a task of a pinned run handed to its build', () => {
  test('a worker killed before the hand-over: another hands it over, the run moves on once', async () => {
    const prefix = `t-${randomUUID().slice(0, 8)}`;
    await worker(prefix, 'build-a');
    const client = await createTestApp([], { prefix, worker: false });
    apps.push(client);
    const handle = await client.client.start('Pinned', { workflowId: 'pinned-1', taskQueue: 'pinned', args: [] });
    await until('pinned to build A', async () => (await handle.describe()).pinnedBuild?.build === 'build-a');

    // Build B comes up; A leaves the shared queue to it.
    const doomed = await worker(prefix, 'build-b', 'task.before-forward');
    await until('A leaves new runs to B', async () => (await buildRow(prefix, 'build-a'))?.takesNewRuns === false);

    // A signal recorded whose task was never enqueued (the signalling process died after the script) ...
    const signalled = await cli(prefix, ['workflow', 'signal', 'pinned-1', 'proceed'], {
      REDURABLE_CRASH_POINT: 'external.after-append',
    });
    expect(signalled.code).not.toBe(0);
    // ... and its task on the task queue's shared queue, where a failed task's retry goes.
    const { runId } = await handle.describe();
    const shared = testQueue('{pinned-workflows}', prefix);
    await shared.add('task', { workflowId: 'pinned-1', runId }, { jobId: `w|pinned-1|${runId}|retry-1` });
    await shared.close();

    // B takes it, finds the run pinned to A, and dies before handing it over.
    await until('B to take the task and die at the crash point', () => doomed.process.signalCode !== null, 20_000);
    expect((await doomed.exited).signal).toBe('SIGKILL');
    await worker(prefix, 'build-b');
    // Well before the sweep would look (30 s after the signal): the task job did it.
    const began = Date.now();
    expect(await handle.result()).toBe(1);
    expect(Date.now() - began).toBeLessThan(20_000);
    expect(await handle.describe()).toMatchObject({ status: 'completed', lastTaskBuild: 'build-a' });
    expect((await handle.fetchHistory()).filter((e) => e.type === 'SignalReceived')).toHaveLength(1);
  }, 60_000);
});
