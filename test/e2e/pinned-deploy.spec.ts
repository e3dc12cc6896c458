import { afterEach, describe, expect, test } from '@jest/globals';
import {
  Activities,
  Activity,
  DurableModule,
  InvalidArgumentError,
  InvalidOptionsError,
  InvalidWorkflowClassError,
  Query,
  Signal,
  Update,
  Workflow,
  WorkflowRun,
  type WorkflowHandle,
} from 'redurable';
import { condition, proxyActivities, sleep } from 'redurable/workflow';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { RedurableConsoleModule } from 'redurable-console';
import { cliConnectionFlags, createTestApp, testConnection, testQueue, type TestApp } from '../support/test-app.js';
import { runCli } from '../support/cli.js';
import { until } from '../support/until.js';

/**
 * A rolling deploy of a pinned workflow type whose code changed incompatibly: build A's runs,
 * begun before build B came up, finish on A with A's code (their activities may run anywhere,
 * their timers fire anywhere, their tasks go to A); runs started once B is up start and finish
 * on B, whoever starts them; B boots though its code would not replay A's runs (the replay gate
 * leaves pinned runs alone); A is drained once its last run closed and it stopped.
 */
@Activities({ taskQueue: 'deploy' })
class Steps {
  @Activity() async step(name: string): Promise<string> {
    return name;
  }
}

/** Build A's code: steps a then b around a signal and a timer. */
@Workflow({ name: 'Order', taskQueue: 'deploy', versioning: 'pinned' })
class OrderV1 {
  private readonly steps = proxyActivities(Steps);
  private go = false;
  @WorkflowRun() async run(): Promise<string> {
    const first = await this.steps.step('a');
    await condition(() => this.go);
    await sleep('50ms');
    return `v1:${first}${await this.steps.step('b')}`;
  }
  @Signal() proceed() {
    this.go = true;
  }
  @Query() code(): string {
    return 'v1';
  }
  @Update() async tag(text: string): Promise<string> {
    return `v1:${text}`;
  }
}

/** Build B's code: other steps, in another order (A's histories do not replay on it). */
@Workflow({ name: 'Order', taskQueue: 'deploy', versioning: 'pinned' })
class OrderV2 {
  private readonly steps = proxyActivities(Steps);
  private go = false;
  @WorkflowRun() async run(): Promise<string> {
    await sleep('10ms');
    const first = await this.steps.step('c');
    await condition(() => this.go);
    return `v2:${first}${await this.steps.step('d')}`;
  }
  @Signal() proceed() {
    this.go = true;
  }
  @Query() code(): string {
    return 'v2';
  }
  @Update() async tag(text: string): Promise<string> {
    return `v2:${text}`;
  }
}

/** The same code in both builds: a run may move between them. */
@Workflow({ taskQueue: 'deploy' })
class Parked {
  private go = false;
  @WorkflowRun() async run(): Promise<string> {
    await condition(() => this.go);
    return 'done';
  }
  @Signal() proceed() {
    this.go = true;
  }
}

let apps: TestApp[] = [];
afterEach(async () => {
  for (const a of apps.reverse()) await a.close().catch(() => undefined);
  apps = [];
});

async function app(classes: Parameters<typeof createTestApp>[0], options: Parameters<typeof createTestApp>[1]) {
  const created = await createTestApp(classes, { sweepInterval: '200ms', ...options });
  apps.push(created);
  return created;
}

async function stopApp(a: TestApp): Promise<void> {
  await a.close();
  apps = apps.filter((x) => x !== a);
}

interface BuildRow {
  build: string;
  liveWorkers: { superseded: string[] }[];
  running: Record<string, number>;
  takesNewRuns: boolean;
  drained: boolean;
}

async function builds(prefix: string): Promise<Record<string, BuildRow>> {
  const res = await runCli(['build', 'list', '--json', '--prefix', prefix, ...cliConnectionFlags()]);
  expect(res.stderr).toBe('');
  return Object.fromEntries((JSON.parse(res.stdout) as BuildRow[]).map((row) => [row.build, row]));
}

