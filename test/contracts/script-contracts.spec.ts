import { afterAll, beforeEach, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../../libs/redurable/src/core/events.js';
import { KeyNames } from '../../libs/redurable/src/store/keys.js';
import { RedisHistoryStore } from '../../libs/redurable/src/store/history-store.js';
import { RedisIndexStore } from '../../libs/redurable/src/store/index-store.js';
import { CorruptHistoryError, LeaseLostError } from '../../libs/redurable/src/core/errors/library.errors.js';
import { testRedis } from '../support/test-app.js';
import { completed, scheduled, signal, started } from './events.js';

/**
 * Each Lua script's contract, against a real Redis (and, in the `cluster` project, a real
 * Cluster): what it writes when it may, and that it writes nothing when it may not (a stale
 * fence, a run that changed or closed, a duplicate, a claim held by another owner).
 */
const redis = testRedis();
const keys = new KeyNames(`contracts-${randomUUID().slice(0, 8)}`);
const store = new RedisHistoryStore(redis, keys);
const indexes = new RedisIndexStore(redis, keys);
const TTL = 30_000;
let workflowId: string;
let runId: string;

afterAll(async () => {
  await redis.quit();
});

const start = (over: Partial<Parameters<RedisHistoryStore['start']>[0]> = {}) =>
  store.start({
    requestId: randomUUID(),
    checkAfterMs: TTL,
    started: started(workflowId, runId),
    reuse: 'ALLOW_DUPLICATE',
    conflict: 'FAIL',
    terminateReason: 'replaced',
    retentionMs: 0,
    ...over,
  });

/** The meta hash and the history, to prove a call wrote nothing. */
async function snapshot(run = runId) {
  return { meta: await redis.hgetall(keys.meta(workflowId)), history: await store.readHistory(workflowId, run) };
}

/** Takes the lease and commits `events`, releasing it; returns the new fence and last stream id. */
async function commitRound(events: NewEvent[]) {
  const acquired = await store.acquire(workflowId, runId, TTL);
  if (acquired.kind !== 'acquired') throw new Error(`lease not taken: ${acquired.kind}`);
  const lastId = acquired.lease.events.at(-1)!.streamId;
  const res = await store.commit({
    workflowId,
    runId,
    fence: acquired.lease.fence,
    lastId,
    events,
    release: true,
    leaseTtlMs: TTL,
  });
  return { fence: acquired.lease.fence, res };
}

beforeEach(async () => {
  workflowId = `wf-${randomUUID().slice(0, 8)}`;
  runId = randomUUID();
  expect(await start()).toEqual({ kind: 'started', runId });
});

describe('startWorkflow', () => {
  test('FAIL and USE_EXISTING on a running id write nothing; REJECT_DUPLICATE on a closed id writes nothing', async () => {
    const before = await snapshot();
    const other = randomUUID();
    expect(
      await store.start({
        requestId: other,
        checkAfterMs: TTL,
        started: started(workflowId, other),
        reuse: 'ALLOW_DUPLICATE',
        conflict: 'FAIL',
        terminateReason: '',
        retentionMs: 0,
      }),
    ).toEqual({ kind: 'running', runId });
    expect(
      await store.start({
        requestId: other,
        checkAfterMs: TTL,
        started: started(workflowId, other),
        reuse: 'ALLOW_DUPLICATE',
        conflict: 'USE_EXISTING',
        terminateReason: '',
        retentionMs: 0,
      }),
    ).toEqual({ kind: 'existing', runId, wake: false });
    expect(await snapshot()).toEqual(before);
    expect(await redis.exists(keys.history(workflowId, other))).toBe(0);

    await store.terminate(workflowId, runId, 'done', 0, randomUUID());
    const closed = await snapshot();
    expect(
      await store.start({
        requestId: other,
        checkAfterMs: TTL,
        started: started(workflowId, other),
        reuse: 'REJECT_DUPLICATE',
        conflict: 'FAIL',
        terminateReason: '',
        retentionMs: 0,
      }),
    ).toEqual({ kind: 'reuse-rejected', status: 'terminated' });
    expect(await snapshot()).toEqual(closed);
  });

  test('an eager start takes the first lease; a resent copy gets it back only while that lease is held', async () => {
    const id = `wf-${randomUUID().slice(0, 8)}`;
    const run = randomUUID();
    const eager = () =>
      store.start({
        requestId: run,
        checkAfterMs: TTL,
        leaseTtlMs: 300,
        started: started(id, run),
        reuse: 'ALLOW_DUPLICATE',
        conflict: 'FAIL',
        terminateReason: '',
        retentionMs: 0,
      });
    const first = await eager();
    expect(first).toMatchObject({
      kind: 'started',
      runId: run,
      lease: { full: true, events: [{ event: { type: 'WorkflowExecutionStarted', id: 1 } }] },
    });
    const fence = first.kind === 'started' ? first.lease!.fence : -1;
    expect(await store.acquire(id, run, TTL)).toEqual({ kind: 'busy' });
    // The same start resent (a lost reply): the same lease, nothing written again.
    expect(await eager()).toMatchObject({ kind: 'started', lease: { fence } });
    expect(await store.readHistory(id, run)).toHaveLength(1);
    // Once it expired and another worker took the task, a late copy gets no lease.
    await new Promise((r) => setTimeout(r, 350));
    expect(await store.acquire(id, run, TTL)).toMatchObject({ kind: 'acquired', lease: { fence: fence + 1 } });
    expect(await eager()).toEqual({ kind: 'started', runId: run });
  });

  test('signal-with-start against a run that changed since it was read writes nothing and asks to retry', async () => {
    const before = await snapshot();
    const other = randomUUID();
    const res = await store.start({
      requestId: other,
      checkAfterMs: TTL,
      started: started(workflowId, other),
      reuse: 'ALLOW_DUPLICATE',
      conflict: 'USE_EXISTING',
      currentRunId: 'a-run-that-is-gone',
      signal: signal('go'),
      terminateReason: '',
      retentionMs: 0,
    });
    expect(res).toEqual({ kind: 'retry' });
    expect(await snapshot()).toEqual(before);
  });

  test('TERMINATE_EXISTING closes the running run as terminated and starts the next one', async () => {
    const next = randomUUID();
    const res = await store.start({
      requestId: next,
      checkAfterMs: TTL,
      started: started(workflowId, next),
      reuse: 'ALLOW_DUPLICATE',
      conflict: 'TERMINATE_EXISTING',
      currentRunId: runId,
      terminateReason: 'replaced',
      retentionMs: 0,
    });
    expect(res).toEqual({ kind: 'started', runId: next });
    expect((await store.readHistory(workflowId, runId)).map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
      'WorkflowExecutionTerminated',
    ]);
    expect(await store.getMeta(workflowId)).toMatchObject({ runId: next, status: 'running', historyLength: 1 });
  });
});

