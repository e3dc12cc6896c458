import { afterEach, describe, expect, test } from '@jest/globals';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RedurableConsoleModule } from 'redurable-console';
import {
  Activities,
  Activity,
  DurableModule,
  InvalidArgumentError,
  InvalidOptionsError,
  WorkflowNotFoundError,
  Signal,
  Workflow,
  WorkflowRun,
  type WorkflowHandle,
} from 'redurable';
import { condition, continueAsNew, proxyActivities, startChild, workflowInfo } from 'redurable/workflow';
import {
  cliConnectionFlags,
  createTestApp,
  keyNames,
  keysUnder,
  testConnection,
  type TestApp,
} from '../support/test-app.js';
import { until } from '../support/until.js';
import { runCli } from '../support/cli.js';

interface Job {
  tenant: string;
}

@Activities()
class WorkActivities {
  @Activity() async work(ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
  }
}

/** Imports per tenant, at most 2 at once per tenant: each does a short piece of work. */
@Workflow({ taskQueue: 'flow-wf', concurrency: { limit: 2, key: (job: Job) => job.tenant } })
class ImportWorkflow {
  private readonly acts = proxyActivities(WorkActivities, { eager: false });

  @WorkflowRun()
  async run(_job: Job): Promise<void> {
    await this.acts.work(150);
  }
}

/** One at a time (no key): ends as its signal says, or continues as new once. */
@Workflow({ taskQueue: 'flow-wf', concurrency: { limit: 1 } })
class SingleWorkflow {
  private ending?: 'complete' | 'fail' | 'continue';

  @WorkflowRun()
  async run(generation = 0): Promise<string> {
    await condition(() => this.ending !== undefined);
    if (this.ending === 'fail') throw new Error('failed on purpose');
    if (this.ending === 'continue' && generation === 0) continueAsNew(1);
    return `done ${generation}`;
  }

  @Signal() end(how: 'complete' | 'fail' | 'continue') {
    this.ending = how;
  }
}

@Workflow({
  taskQueue: 'flow-wf',
  concurrency: {
    limit: 1,
    key: (x: unknown) => {
      if (x === 'throw') throw new Error('no tenant in the input');
      return x as string;
    },
  },
})
class BadKeyWorkflow {
  @WorkflowRun() async run(_x: unknown): Promise<void> {}
}

/** Starts two SingleWorkflow children (limit 1) and ends them in turn: the second waits for the first's slot. */
@Workflow({ taskQueue: 'flow-wf' })
class ParentOfLimitedWorkflow {
  @WorkflowRun()
  async run(): Promise<string[]> {
    const id = workflowInfo().workflowId;
    const a = await startChild(SingleWorkflow, { workflowId: `${id}-a` });
    const b = await startChild(SingleWorkflow, { workflowId: `${id}-b` });
    return [await a.result(), await b.result()];
  }
}

let apps: TestApp[] = [];
afterEach(async () => {
  for (const a of apps.reverse()) await a.close();
  apps = [];
});

async function app(options: Parameters<typeof createTestApp>[1] = {}): Promise<TestApp> {
  const t = await createTestApp(
    [WorkActivities, ImportWorkflow, SingleWorkflow, BadKeyWorkflow, ParentOfLimitedWorkflow],
    options,
  );
  apps.push(t);
  return t;
}

/** When each run's code first ran (its first scheduled activity) and when it closed, from its history. */
async function runningInterval(handle: WorkflowHandle): Promise<[number, number]> {
  const history = await handle.fetchHistory();
  const first = history.find((e) => e.type === 'ActivityTaskScheduled');
  return [first!.ts, history[history.length - 1].ts];
}

/** The most intervals open at once. */
function maxOverlap(intervals: [number, number][]): number {
  const points = intervals.flatMap(([a, b]) => [
    [a, 1],
    [b, -1],
  ]);
  points.sort((x, y) => x[0] - y[0] || x[1] - y[1]); // a close before a start at the same ms
  let open = 0;
  let most = 0;
  for (const [, d] of points) most = Math.max(most, (open += d));
  return most;
}

const waiting = async (handle: WorkflowHandle) => (await handle.describe()).waitingFor;