/** The console (explorer) alone, on a prefix: no worker, no workflow class. */
async function consoleApp(prefix: string) {
  @Module({
    imports: [
      DurableModule.forRoot({ connection: testConnection(), prefix, logger: false, worker: false }),
      RedurableConsoleModule.forRoot({}),
    ],
  })
  class ConsoleOnlyModule {}
  const app = await NestFactory.create(ConsoleOnlyModule, { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}` };
}

const pinnedTo = async (h: WorkflowHandle) => (await h.describe()).pinnedBuild?.build;

describe('pinned workflows across a rolling deploy', () => {
  test('old runs finish on their build with its code, new runs start on the new build, and the old build drains', async () => {
    const a = await app([OrderV1, Parked, Steps], { buildId: 'build-a' });
    const old = await Promise.all([1, 2, 3].map((i) => a.client.start(OrderV1, { workflowId: `old-${i}`, args: [] })));
    for (const h of old) await until(`${h.workflowId} pinned to A`, async () => (await pinnedTo(h)) === 'build-a');
    // Each has run step a and waits for its signal.
    for (const h of old)
      await until(`${h.workflowId} waits for its signal`, async () =>
        (await h.fetchHistory()).some((e) => e.type === 'ActivityTaskCompleted'),
      );

    // Build B rolls out (the replay gate on: it skips pinned runs, which its code would not replay).
    const b = await app([OrderV2, Parked, Steps], { prefix: a.prefix, buildId: 'build-b' });
    await until('A leaves new runs to B', async () => (await builds(a.prefix))['build-a']?.takesNewRuns === false);
    const listed = await builds(a.prefix);
    expect(listed['build-b']).toMatchObject({ takesNewRuns: true, drained: false });
    expect(listed['build-a']).toMatchObject({ running: { Order: 3 }, drained: false });
    expect(listed['build-a'].liveWorkers[0].superseded).toEqual(['deploy']);

    // New runs start on B, whichever build's client starts them.
    const fresh = [
      await a.client.start('Order', { workflowId: 'new-from-a', taskQueue: 'deploy', args: [] }),
      await b.client.start(OrderV2, { workflowId: 'new-from-b', args: [] }),
    ];
    for (const h of fresh) await until(`${h.workflowId} pinned`, async () => (await pinnedTo(h)) !== undefined);
    for (const h of fresh) expect(await pinnedTo(h)).toBe('build-b');

    // Queries of a run go to its build: B's client gets A's answer for an old run.
    expect(await b.client.getHandle('old-1').query('code')).toBe('v1');
    expect(await b.client.getHandle('new-from-b').query('code')).toBe('v2');
    expect(await a.client.getHandle('new-from-a').query('code')).toBe('v2');
    // So do updates (their validation replays the run): B's client, an old run, A's handler.
    expect(await b.client.getHandle('old-2').executeUpdate('tag', 'x')).toBe('v1:x');
    expect(await a.client.getHandle('new-from-b').executeUpdate('tag', 'y')).toBe('v2:y');

    // The old runs finish on A with A's code: their signals come through B's client, their
    // timers and activities run on either build.
    for (const h of old) await b.client.getHandle(h.workflowId).signal('proceed');
    for (const h of old) {
      expect(await b.client.getHandle(h.workflowId).result()).toBe('v1:ab');
      expect(await h.describe()).toMatchObject({ lastTaskBuild: 'build-a', pinnedBuild: { build: 'build-a' } });
      expect((await h.describe()).taskFailure).toBeUndefined();
    }
    for (const h of fresh) await b.client.getHandle(h.workflowId).signal('proceed');
    for (const h of fresh) expect(await b.client.getHandle(h.workflowId).result()).toBe('v2:cd');
    for (const h of fresh) expect((await h.describe()).lastTaskBuild).toBe('build-b');

    // A stops once its runs closed: drained.
    await stopApp(a);
    expect((await builds(b.prefix))['build-a']).toMatchObject({ liveWorkers: [], running: {}, drained: true });
  }, 60_000);

  test('a run whose build is gone says so, and update-build moves it to a live build, where it finishes', async () => {
    const a = await app([Parked], { buildId: 'build-a', defaultVersioning: 'pinned' });
    const h = await a.client.start(Parked, { workflowId: 'parked' });
    await until('pinned to A', async () => (await pinnedTo(h)) === 'build-a');
    const b = await app([Parked], { prefix: a.prefix, buildId: 'build-b', defaultVersioning: 'pinned' });
    await stopApp(a);

    // Its signal is recorded; its task waits on A's queue for a worker of A, which is gone.
    await b.client.getHandle('parked').signal('proceed');
    const aQueue = testQueue('{deploy-workflows@build-a}', a.prefix);
    try {
      // (BullMQ keeps jobs with a priority in its `prioritized` set.)
      await until("the task waits on build A's queue", async () => {
        const counts = await aQueue.getJobCounts('waiting', 'prioritized');
        return counts.waiting + counts.prioritized > 0;
      });
    } finally {
      await aQueue.close();
    }
    expect(await b.client.getHandle('parked').describe()).toMatchObject({
      status: 'running',
      pinnedBuild: { build: 'build-a', live: false },
    });
    const described = await runCli(['workflow', 'describe', 'parked', '--prefix', a.prefix, ...cliConnectionFlags()]);
    expect(described.stdout).toContain('Pinned to  build-a (no live worker of this build');
    const explorer = await consoleApp(a.prefix);
    try {
      const page = await (await fetch(`${explorer.url}/workflows/parked`)).text();
      expect(page).toContain('Pinned to');
      expect(page).toContain('build-a <strong>(no live worker of this build');
    } finally {
      await explorer.app.close();
    }
    expect((await builds(a.prefix))['build-a']).toMatchObject({ running: { Parked: 1 }, drained: false });

    const moved = await runCli([
      'workflow',
      'update-build',
      'parked',
      '--to',
      'build-b',
      '--prefix',
      a.prefix,
      ...cliConnectionFlags(),
    ]);
    expect(moved.stderr).toBe('');
    expect(moved.stdout).toContain("Workflow 'parked' moved from build build-a to build-b");
    expect(await b.client.getHandle('parked').result()).toBe('done');
    expect(await b.client.getHandle('parked').describe()).toMatchObject({
      lastTaskBuild: 'build-b',
      pinnedBuild: { build: 'build-b', live: true },
    });
    expect((await builds(a.prefix))['build-a']).toMatchObject({ drained: true });

    // A closed run, a malformed build: refused, nothing written.
    await expect(b.client.getHandle('parked').updateBuild('build-a')).rejects.toThrow(
      "Cannot update the build of workflow 'parked': it is completed, not running",
    );
    await expect(b.client.getHandle('parked').updateBuild('no such build')).rejects.toThrow(InvalidArgumentError);
  }, 60_000);

  test('update-build whose process dies before it enqueues the task: the recovery sweep gives the run its task on the new build', async () => {
    const a = await app([Parked], { buildId: 'build-a', defaultVersioning: 'pinned' });
    const h = await a.client.start(Parked, { workflowId: 'moved' });
    await until('pinned to A', async () => (await pinnedTo(h)) === 'build-a');
    const b = await app([Parked], { prefix: a.prefix, buildId: 'build-b', defaultVersioning: 'pinned' });
    await stopApp(a);
    await b.client.getHandle('moved').signal('proceed');
    const moved = await runCli(
      ['workflow', 'update-build', 'moved', '--to', 'build-b', '--prefix', b.prefix, ...cliConnectionFlags()],
      { REDURABLE_CRASH_POINT: 'update-build.after-script' },
    );
    expect(moved.stdout).toBe(''); // killed before it printed anything
    expect((await b.client.getHandle('moved').describe()).pinnedBuild).toEqual({ build: 'build-b', live: true });
    expect(await b.client.getHandle('moved').result()).toBe('done');
    expect((await b.client.getHandle('moved').describe()).lastTaskBuild).toBe('build-b');
  }, 60_000);

  test('an auto-upgrade run cannot be moved: any worker runs it', async () => {
    const a = await app([Parked], { buildId: 'build-a' });
    const h = await a.client.start(Parked, { workflowId: 'auto' });
    await until('its first task ran', async () => (await h.describe()).lastTaskBuild === 'build-a');
    expect((await h.describe()).pinnedBuild).toBeUndefined();
    await expect(h.updateBuild('build-b')).rejects.toThrow(/its run is not pinned/);
    await h.signal('proceed');
    expect(await h.result()).toBe('done');
  }, 30_000);

  test('a pinned type needs a buildId, and versioning must be pinned or auto-upgrade: errors at boot', async () => {
    await expect(createTestApp([OrderV1, Steps])).rejects.toThrow(
      /'Order' are pinned \(@Workflow\(\{ versioning: 'pinned' \}\)\), which needs the module option buildId/,
    );
    await expect(createTestApp([Parked], { defaultVersioning: 'pinned' })).rejects.toThrow(InvalidOptionsError);
    await expect(
      createTestApp([Parked], { defaultVersioning: 'always' as unknown as 'pinned', buildId: 'x' }),
    ).rejects.toThrow("defaultVersioning must be 'pinned' or 'auto-upgrade' (got always)");
    @Workflow({ versioning: 'sometimes' as unknown as 'pinned' })
    class Bad {
      @WorkflowRun() async run(): Promise<void> {}
    }
    await expect(createTestApp([Bad], { buildId: 'x' })).rejects.toThrow(InvalidWorkflowClassError);
  });
});
