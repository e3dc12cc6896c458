/**
 * RecoverySweep.runOnce() (engine/recovery-sweep.ts) over the in-memory store, indexes and jobs:
 * what it repairs, what it leaves alone, and when it looks again (the due index).
 */
import { describe, expect, test } from '@jest/globals';
import type { NewCommand, NewEvent, RecordedWorkflowTimeouts } from '../../libs/redurable/src/core/events.js';
import { timedOutEvent, type RunDeadline } from '../../libs/redurable/src/core/workflow-timeouts.js';
import { RecoverySweep } from '../../libs/redurable/src/engine/recovery-sweep.js';
import { shardOf } from '../../libs/redurable/src/store/shards.js';
import { FakeClock } from './support/clock.js';
import { p, started } from './support/histories.js';
import { MemoryHistories } from './support/memory-histories.js';
import { MemoryClaims } from './support/memory-claims.js';
import { MemoryJobs } from './support/memory-jobs.js';
import { MemoryRecoveryIndex } from './support/memory-recovery-index.js';
import { RecordingLogger, RecordingMetrics, RecordingRunClosing } from './support/recorders.js';

const TTL = 1000;
const SHARDS = 4;

function sweepHarness() {
  const clock = new FakeClock();
  const store = new MemoryHistories(clock, SHARDS);
  const indexes = new MemoryRecoveryIndex(store);
  const jobs = new MemoryJobs();
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const runs = new RecordingRunClosing();
  const children = {
    notified: [] as string[],
    handled: [] as string[],
    async notifyParent(childWorkflowId: string) {
      this.notified.push(childWorkflowId);
    },
    async applyForClosedParent(parentWorkflowId: string) {
      this.handled.push(parentWorkflowId);
    },
  };
  /** What RunTimeouts does: close the run as timed_out, then what a close from outside needs. */
  const timeouts = {
    calls: [] as { workflowId: string; runId: string; deadline: RunDeadline }[],
    async timeOut(workflowId: string, runId: string, deadline: RunDeadline) {
      this.calls.push({ workflowId, runId, deadline });
      const res = await store.timeOut(workflowId, runId, timedOutEvent(workflowId, runId, deadline));
      if (res.kind === 'recorded') await runs.closedFromOutside(workflowId, runId);
    },
  };
  const claims = new MemoryClaims(clock);
  const sweep = new RecoverySweep({
    histories: store,
    indexes,
    claims,
    dispatcher: jobs,
    children,
    timeouts,
    slots: { recheck: async () => false, releaseStale: async () => 0, hasStale: async () => false },
    logger,
    metrics,
    settings: { leaseTtlMs: TTL, sweepIntervalMs: 500 },
    served: ['q'],
  });

  /** Starts workflow `id` (run `r1`), as the client does. */
  const start = (id: string, extra: Parameters<typeof started>[2] = {}) =>
    store.start(
      { type: 'WorkflowExecutionStarted', ...started('Transfer', [], { workflowId: id, runId: 'r1', ...extra }) },
      { checkAfterMs: TTL },
    );
  /** A workflow task of `id` that commits `events` and releases its lease. */
  const commitTask = async (
    id: string,
    events: NewEvent[],
    options: { dispatchMark?: 'set'; close?: boolean } = {},
  ) => {
    const acquired = await store.acquire(id, 'r1', TTL);
    if (acquired.kind !== 'acquired') throw new Error(`test setup: ${acquired.kind}`);
    const close = options.close
      ? { close: { status: 'completed' as const, value: p('ok') }, retentionMs: 0 }
      : { dispatchMark: options.dispatchMark };
    await store.commit({
      workflowId: id,
      runId: 'r1',
      fence: acquired.lease.fence,
      lastId: acquired.lease.events.at(-1)!.streamId,
      events: options.close ? [...events, { type: 'WorkflowExecutionCompleted', result: p('ok') }] : events,
      release: true,
      leaseTtlMs: TTL,
      ...close,
    });
  };
  return { clock, store, indexes, claims, jobs, logger, metrics, runs, children, timeouts, sweep, start, commitTask };
}