describe('appendExternal and terminate', () => {
  test('a signal is recorded once per request id; a stale run asks to retry; a closed run is not running', async () => {
    const requestId = randomUUID();
    expect(await store.appendExternal(workflowId, runId, signal('a'), { requestId })).toEqual({
      kind: 'needs-task',
    });
    expect(await store.appendExternal(workflowId, runId, signal('a'), { requestId })).toEqual({
      kind: 'needs-task',
    });
    expect((await store.readHistory(workflowId, runId)).filter((e) => e.type === 'SignalReceived')).toHaveLength(1);
    const before = await snapshot();
    expect(await store.appendExternal(workflowId, 'another-run', signal('b'), { requestId: randomUUID() })).toEqual({
      kind: 'retry',
    });
    expect(await snapshot()).toEqual(before);

    const terminate = randomUUID();
    expect(await store.terminate(workflowId, runId, 'stop', 0, terminate)).toEqual({ kind: 'recorded' });
    const closed = await snapshot();
    expect(closed.meta.status).toBe('terminated');
    expect(await store.terminate(workflowId, runId, 'stop', 0, terminate)).toEqual({ kind: 'recorded' });
    expect(await store.terminate(workflowId, runId, 'stop', 0, randomUUID())).toEqual({
      kind: 'not-running',
      status: 'terminated',
    });
    expect(await store.appendExternal(workflowId, runId, signal('c'), { requestId: randomUUID() })).toEqual({
      kind: 'not-running',
      status: 'terminated',
    });
    expect(await snapshot()).toEqual(closed);
  });
});

