import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  Activities,
  Activity,
  InvalidOptionsError,
  InvalidWorkflowClassError,
  LocalActivityOptions,
  Workflow,
  WorkflowFailedError,
  WorkflowRun,
  activityContext,
  type HistoryEvent,
} from 'redurable';
import { proxyActivities, proxyLocalActivities } from 'redurable/workflow';
import type { Queue } from 'bullmq';
import { createTestApp, testQueue, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

/**
 * Activity concurrency and rate limits (issue 24) in one process: a waiting activity is shown by
 * describe() and uses no attempt, a parked async attempt keeps its slot, scheduleToClose counts
 * the wait, a key function's mistake is a typed error in workflow code, and bad options stop the
 * app. Across processes and under SIGKILL: test/crash/flow-activities.spec.ts.
 */

/** Gates of the running `gated` activities, by tag: the test opens them. */
const gates = new Map<string, () => void>();
const started: string[] = [];
const tokens = new Map<string, string>();

@Injectable()
@Activities()
class LimitedActivities {
  @Activity({ concurrency: { limit: 1, key: (key: string) => key }, retry: { maximumAttempts: 1 } })
  async gated(key: string, tag: string): Promise<string> {
    started.push(tag);
    await new Promise<void>((resolve) => gates.set(tag, resolve));
    return tag;
  }

  /** Completed from outside: its parked attempt holds the slot meanwhile. */
  @Activity({ concurrency: { limit: 1, key: (key: string) => key, name: 'gated' }, startToCloseTimeout: '1h' })
  async approval(key: string, tag: string): Promise<string> {
    started.push(tag);
    tokens.set(tag, activityContext().completeAsync());
    return 'ignored';
  }

  /** One start an hour per key. */
  @Activity({ rateLimit: { limit: 1, period: '1h', key: (key: string) => key }, retry: { maximumAttempts: 1 } })
  async rated(key: string, tag: string): Promise<string> {
    started.push(tag);
    return tag;
  }

  @Activity({ concurrency: { limit: 1, key: (order: { tenant?: unknown }) => order.tenant as string } })
  async keyed(order: { tenant?: unknown }): Promise<string> {
    return `ran for ${String(order.tenant)}`;
  }
}

@Workflow({ taskQueue: 'flow-e2e' })
class GatedWorkflow {
  @WorkflowRun()
  async run(key: string, tag: string, scheduleToClose?: string): Promise<string> {
    const acts = proxyActivities(
      LimitedActivities,
      scheduleToClose ? { scheduleToCloseTimeout: scheduleToClose as '1s' } : {},
    );
    return acts.gated(key, tag);
  }
}

@Workflow({ taskQueue: 'flow-e2e' })
class ApprovalWorkflow {
  constructor(private readonly acts: LimitedActivities) {}

  @WorkflowRun()
  async run(key: string, tag: string): Promise<string> {
    return this.acts.approval(key, tag);
  }
}

@Workflow({ taskQueue: 'flow-e2e' })
class RatedWorkflow {
  constructor(private readonly acts: LimitedActivities) {}

  @WorkflowRun()
  async run(key: string, tag: string): Promise<string> {
    return this.acts.rated(key, tag);
  }
}

/** Calls `keyed`, catching what its call rejects with when `catchIt`. */
@Workflow({ taskQueue: 'flow-e2e' })
class KeyedWorkflow {
  constructor(private readonly acts: LimitedActivities) {}

  @WorkflowRun()
  async run(order: { tenant?: unknown }, catchIt: boolean): Promise<string> {
    if (!catchIt) return this.acts.keyed(order);
    try {
      return await this.acts.keyed(order);
    } catch (err) {
      return `caught ${(err as Error).name}: ${(err as Error).message}`;
    }
  }
}

@Workflow({ taskQueue: 'flow-e2e' })
class LocalLimitedWorkflow {
  @WorkflowRun()
  async run(): Promise<string> {
    try {
      return await proxyLocalActivities(LimitedActivities).keyed({ tenant: 't' });
    } catch (err) {
      return `caught ${(err as Error).name}: ${(err as Error).message}`;
    }
  }
}

let t: TestApp | undefined;
let queue: Queue | undefined;
afterEach(async () => {
  for (const open of gates.values()) open();
  gates.clear();
  await queue?.close();
  queue = undefined;
  await t?.close();
  t = undefined;
});

const app = () =>
  createTestApp([
    LimitedActivities,
    GatedWorkflow,
    ApprovalWorkflow,
    RatedWorkflow,
    KeyedWorkflow,
    LocalLimitedWorkflow,
  ]);

/** The workflow ids of the activity jobs (what Bull Board shows): eager activities have none. */
async function jobsOf(app: TestApp): Promise<string[]> {
  queue ??= testQueue('{flow-e2e-activities}', app.prefix);
  const jobs = await queue.getJobs(['completed', 'waiting', 'active', 'failed', 'delayed', 'prioritized']);
  return jobs.map((j) => (j.data as { workflowId: string }).workflowId).sort();
}
const completions = (h: HistoryEvent[]) =>
  h.flatMap((e) => (e.type === 'ActivityTaskCompleted' || e.type === 'ActivityTaskFailed' ? [e] : []));

describe('eager limited activities', () => {
  test('a limited activity whose slot is free runs eagerly, holding it (no job); one over the limit is queued and waits in line', async () => {
    t = await app();
    const key = `acct-${Date.now()}`;
    const first = await t.client.start(GatedWorkflow, { workflowId: `${key}-a`, args: [key, `${key}-a`] });
    await until('the first activity to run', () => gates.has(`${key}-a`));
    const running = (await first.describe()).pendingActivities[0];
    expect(running.eager?.worker).toEqual(expect.any(String));
    expect(running.waitingFor).toBeUndefined();
    const second = await t.client.start(GatedWorkflow, { workflowId: `${key}-b`, args: [key, `${key}-b`] });
    const waiting = await until('the second to wait for the slot', async () => {
      const p = (await second.describe()).pendingActivities[0];
      return p?.waitingFor && p;
    });
    expect(waiting.waitingFor).toEqual({ limit: 'gated', key, ahead: 0 });
    expect(waiting.eager).toBeUndefined();
    expect(started.filter((s) => s.startsWith(key))).toEqual([`${key}-a`]);

    gates.get(`${key}-a`)!();
    expect(await first.result()).toBe(`${key}-a`);
    await until('the second to run', () => gates.has(`${key}-b`));
    gates.get(`${key}-b`)!();
    expect(await second.result()).toBe(`${key}-b`);
    // Only the activity that had to wait became a job.
    expect(await jobsOf(t)).toEqual([`${key}-b`]);
    expect(completions(await second.fetchHistory()).map((e) => [e.type, e.attempt])).toEqual([
      ['ActivityTaskCompleted', 1],
    ]);
  });

  test('a rate-limited activity runs eagerly while its window has room; past it, it is queued until its window frees', async () => {
    t = await app();
    const key = `partner-${Date.now()}`;
    const first = await t.client.start(RatedWorkflow, { workflowId: `${key}-a`, args: [key, `${key}-a`] });
    expect(await first.result()).toBe(`${key}-a`);
    const second = await t.client.start(RatedWorkflow, { workflowId: `${key}-b`, args: [key, `${key}-b`] });
    const waiting = await until('the second to wait for the window', async () => {
      const p = (await second.describe()).pendingActivities[0];
      return p?.waitingFor && p;
    });
    expect(waiting.waitingFor).toEqual({ limit: 'rated', key, retryAt: expect.any(Date) });
    expect((waiting.waitingFor as { retryAt: Date }).retryAt.getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect(started.filter((s) => s.startsWith(key))).toEqual([`${key}-a`]);
    expect(await jobsOf(t)).toEqual([`${key}-b`]);
    await second.terminate('test done');
  });
});

describe('activity concurrency limit', () => {
  test('an activity over its limit waits, shown by describe(), without using an attempt; it runs when the slot frees', async () => {
    t = await app();
    const key = `acct-${Date.now()}`;
    const first = await t.client.start(GatedWorkflow, { workflowId: `${key}-a`, args: [key, `${key}-a`] });
    await until('the first activity to run', () => gates.has(`${key}-a`));
    const second = await t.client.start(GatedWorkflow, { workflowId: `${key}-b`, args: [key, `${key}-b`] });
    // Waiters queue in the order they first ask for the slot: the third starts once the second asks.
    const pending = await until('the second to wait for the slot', async () => {
      const p = (await second.describe()).pendingActivities[0];
      return p?.waitingFor && p;
    });
    const third = await t.client.start(GatedWorkflow, { workflowId: `${key}-c`, args: [key, `${key}-c`] });
    expect(pending.waitingFor).toEqual({ limit: 'gated', key, ahead: 0 });
    expect(pending.attempt).toBe(1);
    await until('the third to wait behind it', async () => {
      const w = (await third.describe()).pendingActivities[0]?.waitingFor;
      return w && 'ahead' in w && w.ahead === 1;
    });
    expect(started.filter((s) => s.startsWith(key))).toEqual([`${key}-a`]);

    gates.get(`${key}-a`)!();
    expect(await first.result()).toBe(`${key}-a`);
    await until('the second to run', () => gates.has(`${key}-b`));
    expect(started.filter((s) => s.startsWith(key))).toEqual([`${key}-a`, `${key}-b`]);
    expect((await second.describe()).pendingActivities[0].waitingFor).toBeUndefined();
    gates.get(`${key}-b`)!();
    await until('the third to run', () => gates.has(`${key}-c`));
    gates.get(`${key}-c`)!();
    expect(await third.result()).toBe(`${key}-c`);
    // maximumAttempts 1: had waiting used an attempt, these would have failed.
    for (const h of [await second.fetchHistory(), await third.fetchHistory()])
      expect(completions(h).map((e) => [e.type, e.attempt])).toEqual([['ActivityTaskCompleted', 1]]);
  });

  test("waiters of a key are taken by their workflow's priority, then arrival", async () => {
    t = await app();
    const key = `acct-${Date.now()}`;
    const first = await t.client.start(GatedWorkflow, { workflowId: `${key}-a`, args: [key, `${key}-a`] });
    await until('the first activity to run', () => gates.has(`${key}-a`));
    const normal = await t.client.start(GatedWorkflow, { workflowId: `${key}-b`, args: [key, `${key}-b`] });
    await until(
      'the default-priority one to wait',
      async () => !!(await normal.describe()).pendingActivities[0]?.waitingFor,
    );
    const urgent = await t.client.start(GatedWorkflow, {
      workflowId: `${key}-c`,
      args: [key, `${key}-c`],
      priority: 1,
    });
    await until('the urgent one to wait ahead of it', async () => {
      const w = (await normal.describe()).pendingActivities[0]?.waitingFor;
      return w && 'ahead' in w && w.ahead === 1;
    });
    gates.get(`${key}-a`)!();
    expect(await first.result()).toBe(`${key}-a`);
    await until('the urgent one to run', () => gates.has(`${key}-c`));
    expect(started.filter((s) => s.startsWith(key))).toEqual([`${key}-a`, `${key}-c`]);
    gates.get(`${key}-c`)!();
    expect(await urgent.result()).toBe(`${key}-c`);
    await until('the other to run', () => gates.has(`${key}-b`));
    gates.get(`${key}-b`)!();
    expect(await normal.result()).toBe(`${key}-b`);
  });

  test('other keys do not wait', async () => {
    t = await app();
    const key = `acct-${Date.now()}`;
    await t.client.start(GatedWorkflow, { workflowId: `${key}-a`, args: [`${key}-1`, `${key}-a`] });
    await t.client.start(GatedWorkflow, { workflowId: `${key}-b`, args: [`${key}-2`, `${key}-b`] });
    await until('both to run at once', () => gates.has(`${key}-a`) && gates.has(`${key}-b`));
  });

  test('a parked attempt (completeAsync) keeps its slot until it is completed from outside', async () => {
    t = await app();
    const key = `acct-${Date.now()}`;
    const parked = await t.client.start(ApprovalWorkflow, { workflowId: `${key}-a`, args: [key, `${key}-a`] });
    await until('the approval to park', async () => (await parked.describe()).pendingActivities[0]?.awaitingCompletion);
    const next = await t.client.start(GatedWorkflow, { workflowId: `${key}-b`, args: [key, `${key}-b`] });
    await until(
      'the next to wait for the parked one',
      async () => (await next.describe()).pendingActivities[0]?.waitingFor,
    );
    expect(started.filter((s) => s.startsWith(key))).toEqual([`${key}-a`]);
    await t.client.activity.complete(tokens.get(`${key}-a`)!, 'approved');
    expect(await parked.result()).toBe('approved');
    await until('the next to run', () => gates.has(`${key}-b`), 5000);
  });

  test('scheduleToCloseTimeout counts the wait: an activity waiting past it fails with that timeout', async () => {
    t = await app();
    const key = `acct-${Date.now()}`;
    await t.client.start(GatedWorkflow, { workflowId: `${key}-a`, args: [key, `${key}-a`] });
    await until('the first activity to run', () => gates.has(`${key}-a`));
    const late = await t.client.start(GatedWorkflow, { workflowId: `${key}-b`, args: [key, `${key}-b`, '1s'] });
    const err = await late.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as Error).message).toMatch(/scheduleToCloseTimeout/);
    expect(started.filter((s) => s.startsWith(key))).toEqual([`${key}-a`]);
  });
});