const charge = (seq = 1): NewCommand => ({
  type: 'ActivityTaskScheduled',
  seq,
  activityType: 'charge',
  input: [],
  options: { taskQueue: 'q' },
});
const owner = { workflowId: 'w1', runId: 'r1', taskQueue: 'q' };

describe('lost workflow tasks', () => {
  test('an expired lease gets a task; a valid one is looked at again when it expires', async () => {
    const h = sweepHarness();
    h.start('w1');
    h.start('w2');
    const start = h.clock.now();
    await h.store.acquire('w1', 'r1', TTL); // its worker dies
    await h.store.acquire('w2', 'r1', 5000); // a long task, still running
    h.clock.advance(TTL + 1);
    expect(await h.sweep.runOnce()).toBe(1);
    expect(h.jobs.list('task')).toMatchObject([{ id: `w|w1|r1|sweep-1-${start + TTL}`, delay: 0 }]);
    expect(h.metrics.repairs).toEqual(['lease-expired']);
    expect(h.logger.at('log')).toEqual(['Recovery: enqueued a task for workflow w1 (run r1): its lease expired']);
    expect(h.store.dueAt('w1')).toBe(h.clock.now() + TTL);
    expect(h.store.dueAt('w2')).toBe(start + 5000 + 1);
    // Not due again yet: the next pass reads nothing.
    expect(await h.sweep.runOnce()).toBe(0);
    expect(h.jobs.ids('task')).toHaveLength(1);
  });

  test('a workflow with events and no task (dirty) gets one, once its check is due', async () => {
    const h = sweepHarness();
    h.start('w1');
    h.clock.advance(TTL - 1);
    expect(await h.sweep.runOnce()).toBe(0);
    h.clock.advance(1);
    expect(await h.sweep.runOnce()).toBe(1);
    expect(h.jobs.ids('task')).toEqual(['w|w1|r1|sweep-1-0']);
    expect(h.metrics.repairs).toEqual(['events-without-task']);
  });

  test('a failed task waits for its retry time', async () => {
    const h = sweepHarness();
    h.start('w1');
    const acquired = await h.store.acquire('w1', 'r1', TTL);
    if (acquired.kind !== 'acquired') throw new Error('not acquired');
    await h.store.failTask('w1', acquired.lease.fence, 'Error: boom', { baseMs: 5000, maxMs: 60_000 });
    const retryAt = h.clock.now() + 5000;
    h.clock.advance(TTL);
    expect(await h.sweep.runOnce()).toBe(0);
    expect(h.store.dueAt('w1')).toBe(retryAt);
    h.clock.advance(retryAt - h.clock.now());
    expect(await h.sweep.runOnce()).toBe(1);
    expect(h.jobs.ids('task')).toHaveLength(1);
  });
});