describe('appendCompletion and completeAndCommit', () => {
  test('the first outcome of a seq wins; a duplicate, another run or a closed run writes nothing', async () => {
    await commitRound([scheduled(1)]);
    expect(await store.appendCompletion(workflowId, runId, completed(1), { leaseTtlMs: TTL })).toEqual({
      kind: 'needs-task',
    });
    await commitRound([]);
    const before = await snapshot();
    expect(
      await store.appendCompletion(workflowId, runId, { ...completed(1), result: 'second' }, { leaseTtlMs: TTL }),
    ).toEqual({
      kind: 'ignored',
    });
    expect(await store.appendCompletion(workflowId, 'another-run', completed(2), { leaseTtlMs: TTL })).toEqual({
      kind: 'ignored',
    });
    expect(await snapshot()).toEqual(before);
    await store.terminate(workflowId, runId, 'stop', 0, randomUUID());
    const closed = await snapshot();
    expect(await store.appendCompletion(workflowId, runId, completed(3), { leaseTtlMs: TTL })).toEqual({
      kind: 'ignored',
    });
    expect(await snapshot()).toEqual(closed);
  });

  test('a speculative step whose fence moved on records only the outcome, not its commands', async () => {
    const { fence } = await commitRound([scheduled(1)]);
    await commitRound([]); // another worker took a task meanwhile: the fence moved on
    const res = await store.completeAndCommit({
      workflowId,
      runId,
      outcome: completed(1),
      cachedFence: fence,
      leaseTtlMs: TTL,
      events: [scheduled(2)],
      dispatch: true,
      retentionMs: 0,
    });
    expect(res.kind).toBe('acquired');
    const types = (await store.readHistory(workflowId, runId)).map((e) => e.type);
    expect(types).toEqual(['WorkflowExecutionStarted', 'ActivityTaskScheduled', 'ActivityTaskCompleted']);
  });

  test('a speculative step on an untouched workflow commits outcome and commands under a new fence', async () => {
    const { fence } = await commitRound([scheduled(1)]);
    const res = await store.completeAndCommit({
      workflowId,
      runId,
      outcome: completed(1),
      cachedFence: fence,
      leaseTtlMs: TTL,
      events: [scheduled(2)],
      dispatch: true,
      retentionMs: 0,
    });
    expect(res).toMatchObject({ kind: 'committed', fence: fence + 1 });
    expect((await store.readHistory(workflowId, runId)).map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
      'ActivityTaskScheduled',
      'ActivityTaskCompleted',
      'ActivityTaskScheduled',
    ]);
    expect(await store.getMeta(workflowId)).toMatchObject({ lease: undefined, dirty: false });
  });
});

