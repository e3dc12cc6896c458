import { afterEach, describe, expect, test } from '@jest/globals';
import { InvalidOptionsError, Signal, Workflow, WorkflowRun } from 'redurable';
import { condition } from 'redurable/workflow';
import { cliConnectionFlags, createTestApp, type TestApp } from '../support/test-app.js';
import { runCli } from '../support/cli.js';
import { until } from '../support/until.js';

/** Waits for its `go` signal, then completes. */
@Workflow({ taskQueue: 'builds' })
class ParkedWorkflow {
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

interface BuildRow {
  build: string;
  liveWorkers: unknown[];
  running: Record<string, number>;
  drained: boolean;
}

async function buildList(prefix: string): Promise<Record<string, Omit<BuildRow, 'build'>>> {
  const res = await runCli(['build', 'list', '--json', '--prefix', prefix, ...cliConnectionFlags()]);
  expect(res.stderr).toBe('');
  const rows = JSON.parse(res.stdout) as BuildRow[];
  return Object.fromEntries(
    rows.map(({ build, liveWorkers, running, drained }) => [build, { liveWorkers, running, drained }]),
  );
}

describe('builds', () => {
  test('runs record the build that started them and the one that ran their last task; build list shows live workers, running workflows, and drained builds', async () => {
    const a = await createTestApp([ParkedWorkflow], { buildId: 'build-a' });
    apps.push(a);
    const handle = await a.client.start(ParkedWorkflow, { workflowId: 'parked-1' });
    await until('its first task ran', async () => (await handle.describe()).lastTaskBuild);
    expect(await handle.describe()).toMatchObject({ buildId: 'build-a', lastTaskBuild: 'build-a' });
    expect(await buildList(a.prefix)).toEqual({
      'build-a': { liveWorkers: [expect.anything()], running: { ParkedWorkflow: 1 }, drained: false },
    });

    // Build B rolls out; build A's worker stops: A is not drained while its run has not moved on.
    const b = await createTestApp([ParkedWorkflow], { prefix: a.prefix, buildId: 'build-b' });
    apps.push(b);
    await a.close();
    apps = apps.filter((x) => x !== a);
    expect(await buildList(a.prefix)).toEqual({
      'build-b': { liveWorkers: [expect.anything()], running: {}, drained: false },
      'build-a': { liveWorkers: [], running: { ParkedWorkflow: 1 }, drained: false },
    });

    // Its next task runs on B, and it completes: A is drained.
    await b.client.getHandle('parked-1').signal('proceed');
    expect(await b.client.getHandle('parked-1').result()).toBe('done');
    expect(await b.client.getHandle('parked-1').describe()).toMatchObject({
      buildId: 'build-a',
      lastTaskBuild: 'build-b',
    });
    expect((await buildList(a.prefix))['build-a']).toEqual({ liveWorkers: [], running: {}, drained: true });
    const described = await runCli(['workflow', 'describe', 'parked-1', '--prefix', a.prefix, ...cliConnectionFlags()]);
    expect(described.stdout).toContain('Build      started by build-a, last task on build-b');
  }, 30_000);

  test('a bad buildId stops the app at boot', async () => {
    await expect(createTestApp([], { buildId: 'has space' })).rejects.toThrow(InvalidOptionsError);
    await expect(createTestApp([], { buildId: 'x'.repeat(65) })).rejects.toThrow(/buildId may only hold/);
  });
});