describe('lost jobs', () => {
  test('the dispatch mark waits a lease ttl, then is cleared once every job exists', async () => {
    const h = sweepHarness();
    h.start('w1');
    await h.commitTask('w1', [charge()], { dispatchMark: 'set' });
    const markedAt = h.clock.now();
    await h.jobs.dispatch(owner, [charge()], markedAt);
    h.clock.advance(TTL);
    expect(await h.sweep.runOnce()).toBe(0);
    expect(h.store.metaOf('w1')?.dispatchAt).toBe(markedAt);
    expect(h.store.dueAt('w1')).toBe(markedAt + TTL + 1);
    h.clock.advance(1);
    expect(await h.sweep.runOnce()).toBe(0);
    expect(h.store.metaOf('w1')?.dispatchAt).toBeUndefined();
    // An outstanding activity is watched every lease ttl.
    expect(h.store.dueAt('w1')).toBe(h.clock.now() + TTL);
  });

  test('a job missing after a commit is re-added, and the mark goes on the next pass', async () => {
    const h = sweepHarness();
    h.start('w1');
    await h.commitTask('w1', [charge(), { type: 'TimerStarted', seq: 2, durationMs: 60_000 }], { dispatchMark: 'set' });
    h.clock.advance(TTL + 1);
    expect(await h.sweep.runOnce()).toBe(1);
    // After a commit whose dispatch is unconfirmed, every timer counts, due or not.
    expect(h.jobs.ids()).toEqual(['a|w1|r1|1', 't|w1|r1|2']);
    expect(h.logger.at('warn')).toEqual([
      "Recovery: workflow w1 (run r1) had lost the job of activity 'charge' (seq 1), timer (seq 2) (removed, or lost by Redis); re-added",
    ]);
    expect(h.store.metaOf('w1')?.dispatchAt).toBeDefined();
    h.clock.advance(TTL);
    expect(await h.sweep.runOnce()).toBe(0);
    expect(h.store.metaOf('w1')?.dispatchAt).toBeUndefined();
  });

  test('a lost activity job is re-added; a pending one is left alone', async () => {
    const h = sweepHarness();
    h.start('w1');
    await h.commitTask('w1', [charge(1), charge(2)]);
    await h.jobs.dispatch(owner, [charge(1), charge(2)], h.clock.now());
    h.jobs.lose('a|w1|r1|2');
    const pending = h.jobs.get('a|w1|r1|1');
    h.clock.advance(TTL);
    expect(await h.sweep.runOnce()).toBe(1);
    expect(h.jobs.get('a|w1|r1|1')).toBe(pending);
    expect(h.jobs.get('a|w1|r1|2')).toMatchObject({ state: 'pending', data: { seq: 2, activityType: 'charge' } });
    expect(h.metrics.repairs).toEqual(['lost-job']);
  });

  test('a timer job is re-added only once it is due', async () => {
    const h = sweepHarness();
    h.start('w1');
    const dueAt = h.clock.now() + 10_000;
    await h.commitTask('w1', [{ type: 'TimerStarted', seq: 1, durationMs: 10_000, ts: h.clock.now() } as NewEvent]);
    h.clock.advance(TTL);
    expect(await h.sweep.runOnce()).toBe(0);
    expect(h.jobs.list()).toEqual([]);
    // Looked at again a lease ttl after the timer is due (its job fires then, or was lost).
    expect(h.store.dueAt('w1')).toBe(dueAt + TTL);
    h.clock.advance(dueAt + TTL - h.clock.now());
    expect(await h.sweep.runOnce()).toBe(1);
    expect(h.jobs.list()).toMatchObject([{ id: 't|w1|r1|1', dueAt }]);
  });

  test('a finished job whose outcome is not in the history is removed and added again', async () => {
    const h = sweepHarness();
    h.start('w1');
    await h.commitTask('w1', [charge()]);
    await h.jobs.dispatch(owner, [charge()], h.clock.now());
    h.jobs.finish('a|w1|r1|1'); // its outcome was acknowledged, then lost in a failover
    h.clock.advance(TTL);
    expect(await h.sweep.runOnce()).toBe(1);
    expect(h.jobs.get('a|w1|r1|1')?.state).toBe('pending');
    expect(h.logger.at('warn')).toEqual([
      "Recovery: workflow w1 (run r1) had no outcome for the finished job of activity 'charge' (seq 1) (lost by Redis, as in a failover); running it again",
      "Recovery: workflow w1 (run r1) had lost the job of activity 'charge' (seq 1) (removed, or lost by Redis); re-added",
    ]);
  });

  test('a finished job whose outcome was recorded while the sweep looked is not run again', async () => {
    const h = sweepHarness();
    h.start('w1');
    await h.commitTask('w1', [charge()]);
    await h.jobs.dispatch(owner, [charge()], h.clock.now());
    h.clock.advance(TTL);
    // The sweep read the history before the job finished and recorded its outcome.
    h.jobs.beforeJobStates = async () => {
      h.jobs.finish('a|w1|r1|1');
      await h.store.appendCompletion(
        'w1',
        'r1',
        { type: 'ActivityTaskCompleted', seq: 1, result: p(1), attempt: 1 },
        {
          leaseTtlMs: TTL,
        },
      );
    };
    expect(await h.sweep.runOnce()).toBe(0);
    expect(h.jobs.get('a|w1|r1|1')?.state).toBe('finished');
    expect(h.logger.at('warn')).toEqual([]);
  });

  test('a verdict is not written over a change made while the sweep looked: the mark stays', async () => {
    const h = sweepHarness();
    h.start('w1');
    await h.commitTask('w1', [charge()], { dispatchMark: 'set' });
    await h.jobs.dispatch(owner, [charge()], h.clock.now());
    h.clock.advance(TTL + 1);
    h.jobs.beforeJobStates = () =>
      h.store.appendExternal(
        'w1',
        'r1',
        { type: 'SignalReceived', signalName: 'poke', input: [] },
        { requestId: 's1' },
      );
    expect(await h.sweep.runOnce()).toBe(0);
    expect(h.store.metaOf('w1')?.dispatchAt).toBeDefined();
    expect(h.store.dueAt('w1')).toBe(h.clock.now() + TTL); // the signal's own check
  });
});