describe('key functions and bad options', () => {
  test('a key function returning no string rejects the call in workflow code with a typed error; nothing is scheduled', async () => {
    t = await app();
    const h = await t.client.start(KeyedWorkflow, { workflowId: `keyed-${Date.now()}`, args: [{ tenant: 42 }, true] });
    expect(await h.result()).toBe(
      "caught InvalidArgumentError: Activity 'keyed': the key function of limit 'keyed' returned 42; it must return a non-empty string of at most 256 characters (nothing was recorded)",
    );
    expect((await h.fetchHistory()).some((e) => e.type === 'ActivityTaskScheduled')).toBe(false);
    const ok = await t.client.start(KeyedWorkflow, {
      workflowId: `keyed-ok-${Date.now()}`,
      args: [{ tenant: 't1' }, true],
    });
    expect(await ok.result()).toBe('ran for t1');
  });

  test('uncaught, the typed error fails the workflow', async () => {
    t = await app();
    const h = await t.client.start(KeyedWorkflow, { workflowId: `keyed-${Date.now()}`, args: [{}, false] });
    const err = await h.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).message).toContain(
      "Activity 'keyed': the key function of limit 'keyed' returned undefined",
    );
  });

  test('a limited activity called as a local activity is refused at the call', async () => {
    t = await app();
    const h = await t.client.start(LocalLimitedWorkflow, { workflowId: `local-${Date.now()}` });
    expect(await h.result()).toBe(
      "caught InvalidOptionsError: Activity 'keyed' (LimitedActivities.keyed) has a concurrency limit, which a local activity cannot wait for: call it through proxyActivities, or remove the limit",
    );
  });

  test('bad limit options stop the app at boot, naming the class, method and option', async () => {
    @Injectable()
    @Activities()
    class BadActivities {
      @Activity({ concurrency: { limit: 0 }, rateLimit: { limit: 5, period: '1s', burst: 2 } as never })
      async charge(): Promise<void> {}
    }
    const err = await createTestApp([BadActivities]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect((err as Error).message).toBe(
      '@Activity of BadActivities.charge: concurrency.limit must be an integer ≥ 1 (got 0)',
    );

    @Injectable()
    @Activities()
    class BadRate {
      @Activity({ rateLimit: { limit: 5, period: '0s' } })
      async call(): Promise<void> {}
    }
    await expect(createTestApp([BadRate])).rejects.toThrow(
      "@Activity of BadRate.call: rateLimit.period must be a duration above zero, such as '1s' or 60000 (got '0s')",
    );
  });

  test('two activities sharing a limit name with different limits stop the app', async () => {
    @Injectable()
    @Activities()
    class Shared {
      @Activity({ concurrency: { limit: 2, name: 'partner' } })
      async a(): Promise<void> {}

      @Activity({ concurrency: { limit: 3, name: 'partner' } })
      async b(): Promise<void> {}
    }
    await expect(createTestApp([Shared])).rejects.toThrow(
      "@Activity of Shared.b: concurrency 'partner' is declared with limit 3, but @Activity of Shared.a declares the same name with limit 2",
    );
  });

  test('a workflow injecting limited activities as local ones stops the app', async () => {
    @Workflow({ taskQueue: 'flow-e2e' })
    class InjectsLocal {
      constructor(@LocalActivityOptions() private readonly acts: LimitedActivities) {}

      @WorkflowRun()
      async run(): Promise<void> {}
    }
    const err = await createTestApp([LimitedActivities, InjectsLocal]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidWorkflowClassError);
    expect((err as Error).message).toContain(
      'Workflow InjectsLocal injects LimitedActivities as local activities (@LocalActivityOptions), but LimitedActivities.gated has a concurrency limit',
    );
  });
});