describe('workflow concurrency limits', () => {
  test('at most `limit` runs per key at once across two workers; starts over it wait in start order; keys take turns', async () => {
    const a = await app();
    await app({ prefix: a.prefix }); // a second worker on the same prefix
    const tenantA = [];
    for (let i = 0; i < 6; i++)
      tenantA.push(await a.client.start(ImportWorkflow, { workflowId: `imp-a-${i}`, args: [{ tenant: 'a' }] }));
    // Over the limit: recorded at once, waiting, in start order.
    const described = await Promise.all(tenantA.slice(2).map((h) => h.describe()));
    expect(described.map((d) => d.status)).toEqual(['running', 'running', 'running', 'running']);
    for (const d of described) expect(d.waitingFor).toMatchObject({ limit: 'ImportWorkflow', key: 'a' });
    // Another tenant does not wait behind tenant a.
    const b = await a.client.start(ImportWorkflow, { workflowId: 'imp-b-0', args: [{ tenant: 'b' }] });
    expect(await waiting(b)).toBeUndefined();
    await b.result();
    for (const h of tenantA) await h.result();
    const intervals = await Promise.all(tenantA.map(runningInterval));
    expect(maxOverlap(intervals)).toBeLessThanOrEqual(2);
    // In start order: each run of the key began no earlier than the one started before the one before it.
    const begun = intervals.map(([s]) => s);
    for (let i = 2; i < begun.length; i++) expect(begun[i]).toBeGreaterThanOrEqual(intervals[i - 2][1]);
    // No one left waiting.
    expect(await a.client.count({ waiting: true })).toBe(0);
  });

  test('every way a run ends frees its slot for the next waiter; continue-as-new and the reset of a running run keep it', async () => {
    const t = await app({ leaseTtl: '1s', sweepInterval: '300ms' });
    let n = 0;
    const next = async (timeout = false) =>
      t.client.start(SingleWorkflow, {
        workflowId: `single-${n++}`,
        ...(timeout ? { workflowRunTimeout: '300ms' } : {}),
      });
    const holder = async (h: WorkflowHandle) =>
      until(`${h.workflowId} holds the slot`, async () => !(await waiting(h)));

    let current = await next();
    await holder(current);
    const endings: [string, (h: WorkflowHandle) => Promise<unknown>][] = [
      ['complete', (h) => h.signal('end', 'complete')],
      ['fail', (h) => h.signal('end', 'fail')],
      ['cancel', (h) => h.cancel()],
      ['terminate', (h) => h.terminate()],
    ];
    for (const [how, end] of endings) {
      const waiter = await next();
      expect(await waiting(waiter)).toEqual({ limit: 'SingleWorkflow', key: '', ahead: 0 });
      await end(current);
      await current.result().catch(() => undefined);
      await holder(waiter);
      expect(`${how}: ${(await current.describe()).status}`).not.toContain('running');
      current = waiter;
    }
    // Continue-as-new: the next run holds the slot, the waiter still waits.
    let waiter = await next();
    await current.signal('end', 'continue');
    const firstRun = (await current.describe()).runId;
    current = t.client.getHandle(current.workflowId); // follows the execution to its next run
    await until('continued as new', async () => (await current.describe()).runId !== firstRun);
    expect(await waiting(waiter)).toEqual({ limit: 'SingleWorkflow', key: '', ahead: 0 });
    // Reset of the running run: the new run keeps the slot.
    const reset = await current.reset({ to: 'firstWorkflowTask', reason: 'test' });
    expect(await waiting(reset)).toBeUndefined();
    expect(await waiting(waiter)).toEqual({ limit: 'SingleWorkflow', key: '', ahead: 0 });
    await reset.signal('end', 'complete');
    await reset.result();
    await holder(waiter);
    // Reset of a closed run: it asks for a slot again, and waits while another holds it.
    const again = await reset.reset({ to: 'firstWorkflowTask', reason: 'again', reapplySignals: false });
    expect(await waiting(again)).toEqual({ limit: 'SingleWorkflow', key: '', ahead: 0 });
    // Timeout: a run timing out frees the slot.
    current = waiter;
    waiter = await next(true);
    await current.signal('end', 'complete');
    await current.result();
    // `again` waited before `waiter`: it holds the slot now; `waiter` times out while it waits.
    await holder(again);
    await again.signal('end', 'complete');
    await again.result();
    await expect(waiter.result()).rejects.toThrow();
    expect((await waiter.describe()).status).toBe('timed_out');
    const last = await next();
    await holder(last);
    await last.signal('end', 'complete');
    await last.result();
    expect(await t.client.count({ waiting: true })).toBe(0);
  });

  test('waiting runs are listed and counted as such, and describe(), the CLI and the explorer say what they wait for', async () => {
    const t = await app();
    const holder = await t.client.start(SingleWorkflow, { workflowId: 'vis-0' });
    await t.client.start(SingleWorkflow, { workflowId: 'vis-1', priority: 2 });
    await t.client.start(SingleWorkflow, { workflowId: 'vis-2' });
    expect(await t.client.count({ waiting: true })).toBe(2);
    expect(await t.client.count({ query: 'FlowWaiting = true' })).toBe(2);
    expect((await t.client.list({ waiting: true })).workflows.map((w) => w.workflowId).sort()).toEqual([
      'vis-1',
      'vis-2',
    ]);
    // Priority first: vis-1 (priority 2) is ahead of vis-2, started before it.
    expect(await waiting(t.client.getHandle('vis-2'))).toEqual({ limit: 'SingleWorkflow', key: '', ahead: 1 });
    const flags = [...cliConnectionFlags(), '--prefix', t.prefix];
    const shown = await runCli(['workflow', 'describe', 'vis-1', ...flags]);
    expect(shown.stdout).toContain("Waiting    for a slot of limit 'SingleWorkflow', 0 ahead");
    expect(shown.stdout).toContain('Priority   2');
    expect((await runCli(['workflow', 'count', '--waiting', ...flags])).stdout.trim()).toBe('2');
    expect((await runCli(['workflow', 'list', '--waiting', ...flags])).stdout).toContain('vis-2');

    @Module({
      imports: [
        DurableModule.forRoot({ connection: testConnection(), prefix: t.prefix, worker: false, logger: false }),
        RedurableConsoleModule.forRoot({ auth: () => true }),
      ],
    })
    class ConsoleApp {}
    const web = await NestFactory.create(ConsoleApp, { logger: false });
    await web.listen(0, '127.0.0.1');
    try {
      const url = `http://127.0.0.1:${(web.getHttpServer().address() as { port: number }).port}`;
      const page = await (await fetch(`${url}/workflows/vis-2`)).text();
      expect(page).toContain('a slot of limit <code>SingleWorkflow</code>, 1 ahead');
    } finally {
      await web.close();
    }
    await holder.signal('end', 'complete');
    await until('vis-1 runs', async () => (await t.client.count({ waiting: true })) === 1);
    expect(await waiting(t.client.getHandle('vis-1'))).toBeUndefined();
  });

  test('a waiting run that lost its place in line (a crash between its start and its request) is put back by the sweep', async () => {
    const t = await app({ leaseTtl: '1s', sweepInterval: '300ms' });
    const first = await t.client.start(SingleWorkflow, { workflowId: 'lost-0' });
    const second = await t.client.start(SingleWorkflow, { workflowId: 'lost-1' });
    const k = keyNames(t.prefix);
    expect(await t.redis.zrem(k.flowWaiters('SingleWorkflow', ''), `wf:lost-1|${second.runId}`)).toBe(1);
    expect(await waiting(second)).toEqual({ limit: 'SingleWorkflow', key: '' }); // not in line: no `ahead`
    await first.signal('end', 'complete'); // its release wakes no one: lost-1 is not in line
    await first.result();
    await until('the sweep puts lost-1 back in line and gives it the slot', async () => !(await waiting(second)));
    await second.signal('end', 'complete');
    await expect(second.result()).resolves.toBe('done 0');
  });

  test('a slot left held by a closed run (a crash between its close and its release) is freed by the sweep', async () => {
    const t = await app({ leaseTtl: '1s', sweepInterval: '300ms' });
    // What a run closed by a process that died before freeing its slot leaves: its holder in the
    // slots and in its shard's release index, closed a while ago.
    const k = keyNames(t.prefix);
    const flow = { name: 'SingleWorkflow', key: '', limit: 1, holder: 'wf:ghost|r1' };
    const shard = k.shardOf('ghost');
    await t.redis.zadd(k.flowHolders('SingleWorkflow', ''), '+inf', flow.holder);
    await t.redis.zadd(k.flowReleaseIndex(shard), Date.now() - 10_000, flow.holder);
    await t.redis.hset(k.flowReleaseDataIndex(shard), flow.holder, JSON.stringify(flow));
    const waiter = await t.client.start(SingleWorkflow, { workflowId: 'after-ghost' });
    expect(await waiting(waiter)).toEqual({ limit: 'SingleWorkflow', key: '', ahead: 0 });
    await until('the sweep frees the slot and wakes the waiter', async () => !(await waiting(waiter)));
    expect(await t.redis.zcard(k.flowReleaseIndex(shard))).toBe(0);
    expect(await t.redis.zrange(k.flowHolders('SingleWorkflow', ''), '0', '-1')).toEqual([
      `wf:after-ghost|${waiter.runId}`,
    ]);
  });

  test("a child workflow of a limited type waits for its type's slot like any start", async () => {
    const t = await app();
    const parent = await t.client.start(ParentOfLimitedWorkflow, { workflowId: 'parent' });
    await until('both children started', async () => (await t.client.count({ type: 'SingleWorkflow' })) === 2);
    // Both are started by one workflow task and ask for the slot at once: either may get it.
    const [a, b] = await until('one child holds the slot, the other waits', async () => {
      const children = [t.client.getHandle('parent-a'), t.client.getHandle('parent-b')];
      const waits = await Promise.all(children.map((c) => waiting(c)));
      if (waits[0] && !waits[1]) return [children[1], children[0]];
      if (!waits[0] && waits[1]) return [children[0], children[1]];
      return undefined;
    });
    expect(await waiting(a)).toBeUndefined();
    expect(await waiting(b)).toEqual({ limit: 'SingleWorkflow', key: '', ahead: 0 });
    expect((await b.fetchHistory())[0]).toMatchObject({ flow: { name: 'SingleWorkflow', key: '', limit: 1 } });
    await a.signal('end', 'complete');
    await until('the second gets the slot', async () => !(await waiting(b)));
    await b.signal('end', 'complete');
    await expect(parent.result()).resolves.toEqual(['done 0', 'done 0']);
  });

  test('a signal to a waiting run is kept for it and runs nothing before its slot', async () => {
    const t = await app();
    const first = await t.client.start(SingleWorkflow, { workflowId: 'sig-0' });
    const second = await t.client.start(SingleWorkflow, { workflowId: 'sig-1' });
    await second.signal('end', 'complete');
    expect(await waiting(second)).toMatchObject({ ahead: 0 });
    expect((await second.fetchHistory()).map((e) => e.type)).toEqual(['WorkflowExecutionStarted', 'SignalReceived']);
    await first.signal('end', 'complete');
    await expect(second.result()).resolves.toBe('done 0');
  });

  test('a key function that throws or returns no usable key is an InvalidArgumentError, and nothing is written', async () => {
    const t = await app({ worker: false });
    const before = await keysUnder(t.redis, t.prefix);
    for (const [arg, said] of [
      [42, 'returned 42'],
      ['', "returned ''"],
      ['x'.repeat(300), 'returned a string of 300 characters'],
      ['throw', 'threw: no tenant in the input'],
    ] as const) {
      const err = await t.client
        .start(BadKeyWorkflow, { workflowId: `bad-${String(arg).length}`, args: [arg] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as Error).message).toContain(`the key function of limit 'BadKeyWorkflow' ${said}`);
      expect((err as Error).message).toContain("Workflow 'BadKeyWorkflow' (bad-");
    }
    expect(await keysUnder(t.redis, t.prefix)).toEqual(before);
  });

  test('a start by type name in a process without the class: a keyless limit holds; a per-key one is refused, nothing written', async () => {
    const worker = await app();
    // A client-only app that registers no workflow class (an API service, or the CLI).
    const bare = await createTestApp([], { prefix: worker.prefix, worker: false });
    apps.push(bare);
    const first = await bare.client.start('SingleWorkflow', { workflowId: 'by-name-1' });
    await until('the first holds the slot', async () => !(await waiting(first)));
    const second = await bare.client.start('SingleWorkflow', { workflowId: 'by-name-2' });
    expect(await waiting(second)).toEqual({ limit: 'SingleWorkflow', key: '', ahead: 0 });
    await first.signal('end', 'complete');
    await until('the second gets the slot', async () => !(await waiting(second)));
    await second.signal('end', 'complete');
    expect(await second.result()).toBe('done 0');

    const refused = await bare.client
      .start('ImportWorkflow', { workflowId: 'by-name-3', args: [{ tenant: 'a' }] })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidArgumentError);
    expect((refused as Error).message).toContain(
      "Cannot start workflow type 'ImportWorkflow' by name here: it has a per-key concurrency limit ('ImportWorkflow', 2 per key)",
    );
    // Nothing written (the first two runs' slots may still be settling, so only this id is checked).
    expect((await keysUnder(bare.redis, bare.prefix)).filter((k) => k.includes('by-name-3'))).toEqual([]);
    await expect(bare.client.getHandle('by-name-3').describe()).rejects.toThrow(WorkflowNotFoundError);
  });

  test('a limit below 1 stops the app at registration', async () => {
    @Workflow({ taskQueue: 'flow-bad', concurrency: { limit: 0 } })
    class ZeroWorkflow {
      @WorkflowRun() async run(): Promise<void> {}
    }
    const err = await createTestApp([ZeroWorkflow]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect((err as Error).message).toContain(
      '@Workflow of ZeroWorkflow: concurrency.limit must be an integer ≥ 1 (got 0)',
    );
  });
});