describe('workflow timeouts', () => {
  const runTimeout = (now: number): Partial<ReturnType<typeof started>> => ({
    timeouts: { runTimeoutMs: 5000, runDeadline: now + 5000 } satisfies RecordedWorkflowTimeouts,
  });

  test('a run past its workflow timeout is closed through the timeouts port', async () => {
    const h = sweepHarness();
    h.start('w1', runTimeout(h.clock.now()));
    const deadline = h.clock.now() + 5000;
    await h.commitTask('w1', [charge()]);
    await h.jobs.dispatch(owner, [charge()], h.clock.now());
    h.clock.advance(TTL);
    expect(await h.sweep.runOnce()).toBe(0);
    h.clock.advance(deadline - h.clock.now());
    expect(await h.sweep.runOnce()).toBe(1);
    expect(h.timeouts.calls).toEqual([
      { workflowId: 'w1', runId: 'r1', deadline: { at: deadline, timeoutType: 'WORKFLOW_RUN', timeoutMs: 5000 } },
    ]);
    expect(h.store.metaOf('w1')?.status).toBe('timed_out');
    expect(h.store.history('w1').at(-1)?.type).toBe('WorkflowExecutionTimedOut');
    expect(h.runs.closedFromOutsideCalls).toEqual([{ workflowId: 'w1', runId: 'r1' }]);
    expect(h.store.dueAt('w1')).toBeUndefined();
    expect(h.logger.at('warn')).toEqual([
      'Recovery: workflow w1 (run r1) was past its workflowRunTimeout with no timeout job; closed it as timed_out',
    ]);
  });

  test('a run whose tasks keep failing is closed at its deadline without waiting for its retry', async () => {
    const h = sweepHarness();
    h.start('w1', runTimeout(h.clock.now()));
    const acquired = await h.store.acquire('w1', 'r1', TTL);
    if (acquired.kind !== 'acquired') throw new Error('not acquired');
    await h.store.failTask('w1', acquired.lease.fence, 'Error: boom', { baseMs: 60_000, maxMs: 60_000 });
    expect(h.store.metaOf('w1')).toMatchObject({ dirty: true, retryAt: h.clock.now() + 60_000 });
    h.clock.advance(5000);
    expect(await h.sweep.runOnce()).toBe(1);
    expect(h.store.metaOf('w1')?.status).toBe('timed_out');
    expect(h.jobs.ids('task')).toEqual([]);
  });
});