describe('acquireTask, commitTask and failTask', () => {
  test('a held lease is busy; a stale fence commits nothing and fails nothing', async () => {
    const first = await store.acquire(workflowId, runId, TTL);
    expect(first.kind).toBe('acquired');
    expect(await store.acquire(workflowId, runId, TTL)).toEqual({ kind: 'busy' });
    const fence = first.kind === 'acquired' ? first.lease.fence : 0;
    const lastId = first.kind === 'acquired' ? first.lease.events.at(-1)!.streamId : '';
    const before = await snapshot();
    await expect(
      store.commit({
        workflowId,
        runId,
        fence: fence - 1,
        lastId,
        events: [scheduled(1)],
        release: true,
        leaseTtlMs: TTL,
      }),
    ).rejects.toBeInstanceOf(LeaseLostError);
    expect(await store.failTask(workflowId, fence - 1, 'boom', { baseMs: 100, maxMs: 1000 })).toBeUndefined();
    expect(await snapshot()).toEqual(before);
    expect(await store.failTask(workflowId, fence, 'boom', { baseMs: 100, maxMs: 1000 })).toEqual({
      attempt: 1,
      delayMs: 100,
    });
    expect(await store.getMeta(workflowId)).toMatchObject({
      taskFailure: 'boom',
      taskAttempt: 1,
      lease: undefined,
      dirty: true,
    });
  });

  test('a commit that releases while new events arrived keeps the lease and returns them', async () => {
    const acquired = await store.acquire(workflowId, runId, TTL);
    if (acquired.kind !== 'acquired') throw new Error('not acquired');
    await store.appendExternal(workflowId, runId, signal('meanwhile'), { requestId: randomUUID() });
    const res = await store.commit({
      workflowId,
      runId,
      fence: acquired.lease.fence,
      lastId: acquired.lease.events.at(-1)!.streamId,
      events: [],
      release: true,
      leaseTtlMs: TTL,
    });
    expect(res.kind).toBe('more');
    expect(res.kind === 'more' && res.events.map((e) => e.event.type)).toEqual(['SignalReceived']);
    expect((await store.getMeta(workflowId))?.lease).toBe(String(acquired.lease.fence));
    expect(await store.acquire(workflowId, runId, TTL, undefined)).toEqual({ kind: 'busy' });
  });

  test('a clean commit (local outcomes) after an event arrived writes nothing, renews the lease and returns the whole history', async () => {
    const acquired = await store.acquire(workflowId, runId, TTL);
    if (acquired.kind !== 'acquired') throw new Error('lease not taken');
    const { fence } = acquired.lease;
    const lastId = acquired.lease.events.at(-1)!.streamId;
    await store.appendExternal(workflowId, runId, signal('poke'), { requestId: randomUUID() });
    const before = await snapshot();
    const local = { ...scheduled(1), local: { attempt: 1, firstScheduledAt: 1 } } as NewEvent;
    const res = await store.commit({
      workflowId,
      runId,
      fence,
      lastId,
      events: [local, completed(1)],
      release: true,
      clean: true,
      leaseTtlMs: TTL,
    });
    if (res.kind !== 'changed') throw new Error(`expected the commit to be refused, got ${res.kind}`);
    expect(res.lease.events.map((e) => e.event.type)).toEqual(['WorkflowExecutionStarted', 'SignalReceived']);
    expect((await snapshot()).history).toEqual(before.history);
    expect(await store.acquire(workflowId, runId, TTL)).toEqual({ kind: 'busy' }); // still this task's
    // Having seen the signal, the task commits (the run is no longer dirty).
    const again = await store.commit({
      workflowId,
      runId,
      fence,
      lastId: res.lease.events.at(-1)!.streamId,
      events: [local, completed(1)],
      release: true,
      clean: true,
      leaseTtlMs: TTL,
    });
    expect(again.kind).toBe('done');
    expect((await store.readHistory(workflowId, runId)).map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
      'SignalReceived',
      'ActivityTaskScheduled',
      'ActivityTaskCompleted',
    ]);
  });

  test('a lease over a long history (more than 64 events) is read with XRANGE up to its last entry; a corrupt entry keeps the lease named', async () => {
    await commitRound(Array.from({ length: 70 }, (_, i) => scheduled(i + 1)));
    const acquired = await store.acquire(workflowId, runId, TTL);
    if (acquired.kind !== 'acquired') throw new Error('lease not taken');
    expect(acquired.lease.full).toBe(true);
    expect(acquired.lease.events.map((e) => e.event.id)).toEqual(Array.from({ length: 71 }, (_, i) => i + 1));
    const lastId = acquired.lease.events.at(-1)!.streamId;
    await store.commit({
      workflowId,
      runId,
      fence: acquired.lease.fence,
      lastId,
      events: [],
      release: true,
      leaseTtlMs: TTL,
    });

    await redis.xadd(keys.history(workflowId, runId), '*', 'i', '72', 'e', '{not json');
    await redis.hincrby(keys.meta(workflowId), 'len', 1);
    const err = await store.acquire(workflowId, runId, TTL).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptHistoryError);
    expect((err as CorruptHistoryError).leaseFence).toBe(acquired.lease.fence + 1);
  });

  test('acquire on a closed run or another run takes nothing', async () => {
    expect(await store.acquire(workflowId, 'another-run', TTL)).toEqual({ kind: 'closed', status: 'other-run' });
    await store.terminate(workflowId, runId, 'stop', 0, randomUUID());
    const before = await snapshot();
    expect(await store.acquire(workflowId, runId, TTL)).toEqual({ kind: 'closed', status: 'terminated' });
    expect(await snapshot()).toEqual(before);
  });
});

