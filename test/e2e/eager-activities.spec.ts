import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { Activities, Activity, Signal, Workflow, WorkflowRun, activityContext } from 'redurable';
import { proxyActivities } from 'redurable/workflow';
import { createTestApp, testQueue, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

/** Every call: which activity, of which workflow, at which attempt. */
const calls: { activity: string; workflowId: string; attempt: number }[] = [];
const callsOf = (workflowId: string, activity?: string) =>
  calls.filter((c) => c.workflowId === workflowId && (!activity || c.activity === activity));
/** Task tokens handed out, by workflow id. */
const tokens = new Map<string, string>();
/** The stuck activity: whether its first call saw its abort signal. */
let stuck = { aborted: false };

@Injectable()
@Activities()
class EagerActivities {
  private record(activity: string) {
    const { workflowId, attempt } = activityContext();
    calls.push({ activity, workflowId, attempt });
  }

  @Activity() async add(n: number): Promise<number> {
    this.record('add');
    return n + 1;
  }

  @Activity({ eager: false }) async double(n: number): Promise<number> {
    this.record('double');
    return n * 2;
  }

  /** Attempt 1 heartbeats, then fails; attempt 2 returns what it sees. */
  @Activity({ retry: { initialInterval: '50ms', maximumAttempts: 3 } })
  async flaky(): Promise<{ attempt: number; details: unknown }> {
    this.record('flaky');
    const ctx = activityContext();
    if (ctx.attempt === 1) {
      ctx.heartbeat({ tried: 1 });
      throw new Error('first attempt fails');
    }
    return { attempt: ctx.attempt, details: ctx.heartbeatDetails };
  }

  @Activity() async slow(ms: number): Promise<string> {
    this.record('slow');
    await new Promise((r) => setTimeout(r, ms));
    return 'slow done';
  }

  /** Hands out its task token, then returns after a while: completed from outside meanwhile (attempt 1 fails if asked). */
  @Activity({ retry: { initialInterval: '50ms', maximumAttempts: 3 } })
  async approval(failFirst: boolean): Promise<string> {
    this.record('approval');
    const ctx = activityContext();
    if (failFirst && ctx.attempt === 1) throw new Error('first attempt fails');
    tokens.set(ctx.workflowId, ctx.completeAsync());
    await new Promise((r) => setTimeout(r, 1000));
    return 'ignored';
  }

  /** The first call is stuck (it ignores its abort signal for 3s); later calls return at once. */
  @Activity() async stuckOnce(): Promise<string> {
    this.record('stuckOnce');
    const { signal, workflowId } = activityContext();
    if (callsOf(workflowId, 'stuckOnce').length > 1) return 'taken over';
    signal.addEventListener('abort', () => (stuck.aborted = true));
    await new Promise((r) => setTimeout(r, 3000));
    return 'late';
  }
}

@Workflow({ taskQueue: 'eager' })
class ChainWorkflow {
  private readonly acts = proxyActivities(EagerActivities);

  @WorkflowRun() async run(steps: number): Promise<number> {
    let n = 0;
    for (let i = 0; i < steps; i++) n = await this.acts.add(n);
    return this.acts.double(n);
  }
}

@Workflow({ taskQueue: 'eager' })
class QueuedByCallWorkflow {
  private readonly acts = proxyActivities(EagerActivities, { eager: false });

  @WorkflowRun() async run(): Promise<number> {
    return this.acts.add(1);
  }
}

@Workflow({ taskQueue: 'eager' })
class OneActivityWorkflow {
  private readonly acts = proxyActivities(EagerActivities);

  @WorkflowRun() async run(name: 'flaky' | 'slow' | 'stuckOnce', ms = 0): Promise<unknown> {
    return name === 'slow' ? this.acts.slow(ms) : this.acts[name]();
  }
}

@Workflow({ taskQueue: 'eager' })
class SignalledWorkflow {
  private readonly acts = proxyActivities(EagerActivities);
  private pokes = 0;

  @Signal() poke() {
    this.pokes++;
  }

  @WorkflowRun() async run(ms: number): Promise<string> {
    const res = await this.acts.slow(ms);
    return `${res} after ${this.pokes} pokes`;
  }
}

@Workflow({ taskQueue: 'eager' })
class ApprovalWorkflow {
  @WorkflowRun() async run(failFirst: boolean, eager: boolean): Promise<string> {
    return proxyActivities(EagerActivities, { eager }).approval(failFirst);
  }
}

const providers = [
  ApprovalWorkflow,
  EagerActivities,
  ChainWorkflow,
  QueuedByCallWorkflow,
  OneActivityWorkflow,
  SignalledWorkflow,
];
const apps: TestApp[] = [];
const queues: Queue[] = [];
afterEach(async () => {
  await Promise.all(queues.splice(0).map((q) => q.close()));
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function app(options: Parameters<typeof createTestApp>[1] = {}): Promise<TestApp> {
  const t = await createTestApp(providers, options);
  apps.push(t);
  return t;
}

/** The names of the jobs of the activity queue (what Bull Board shows). */
async function activityJobs(t: TestApp): Promise<string[]> {
  const queue = testQueue('{eager-activities}', t.prefix);
  queues.push(queue);
  const jobs = await queue.getJobs(['completed', 'waiting', 'active', 'failed', 'delayed']);
  return jobs.map((j) => j.name).sort();
}

describe('eager activities', () => {
  test('run by default in the worker that recorded the step, with no job; @Activity({ eager: false }) and the call option queue them', async () => {
    const t = await app();
    expect(await (await t.client.start(ChainWorkflow, { workflowId: 'eager-chain', args: [3] })).result()).toBe(6);
    expect(callsOf('eager-chain').map((c) => c.activity)).toEqual(['add', 'add', 'add', 'double']);
    // Bull Board shows queued activities only.
    expect(await activityJobs(t)).toEqual(['double']);
    expect(await (await t.client.start(QueuedByCallWorkflow, { workflowId: 'eager-by-call' })).result()).toBe(2);
    expect(await activityJobs(t)).toEqual(['add', 'double']);
    const history = await t.client.getHandle('eager-by-call').fetchHistory();
    expect(history.find((e) => e.type === 'ActivityTaskScheduled')).toMatchObject({ options: { eager: false } });
  });

  test('eagerActivities: false queues every activity', async () => {
    const t = await app({ eagerActivities: false });
    expect(await (await t.client.start(ChainWorkflow, { workflowId: 'eager-off', args: [2] })).result()).toBe(4);
    expect(await activityJobs(t)).toEqual(['add', 'add', 'double']);
  });

  test('a failed eager attempt is retried as a job after its backoff: attempt 2 sees the heartbeat details of attempt 1', async () => {
    const t = await app();
    const handle = await t.client.start(OneActivityWorkflow, { workflowId: 'eager-retry', args: ['flaky'] });
    expect(await handle.result()).toEqual({ attempt: 2, details: { tried: 1 } });
    expect(callsOf('eager-retry').map((c) => c.attempt)).toEqual([1, 2]);
    expect(await activityJobs(t)).toEqual(['flaky']); // the retry's job
    const history = await handle.fetchHistory();
    expect(history.filter((e) => e.type === 'ActivityTaskCompleted')).toMatchObject([{ seq: 1, attempt: 2 }]);
  });

  test('an eager activity longer than its claim ttl keeps its claim: describe() shows it running on this worker, and it runs once', async () => {
    const t = await app({ leaseTtl: '1s', sweepInterval: '200ms' });
    const handle = await t.client.start(OneActivityWorkflow, { workflowId: 'eager-slow', args: ['slow', 3500] });
    const running = await until('the activity to run', async () => (await handle.describe()).pendingActivities[0]);
    expect(running).toMatchObject({ activityType: 'slow', state: 'running', attempt: 1 });
    expect(running.eager!.worker).toContain(`/${process.pid}/`);
    expect(running.eager!.since.getTime()).toBeGreaterThan(Date.now() - 5000);
    expect(await handle.result()).toBe('slow done');
    // Three claim ttls passed while it ran, with the sweep looking every 200 ms: no job, no second run.
    expect(callsOf('eager-slow')).toHaveLength(1);
    expect(await activityJobs(t)).toEqual([]);
  });

  test('at shutdownTimeout a running eager activity is aborted and handed to its queue: another worker runs it at once', async () => {
    stuck = { aborted: false };
    const first = await app({ shutdownTimeout: '300ms' });
    const handle = await first.client.start(OneActivityWorkflow, { workflowId: 'eager-shutdown', args: ['stuckOnce'] });
    await until('the activity to run', () => callsOf('eager-shutdown').length === 1);
    const second = await app({ prefix: first.prefix });
    const closing = Date.now();
    await first.app.close();
    expect(stuck.aborted).toBe(true);
    expect(await second.client.getHandle(handle.workflowId).result()).toBe('taken over');
    // Within the shutdown timeout and a second, not after a job lock or the claim's expiry.
    expect(Date.now() - closing).toBeLessThan(2000);
    expect(callsOf('eager-shutdown').map((c) => c.attempt)).toEqual([1, 1]); // the same attempt, run again
    expect(await activityJobs(second)).toEqual(['stuckOnce']);
  });

  test('a task that replays while an eager activity runs (a signal, no cached execution) does not add its job: it runs once', async () => {
    const t = await app({ workflowCacheSize: 0 });
    const handle = await t.client.start(SignalledWorkflow, { workflowId: 'eager-replayed', args: [2000] });
    await until('the activity to run', () => callsOf('eager-replayed').length === 1);
    await handle.signal('poke');
    expect(await handle.result()).toBe('slow done after 1 pokes');
    expect(callsOf('eager-replayed')).toHaveLength(1);
    expect(await activityJobs(t)).toEqual([]);
  });

  test.each([
    ['queued', false, false],
    ['eager', false, true],
    ['eager, retried as a job', true, true],
  ])(
    'completeAsync() (%s): an attempt completed from outside before it returns gets that result',
    async (_, failFirst, eager) => {
      const t = await app();
      const workflowId = `eager-approval-${String(failFirst)}-${String(eager)}`;
      const handle = await t.client.start(ApprovalWorkflow, { workflowId, args: [failFirst, eager] });
      const token = await until('the task token', () => tokens.get(workflowId));
      await t.client.activity.complete(token, 'approved');
      expect(await handle.result()).toBe('approved');
    },
  );
});
