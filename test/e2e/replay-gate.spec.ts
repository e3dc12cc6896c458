import { afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Activities, Activity, InvalidOptionsError, ReplayCheckError, Workflow, WorkflowRun } from 'redurable';
import { patched, proxyActivities, sleep } from 'redurable/workflow';
import { replayHistories } from 'redurable/testing';
import { cliConnectionFlags, createTestApp, type TestApp } from '../support/test-app.js';
import { runCli } from '../support/cli.js';
import { until } from '../support/until.js';

@Activities()
class GateActivities {
  @Activity() async stepA(): Promise<string> {
    return 'A';
  }
  @Activity() async stepB(): Promise<string> {
    return 'B';
  }
}

/** Build A: step A, a timer, step B. */
@Workflow({ name: 'Gated', taskQueue: 'gate' })
class GatedA {
  private readonly steps = proxyActivities(GateActivities, { eager: false });
  @WorkflowRun() async run(): Promise<string> {
    const a = await this.steps.stepA();
    await sleep(1500);
    return a + (await this.steps.stepB());
  }
}

/** Build B, careless: the steps swapped. It does not replay build A's runs. */
@Workflow({ name: 'Gated', taskQueue: 'gate' })
class GatedSwapped {
  private readonly steps = proxyActivities(GateActivities, { eager: false });
  @WorkflowRun() async run(): Promise<string> {
    const b = await this.steps.stepB();
    await sleep(1500);
    return (await this.steps.stepA()) + b;
  }
}

/** Build B, careful: the new order behind patched(), so runs begun on build A keep the old one. */
@Workflow({ name: 'Gated', taskQueue: 'gate' })
class GatedPatched {
  private readonly steps = proxyActivities(GateActivities, { eager: false });
  @WorkflowRun() async run(): Promise<string> {
    if (!patched('b-first')) {
      const a = await this.steps.stepA();
      await sleep(1500);
      return a + (await this.steps.stepB());
    }
    const b = await this.steps.stepB();
    return (await this.steps.stepA()) + b;
  }
}

@Workflow({ name: 'Other', taskQueue: 'gate' })
class OtherWorkflow {
  @WorkflowRun() async run(): Promise<void> {}
}

let apps: TestApp[] = [];
afterEach(async () => {
  for (const a of apps.reverse()) await a.close().catch(() => undefined);
  apps = [];
});

const IDS = ['gate-1', 'gate-2', 'gate-3'];
let exported: string;

/** Build A starts three runs and stops while they wait on their timer; returns the prefix. */
async function runsOnBuildA(): Promise<string> {
  const a = await createTestApp([GateActivities, GatedA]);
  for (const id of IDS) await a.client.start(GatedA, { workflowId: id });
  for (const id of IDS)
    await until(`${id} on its timer`, async () =>
      (await a.client.getHandle(id).fetchHistory()).some((e) => e.type === 'TimerStarted'),
    );
  await a.close();
  return a.prefix;
}

async function buildB(workflow: typeof GatedSwapped | typeof GatedPatched, prefix: string, options = {}) {
  const b = await createTestApp([GateActivities, workflow], { prefix, ...options });
  apps.push(b);
  return b;
}

beforeAll(() => {
  exported = join(mkdtempSync(join(tmpdir(), 'redurable-gate-')), 'runs.ndjson');
});