describe('shards and the due index', () => {
  test('a shard another owner claimed is skipped until the claim expires', async () => {
    const h = sweepHarness();
    h.start('w1');
    h.clock.advance(TTL);
    const shard = shardOf('w1', SHARDS);
    expect(await h.indexes.claimSweep('q', shard, 'other-worker', 3000)).toBe(true);
    expect(await h.sweep.runOnce()).toBe(0);
    expect(h.jobs.list()).toEqual([]);
    h.clock.advance(3000);
    expect(await h.sweep.runOnce()).toBe(1);
    // The sweep gave its claim back: another owner can take the shard at once.
    expect(await h.indexes.claimSweep('q', shard, 'other-worker', 3000)).toBe(true);
  });

  test('closed and expired runs leave the due index', async () => {
    const h = sweepHarness();
    h.start('w1');
    h.start('w2');
    h.start('w3');
    await h.commitTask('w2', [], { close: true });
    expect(h.store.dueAt('w2')).toBeUndefined(); // the close itself forgets it
    // An entry left behind (by an older version, or a backfill racing the close).
    h.store.dueIndex(shardOf('w2', SHARDS), 'q').set('w2', h.clock.now());
    h.store.expire('w3'); // its retention passed: the meta is gone, the index entry stays
    h.clock.advance(TTL);
    expect(await h.sweep.runOnce()).toBe(1); // w1's first task
    expect([h.store.dueAt('w1'), h.store.dueAt('w2'), h.store.dueAt('w3', 'q')]).toEqual([
      h.clock.now() + TTL,
      undefined,
      undefined,
    ]);
  });

  test('a closed child is reported to its parent, and a closed parent gets its children handled, after a lease ttl', async () => {
    const h = sweepHarness();
    const parent = { workflowId: 'p1', runId: 'pr', seq: 1, taskQueue: 'q', parentClosePolicy: 'TERMINATE' as const };
    h.start('child-1', { parent });
    await h.commitTask('child-1', [], { close: true });
    h.start('p2');
    await h.store.markHasChildren('p2');
    await h.commitTask('p2', [], { close: true });
    h.clock.advance(TTL - 1);
    await h.sweep.runOnce();
    expect([h.children.notified, h.children.handled]).toEqual([[], []]);
    h.clock.advance(1);
    await h.sweep.runOnce();
    expect([h.children.notified, h.children.handled]).toEqual([['child-1'], ['p2']]);
  });
});

describe('eager activities (claimed by the worker running them, no job)', () => {
  test('a live claim is left alone and looked at again when it expires; an expired one is taken over and its job added', async () => {
    const h = sweepHarness();
    h.start('w1');
    await h.commitTask('w1', [charge(1)]); // the commit claimed it: no dispatch mark, no job
    h.claims.claim('w1', 'r1', 1, 'worker-a', TTL);
    const expiresAt = h.clock.now() + TTL;
    h.clock.advance(TTL);
    expect(await h.sweep.runOnce()).toBe(0);
    expect(h.jobs.ids('activity')).toEqual([]);
    expect(h.store.dueAt('w1')).toBe(expiresAt + 1);
    // Its worker renews it: still left alone.
    expect(await h.claims.renewClaim('w1', 'r1', 1, 'worker-a', TTL)).toBe(true);
    h.clock.advance(1);
    expect(await h.sweep.runOnce()).toBe(0);
    expect(h.jobs.ids('activity')).toEqual([]);
    // The worker dies: once the claim expires the sweep takes it over and adds the job.
    h.clock.advance(TTL);
    expect(await h.sweep.runOnce()).toBe(1);
    expect(h.jobs.ids('activity')).toEqual(['a|w1|r1|1']);
    expect(await h.claims.claimsOf('w1', 'r1')).toEqual([]);
    expect(h.logger.at('warn')[0]).toContain(
      'the claim of worker worker-a on activity seq 1 of workflow w1 (run r1) expired (the worker died or stalled)',
    );
    // A worker that comes back cannot renew it.
    expect(await h.claims.renewClaim('w1', 'r1', 1, 'worker-a', TTL)).toBe(false);
  });

  test('a claim already taken over whose job exists (a sweep died after adding it) is released, nothing added again', async () => {
    const h = sweepHarness();
    h.start('w1');
    await h.commitTask('w1', [charge(1)]);
    h.claims.claim('w1', 'r1', 1, 'worker-a', TTL);
    h.clock.advance(TTL + 1);
    expect(await h.claims.takeOverClaim('w1', 'r1', 1)).toEqual({ kind: 'taken' });
    await h.jobs.dispatch(owner, [charge(1)], h.clock.now());
    expect(await h.sweep.runOnce()).toBe(0);
    expect(h.jobs.ids('activity')).toEqual(['a|w1|r1|1']);
    expect(await h.claims.claimsOf('w1', 'r1')).toEqual([]);
  });
});
