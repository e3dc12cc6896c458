import { afterEach, describe, expect, test } from '@jest/globals';
import {
  Activities,
  Activity,
  InvalidArgumentError,
  Signal,
  Workflow,
  WorkflowAlreadyStartedError,
  WorkflowIdReuseError,
  WorkflowNotFoundError,
  WorkflowRun,
  type HistoryEvent,
  type WorkflowHandle,
} from 'redurable';
import { proxyActivities, sleep } from 'redurable/workflow';
import { cliConnectionFlags, createTestApp, keysUnder, testQueue, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';
import { runCli } from '../support/cli.js';

@Activities()
class SyncActivities {
  @Activity() async sync(what: string): Promise<string> {
    return `synced ${what}`;
  }
}

/** Syncs what its last start asked for, and says which signals it had by then. */
@Workflow({ taskQueue: 'debounce' })
class SyncWorkflow {
  private readonly acts = proxyActivities(SyncActivities, { eager: false });
  private readonly notes: string[] = [];

  @WorkflowRun()
  async run(what: string): Promise<string> {
    const done = await this.acts.sync(what);
    return [done, ...this.notes].join(' + ');
  }

  @Signal() note(text: string) {
    this.notes.push(text);
  }
}

/** Says what time its code saw when it began, and sleeps a little first when asked. */
@Workflow({ taskQueue: 'debounce' })
class ClockWorkflow {
  @WorkflowRun()
  async run(sleepMs: number): Promise<{ began: number; woke: number }> {
    const began = Date.now();
    if (sleepMs > 0) await sleep(sleepMs);
    return { began, woke: Date.now() };
  }
}

@Workflow({ taskQueue: 'debounce', concurrency: { limit: 1 } })
class LimitedWorkflow {
  @WorkflowRun() async run(): Promise<void> {}
}

let apps: TestApp[] = [];
afterEach(async () => {
  for (const a of apps.reverse()) await a.close();
  apps = [];
});

async function app(options: Parameters<typeof createTestApp>[1] = {}): Promise<TestApp> {
  const t = await createTestApp([SyncActivities, SyncWorkflow, ClockWorkflow, LimitedWorkflow], options);
  apps.push(t);
  return t;
}

/** When the run's code first ran: its first task's command, in the history. */
const begun = (history: HistoryEvent[]) => history.find((e) => e.type === 'ActivityTaskScheduled')?.ts;

describe('debounced starts', () => {
  test('starts of one id within the period make one run, with the last arguments, a period after the last', async () => {
    const t = await app();
    const start = (what: string) =>
      t.client.start(SyncWorkflow, { workflowId: 'sync-1', args: [what], debounce: { period: '800ms' } });
    const handles: WorkflowHandle[] = [];
    for (const what of ['a', 'b', 'c']) {
      handles.push(await start(what));
      await new Promise((r) => setTimeout(r, 100));
    }
    // Every caller has the handle of the run that will start; it waits, and says until when.
    const runIds = new Set(await Promise.all(handles.map(async (h) => (await h.describe()).runId)));
    expect(runIds.size).toBe(1);
    const pending = await handles[0].describe();
    expect(pending.status).toBe('running');
    expect(pending.startsAt).toBeInstanceOf(Date);

    expect(await handles[0].result()).toBe('synced c');
    const history = await handles[0].fetchHistory();
    expect(history.map((e) => e.type).slice(0, 3)).toEqual([
      'WorkflowExecutionStarted',
      'WorkflowStartDebounced',
      'WorkflowStartDebounced',
    ]);
    const last = history[2] as Extract<HistoryEvent, { type: 'WorkflowStartDebounced' }>;
    // A period after that start (the event's stream time may be a ms past the script's clock read).
    expect(last.startAt - last.ts).toBeGreaterThanOrEqual(795);
    expect(last.startAt - last.ts).toBeLessThanOrEqual(800);
    expect(begun(history)).toBeGreaterThanOrEqual(last.startAt);
    // One run: the activity ran once.
    expect(history.filter((e) => e.type === 'ActivityTaskScheduled')).toHaveLength(1);
    expect((await handles[0].describe()).startsAt).toBeUndefined();
  });

  test('once the run began, a debounced start follows the id policies', async () => {
    const t = await app();
    const first = await t.client.start(SyncWorkflow, {
      workflowId: 'sync-2',
      args: ['x'],
      debounce: { period: '200ms' },
    });
    await until('the run began', async () => (await first.describe()).startsAt === undefined);
    // Running or completed: not pending any more, so not replaced.
    const again = () =>
      t.client.start(SyncWorkflow, {
        workflowId: 'sync-2',
        args: ['y'],
        debounce: { period: '200ms' },
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    await expect(again()).rejects.toThrow(/sync-2/);
    expect(await first.result()).toBe('synced x');
  });

  test('maxWait bounds the delay: starts that keep coming do not push the run past it', async () => {
    const t = await app();
    const startedAt = Date.now();
    let refused: unknown;
    let handle: WorkflowHandle | undefined;
    // A start every 150 ms with a 500 ms period would push the start back forever; maxWait ends it.
    while (Date.now() - startedAt < 6000) {
      try {
        handle = await t.client.start(SyncWorkflow, {
          workflowId: 'sync-3',
          args: [`n${Date.now() - startedAt}`],
          debounce: { period: '500ms', maxWait: '1200ms' },
          workflowIdReusePolicy: 'REJECT_DUPLICATE', // once it began (running or done), a start is refused
        });
      } catch (err) {
        refused = err;
        break;
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    expect([WorkflowAlreadyStartedError, WorkflowIdReuseError].some((type) => refused instanceof type)).toBe(true);
    await handle!.result(); // refused once its first task took the run: its commands come with that task's commit
    const history = await handle!.fetchHistory();
    const started = history[0];
    expect(started).toMatchObject({ debounce: { periodMs: 500, maxWaitMs: 1200 } });
    const debounced = history.filter((e) => e.type === 'WorkflowStartDebounced');
    expect(debounced.length).toBeGreaterThan(3);
    // The last start times were capped at the first start + maxWait, and the run began after it.
    const latest = Math.max(...debounced.map((e) => e.startAt));
    expect(latest - started.ts).toBeGreaterThanOrEqual(1195); // (its stream time may be a ms past the script's clock read)
    expect(latest - started.ts).toBeLessThanOrEqual(1200);
    expect(begun(history)).toBeGreaterThanOrEqual(latest);
  });

  test('signals sent while it waits are delivered once it begins; they do not start it early', async () => {
    const t = await app();
    const h = await t.client.start(SyncWorkflow, { workflowId: 'sync-4', args: ['s'], debounce: { period: '700ms' } });
    await h.signal('note', 'hello');
    const { startsAt } = await h.describe();
    expect(await h.result()).toBe('synced s + hello');
    expect(begun(await h.fetchHistory())).toBeGreaterThanOrEqual(startsAt!.getTime());
  });

  test('describe and the CLI say when a waiting run starts', async () => {
    const t = await app();
    const h = await t.client.start(SyncWorkflow, { workflowId: 'sync-7', args: ['v'], debounce: { period: '1m' } });
    const { startsAt, startTime } = await h.describe();
    expect(startsAt!.getTime() - startTime.getTime()).toBe(60_000);
    const described = await runCli(['workflow', 'describe', 'sync-7', '--prefix', t.prefix, ...cliConnectionFlags()]);
    expect(described.stdout).toContain(`Starts at  ${startsAt!.toISOString()} (debounced)`);
    await h.terminate();
  });

  test('a waiting run can be terminated: it never begins', async () => {
    const t = await app();
    const h = await t.client.start(SyncWorkflow, { workflowId: 'sync-5', args: ['t'], debounce: { period: '400ms' } });
    await h.terminate('changed my mind');
    await expect(h.result()).rejects.toThrow(/changed my mind/);
    await new Promise((r) => setTimeout(r, 900)); // past its start time: its delayed task finds it closed
    const history = await h.fetchHistory();
    expect(history.map((e) => e.type)).toEqual(['WorkflowExecutionStarted', 'WorkflowExecutionTerminated']);
    expect((await h.describe()).startsAt).toBeUndefined();
    // The id is free for a new start.
    const next = await t.client.start(SyncWorkflow, {
      workflowId: 'sync-5',
      args: ['u'],
      debounce: { period: '50ms' },
    });
    expect(await next.result()).toBe('synced u');
  });

  test('a lost delayed task: the recovery sweep begins the run after its start time, with the last arguments', async () => {
    const t = await app({ leaseTtl: '1s', sweepInterval: '300ms' });
    const start = (what: string) =>
      t.client.start(SyncWorkflow, { workflowId: 'sync-6', args: [what], debounce: { period: '2s' } });
    await start('first');
    const h = await start('second');
    const { jobQueues, startsAt } = await h.describe();
    const queue = testQueue(jobQueues.workflows, t.prefix);
    try {
      const delayed = await queue.getDelayed();
      expect(delayed.map((j) => j.data.workflowId)).toEqual(['sync-6']); // the first start's job was removed
      await delayed[0].remove();
      expect(await h.result()).toBe('synced second');
      expect(begun(await h.fetchHistory())).toBeGreaterThanOrEqual(startsAt!.getTime());
    } finally {
      await queue.close();
    }
  });

  test("the code's clock starts at the run's start time, so its first timer does not fire early", async () => {
    const t = await app();
    const start = () =>
      t.client.start(ClockWorkflow, { workflowId: 'clock-1', args: [600], debounce: { period: '800ms' } });
    await start();
    await new Promise((r) => setTimeout(r, 200));
    const h = await start();
    const { startsAt } = await h.describe();
    const { began, woke } = (await h.result()) as { began: number; woke: number };
    expect(began).toBe(startsAt!.getTime());
    const fired = (await h.fetchHistory()).find((e) => e.type === 'TimerFired')!;
    expect(fired.ts - began).toBeGreaterThanOrEqual(600);
    expect(woke).toBe(fired.ts);
  });

  test('a task that comes early (this clock ahead of Redis) is put back for the start time, not left to the sweep', async () => {
    const t = await app({ leaseTtl: '5s' });
    const realNow = Date.now;
    Date.now = () => realNow() + 300; // the starter and the worker both run ahead of Redis
    try {
      const h = await t.client.start(SyncWorkflow, {
        workflowId: 'sync-8',
        args: ['skew'],
        debounce: { period: '400ms' },
      });
      const { startsAt } = await h.describe();
      expect(await h.result()).toBe('synced skew');
      const began = begun(await h.fetchHistory())!;
      expect(began).toBeGreaterThanOrEqual(startsAt!.getTime());
      expect(began - startsAt!.getTime()).toBeLessThan(2500); // the sweep would come only after leaseTtl (5 s)
    } finally {
      Date.now = realNow;
    }
  });

  test('a debounced start on another task queue does not replace the waiting run: the id policies apply', async () => {
    const t = await app();
    const h = await t.client.start(SyncWorkflow, {
      workflowId: 'sync-9',
      args: ['here'],
      debounce: { period: '500ms' },
    });
    await expect(
      t.client.start(SyncWorkflow, {
        workflowId: 'sync-9',
        args: ['there'],
        taskQueue: 'nobody-serves-this',
        debounce: { period: '500ms' },
      }),
    ).rejects.toThrow(WorkflowAlreadyStartedError);
    expect(await h.result()).toBe('synced here');
  });

  test('cancelling a waiting run begins it at once, cancelled; a reset to its first task keeps its last arguments', async () => {
    const t = await app();
    const waiting = await t.client.start(SyncWorkflow, {
      workflowId: 'sync-10',
      args: ['x'],
      debounce: { period: '1m' },
    });
    await waiting.cancel();
    await expect(waiting.result()).rejects.toThrow(/cancel/i);
    expect((await waiting.describe()).status).toBe('canceled');

    const start = (what: string) =>
      t.client.start(SyncWorkflow, { workflowId: 'sync-11', args: [what], debounce: { period: '300ms' } });
    await start('first');
    const h = await start('last');
    expect(await h.result()).toBe('synced last');
    await h.reset({ to: 'firstWorkflowTask', reason: 'again' });
    expect(await t.client.getHandle('sync-11').result()).toBe('synced last');
  });

  test('bad debounce options are refused at the call, and nothing is written', async () => {
    const t = await app();
    const before = await keysUnder(t.redis, t.prefix);
    const bad: [unknown, RegExp][] = [
      [{ period: 0 }, /period must be at least 1 ms/],
      [{ period: '5 fortnights' }, /period '5 fortnights'/],
      [{ period: '2s', maxWait: '1s' }, /maxWait must be at least the period/],
      [{ period: '1s', leading: true }, /unknown option 'leading'/],
      ['5s', /not an object/],
    ];
    for (const [debounce, message] of bad) {
      const call = t.client.start(SyncWorkflow, { workflowId: 'sync-bad', args: ['x'], debounce: debounce as never });
      await expect(call).rejects.toThrow(InvalidArgumentError);
      await expect(
        t.client.start(SyncWorkflow, { workflowId: 'sync-bad', args: ['x'], debounce: debounce as never }),
      ).rejects.toThrow(message);
    }
    await expect(
      t.client.start(LimitedWorkflow, { workflowId: 'limited', debounce: { period: '1s' } }),
    ).rejects.toThrow(/concurrency limit/);
    await expect(
      t.client.signalWithStart(SyncWorkflow, {
        workflowId: 'sync-bad',
        signal: 'note',
        args: ['x'],
        ...({ debounce: { period: '1s' } } as object),
      }),
    ).rejects.toThrow(/does not take debounce/);
    await expect(t.client.getHandle('sync-bad').describe()).rejects.toThrow(WorkflowNotFoundError);
    expect(await keysUnder(t.redis, t.prefix)).toEqual(before);
  });
});
