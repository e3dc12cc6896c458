import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { HistoryEvent } from 'redurable';
import { spawnWorker, stop, type Child } from '../support/child-worker.js';
import { until } from '../support/until.js';
import { createTestApp, testConnectionEnv, type TestApp } from '../support/test-app.js';

/**
 * Activity flow limits across worker processes (issue 24): two workers of test/fixtures/flow-worker.ts
 * take the same activities; what each activity measured of itself (its own start and end
 * times) shows that no key ever ran over its concurrency limit and no window held more starts
 * than the rate limit; a SIGKILLed holder's slot comes back. Runs on the Cluster too.
 */
let client: TestApp;
const prefix = `flow-${randomUUID().slice(0, 8)}`;
const children: Child[] = [];
/** The fixture's leaseTtl and sweepInterval. */
const LEASE_TTL_MS = 2000;
const SWEEP_INTERVAL_MS = 300;

beforeAll(async () => {
  client = await createTestApp([], { prefix, worker: false });
});
afterEach(async () => {
  await Promise.all(children.splice(0).map(stop));
});
afterAll(async () => {
  await client.close();
});

function worker(name: string, env: Record<string, string> = {}): Child {
  const child = spawnWorker({ ...testConnectionEnv(), PREFIX: prefix, WORKER_NAME: name, ...env }, 'flow-worker');
  children.push(child);
  return child;
}
const ready = (c: Child) => until('worker ready', () => c.output().includes('ready'));

interface Span {
  start: number;
  end: number;
  worker: string;
  attempt: number;
}

/** The most spans running at one instant. */
function maxOverlap(spans: Span[]): number {
  const edges = spans.flatMap((s) => [
    { at: s.start, d: 1 },
    { at: s.end, d: -1 },
  ]);
  // An end at the same ms as a start comes first: the slot was freed before it was taken.
  edges.sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const e of edges) max = Math.max(max, (now += e.d));
  return max;
}

const attempts = (h: HistoryEvent[]) =>
  h.flatMap((e) => (e.type === 'ActivityTaskCompleted' || e.type === 'ActivityTaskFailed' ? [e.attempt] : []));

describe('activity limits across two worker processes', () => {
  test('no account ever runs more charges at once than its limit (2), and waiting uses no attempt', async () => {
    const workers = [worker('w1'), worker('w2')];
    await Promise.all(workers.map(ready));
    const accounts = ['acct-a', 'acct-b'];
    const handles = await Promise.all(
      accounts.flatMap((account) =>
        [1, 2].map((i) =>
          client.client.start('ChargeManyWorkflow', {
            workflowId: `${prefix}-${account}-${i}`,
            taskQueue: 'flow',
            args: [account, 4, 150],
          }),
        ),
      ),
    );
    const results = (await Promise.all(handles.map((h) => h.result()))) as string[][];
    expect(results.flat()).toHaveLength(16);
    for (const account of accounts) {
      const spans = (await client.redis.lrange(`{${prefix}}:spans:${account}`, 0, -1)).map(
        (s) => JSON.parse(s) as Span,
      );
      expect(spans).toHaveLength(8);
      expect({ account, maxOverlap: maxOverlap(spans) }).toEqual({ account, maxOverlap: 2 });
      expect(spans.every((s) => s.attempt === 1)).toBe(true);
    }
    // maximumAttempts 1: each activity completed on its first attempt, however long it waited.
    for (const h of handles) expect(attempts(await h.fetchHistory())).toEqual([1, 1, 1, 1]);
  });

  test('a rate limit (4 a second) holds over every window across processes', async () => {
    const workers = [worker('w1'), worker('w2')];
    await Promise.all(workers.map(ready));
    const partner = `partner-${randomUUID().slice(0, 6)}`;
    const handles = await Promise.all(
      [1, 2].map((i) =>
        client.client.start('CallManyWorkflow', {
          workflowId: `${prefix}-${partner}-${i}`,
          taskQueue: 'flow',
          args: [partner, 6],
        }),
      ),
    );
    await Promise.all(handles.map((h) => h.result()));
    const starts = (await client.redis.lrange(`{${prefix}}:starts:${partner}`, 0, -1))
      .map(Number)
      .sort((a, b) => a - b);
    expect(starts).toHaveLength(12);
    // The window is Redis' clock; each start was measured just after, on the worker's: allow their gap.
    const closest = Math.min(...starts.slice(4).map((at, i) => at - starts[i]));
    expect(closest).toBeGreaterThanOrEqual(1000 - 50);
    for (const h of handles) expect(attempts(await h.fetchHistory())).toEqual([1, 1, 1, 1, 1, 1]);
  });

  test("a SIGKILLed holder's slot comes back within leaseTtl + sweepInterval", async () => {
    const w1 = worker('w1');
    await ready(w1);
    const exclusive = async () =>
      (await client.redis.lrange(`{${prefix}}:exclusive`, 0, -1)).map(
        (s) => JSON.parse(s) as { tag: string; worker: string; at: number },
      );
    const first = await client.client.start('ExclusiveWorkflow', {
      workflowId: `${prefix}-first`,
      taskQueue: 'flow',
      args: ['first', 60_000],
    });
    await until('w1 to hold the slot', async () => (await exclusive()).some((e) => e.worker === 'w1'));
    // Its slot was free: w1 runs it eagerly (no job), as the committer of its step.
    expect((await first.describe()).pendingActivities[0].eager?.worker).toContain(`/${w1.process.pid}/`);
    const w2 = worker('w2');
    await ready(w2);
    const second = await client.client.start('ExclusiveWorkflow', {
      workflowId: `${prefix}-second`,
      taskQueue: 'flow',
      args: ['second', 10],
    });
    await until(
      'the second to wait for the slot',
      async () => (await second.describe()).pendingActivities[0]?.waitingFor,
    );
    expect((await exclusive()).map((e) => e.tag)).toEqual(['first']);

    const killedAt = Date.now();
    w1.process.kill('SIGKILL');
    await w1.exited;
    // The slot goes to whoever asks first once w1's lapses: the second activity, or the first's job taken over by w2.
    const next = await until(
      'the slot to come back',
      async () => (await exclusive()).find((e) => e.worker === 'w2'),
      LEASE_TTL_MS + SWEEP_INTERVAL_MS + 10_000,
    );
    expect(next.at - killedAt).toBeLessThan(LEASE_TTL_MS + SWEEP_INTERVAL_MS + 1500);
    await first.terminate('test done');
    await second.terminate('test done').catch(() => undefined);
  });
});