describe('the recovery sweep scripts', () => {
  test('rescheduleCheck writes its verdict only if the workflow is as the sweep read it', async () => {
    const due = keys.dueIndexOf(workflowId, 'q');
    const seen = (await store.getMeta(workflowId))!;
    const at = Date.now() + 60_000;
    expect(await indexes.rescheduleCheck('q', workflowId, seen, at)).toBe(true);
    expect(Number(await redis.zscore(due, workflowId))).toBe(at);
    await store.appendExternal(workflowId, runId, signal('changed'), { requestId: randomUUID() });
    await redis.zadd(due, Date.now() - 1000, workflowId);
    expect(await indexes.rescheduleCheck('q', workflowId, seen, Date.now() + 600_000)).toBe(false);
    // The change meant "look again within checkAfter": moved there, not to the stale verdict.
    const score = Number(await redis.zscore(due, workflowId));
    expect(score).toBeGreaterThan(Date.now() + TTL - 5_000);
    expect(score).toBeLessThan(Date.now() + TTL + 5_000);
    await store.terminate(workflowId, runId, 'stop', 0, randomUUID());
    expect(await redis.zscore(due, workflowId)).toBeNull();
  });

  test('sweepClaim: a shard claimed by one owner is skipped by another until released', async () => {
    const claim = async (owner: string, shards: number[]) =>
      (await Promise.all(shards.map(async (s) => ((await indexes.claimSweep('q', s, owner, TTL)) ? s : -1)))).filter(
        (s) => s >= 0,
      );
    expect(await claim('owner-a', [0, 1])).toEqual([0, 1]);
    expect(await claim('owner-b', [0, 1, 2])).toEqual([2]);
    await indexes.releaseSweep('q', 0, 'owner-b'); // not its claim: left alone
    expect(await claim('owner-b', [0])).toEqual([]);
    await indexes.releaseSweep('q', 0, 'owner-a');
    expect(await claim('owner-b', [0])).toEqual([0]);
  });

  test('childNotified and parentHandled take the workflow out of its shard index, and only it', async () => {
    const shard = keys.shardOf(workflowId);
    await redis.zadd(keys.notifyIndex(shard), 1, workflowId, 2, 'someone-else');
    await redis.hset(keys.notifyDataIndex(shard), workflowId, '{}', 'someone-else', '{}');
    await redis.zadd(keys.closedParentsIndex(shard), 1, workflowId);
    await redis.hset(keys.closedParentsDataIndex(shard), workflowId, runId);
    await indexes.childNotified(workflowId);
    await indexes.parentHandled(workflowId);
    expect(await redis.zrange(keys.notifyIndex(shard), '0', '-1')).toEqual(['someone-else']);
    expect(Object.keys(await redis.hgetall(keys.notifyDataIndex(shard)))).toEqual(['someone-else']);
    expect(await redis.exists(keys.closedParentsIndex(shard), keys.closedParentsDataIndex(shard))).toBe(0);
  });
});