describe('the replay gate', () => {
  test('a worker whose code does not replay the running histories refuses to boot, naming each and both sides; nothing ran', async () => {
    const prefix = await runsOnBuildA();
    const boot = buildB(GatedSwapped, prefix);
    await expect(boot).rejects.toThrow(ReplayCheckError);
    const err = (await boot.catch((e: unknown) => e)) as ReplayCheckError;
    expect(err.divergences.map((d) => d.workflowId).sort()).toEqual(IDS);
    expect(err.message).toContain('does not replay 3 of 3 histories');
    expect(err.message).toMatch(
      /> #2 +ActivityTaskScheduled\(stepA\) seq 1 +produced ActivityTaskScheduled\(stepB\) seq 1/,
    );
    // The refused worker took no task: past the runs' timers (a worker that took their timer jobs
    // would have failed their next task), they still wait, with no task failure.
    const check = await createTestApp([], { prefix, worker: false });
    apps.push(check);
    await new Promise((r) => setTimeout(r, 2000));
    for (const id of IDS) {
      const d = await check.client.getHandle(id).describe();
      expect([d.status, d.taskFailure, d.pendingTimers.length]).toEqual(['running', undefined, 1]);
    }
  }, 30_000);

  test('runs that have not begun do not use up perType, and runs of task queues the worker does not serve are not its concern', async () => {
    const prefix = await runsOnBuildA();
    const client = await createTestApp([GatedA], { prefix, worker: false });
    apps.push(client);
    // Newer than the parked runs: five starts no task has taken yet, and one run on another task queue.
    for (let i = 0; i < 5; i++) await client.client.start(GatedA, { workflowId: `fresh-${i}` });
    await expect(buildB(GatedSwapped, prefix, { replayCheck: { perType: 3 } })).rejects.toThrow(
      'does not replay 3 of 3 histories',
    );
    // A worker that serves only another task queue has none of these runs to take: it boots.
    const other = await buildB(GatedSwapped, prefix, { taskQueues: ['elsewhere'] });
    await other.close();
    apps = apps.filter((a) => a !== other);
  }, 30_000);

  test("onFailure 'warn' logs the divergences and boots; a compatible build (patched) boots and finishes the runs", async () => {
    const prefix = await runsOnBuildA();
    const warnings: string[] = [];
    const logger = { log: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined };
    const warned = await buildB(GatedSwapped, prefix, { replayCheck: { onFailure: 'warn' }, logger, worker: false });
    // A client-only app has no gate; a worker with 'warn' logs and starts.
    expect(warnings.join('\n')).not.toContain('Replay check failed');
    await warned.close();
    apps = apps.filter((a) => a !== warned);
    const worker = await buildB(GatedSwapped, prefix, { replayCheck: { onFailure: 'warn' }, logger });
    expect(warnings.join('\n')).toContain('Replay check failed: the code does not replay 3 of 3 histories');
    await worker.close();
    apps = apps.filter((a) => a !== worker);

    const b = await buildB(GatedPatched, prefix);
    for (const id of IDS) expect(await b.client.getHandle<string>(id).result()).toBe('AB');
    // New runs take the new branch.
    expect(await (await b.client.start(GatedPatched, { workflowId: 'gate-new' })).result()).toBe('AB');
    expect(
      (await b.client.getHandle('gate-new').fetchHistory())
        .filter((e) => e.type === 'ActivityTaskScheduled')
        .map((e) => e.activityType),
    ).toEqual(['stepB', 'stepA']);
  }, 40_000);

  test('the CI path: export the running histories, then replayHistories fails on the incompatible code and passes on the compatible one', async () => {
    const prefix = await runsOnBuildA();
    const flags = [...cliConnectionFlags(), '--prefix', prefix];
    const out = await runCli([
      'workflow',
      'export',
      '--type',
      'Gated',
      '--status',
      'running',
      '--limit',
      '100',
      ...flags,
    ]);
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { workflowId: string }).workflowId).sort()).toEqual(IDS);
    writeFileSync(exported, out.stdout);

    const swapped = await replayHistories(exported, [GatedSwapped]).catch((e: unknown) => e);
    expect(swapped).toBeInstanceOf(ReplayCheckError);
    expect((swapped as ReplayCheckError).divergences).toHaveLength(3);
    expect((swapped as ReplayCheckError).message).toContain(exported);
    expect(await replayHistories(exported, [GatedPatched])).toEqual({ replayed: { Gated: 3 } });
    await expect(replayHistories(exported, [OtherWorkflow])).rejects.toThrow(/not one of the classes given \(Other\)/);
  }, 30_000);

  test('a bad replayCheck option stops the app at boot', async () => {
    await expect(createTestApp([], { replayCheck: { perType: 0, onFailure: 'maybe' } as never })).rejects.toThrow(
      InvalidOptionsError,
    );
    await expect(createTestApp([], { replayCheck: { perType: 0 } })).rejects.toThrow(
      /replayCheck.perType must be a whole number from 1 to 10000 \(got 0\)/,
    );
  });
});