describe('an eager limited activity whose worker is SIGKILLed', () => {
  const spansOf = async (account: string) =>
    (await client.redis.lrange(`{${prefix}}:spans:${account}`, 0, -1)).map((s) => JSON.parse(s) as Span);

  test.each([
    ['eager.after-acquire', 'its slot taken, the commit claiming it in flight'],
    ['task.after-commit', 'its slot taken and its claim committed, before it ran'],
  ])('at %s (%s): it runs once, on another worker, and its slot is free after', async (point) => {
    // A key of its own: no slot of another test is in the way (w1 only dies once its slot is granted).
    const account = `acct-${point}-${randomUUID().slice(0, 6)}`;
    const w1 = worker('w1', { REDURABLE_CRASH_POINT: point });
    await ready(w1);
    const handle = await client.client.start('ChargeManyWorkflow', {
      workflowId: `${prefix}-${account}`,
      taskQueue: 'flow',
      args: [account, 1, 10],
    });
    expect((await w1.exited).signal).toBe('SIGKILL');
    const w2 = worker('w2');
    await ready(w2);
    expect(await handle.result()).toEqual(['w2']);
    expect((await spansOf(account)).map((s) => [s.worker, s.attempt])).toEqual([['w2', 1]]);
    // Both slots (limit 2) are free: two charges of the account run at once.
    const next = await client.client.start('ChargeManyWorkflow', {
      workflowId: `${prefix}-${account}-next`,
      taskQueue: 'flow',
      args: [account, 2, 500],
    });
    expect(await next.result()).toEqual(['w2', 'w2']);
    expect(maxOverlap((await spansOf(account)).slice(1))).toBe(2);
  });

  test('at eager.before-handover (two charges granted and running, two refused and claimed): all four run on the other worker, never more than 2 at once', async () => {
    const account = `acct-handover-${randomUUID().slice(0, 6)}`;
    const w1 = worker('w1', { REDURABLE_CRASH_POINT: 'eager.before-handover' });
    await ready(w1);
    const handle = await client.client.start('ChargeManyWorkflow', {
      workflowId: `${prefix}-${account}`,
      taskQueue: 'flow',
      args: [account, 4, 300],
    });
    expect((await w1.exited).signal).toBe('SIGKILL');
    const w2 = worker('w2');
    await ready(w2);
    expect(await handle.result()).toEqual(['w2', 'w2', 'w2', 'w2']);
    const spans = (await client.redis.lrange(`{${prefix}}:spans:${account}`, 0, -1)).map((s) => JSON.parse(s) as Span);
    expect(spans).toHaveLength(4);
    expect(maxOverlap(spans)).toBeLessThanOrEqual(2);
    expect(attempts(await handle.fetchHistory())).toEqual([1, 1, 1, 1]);
  });
});
