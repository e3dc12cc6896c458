import { afterAll, beforeEach, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../../libs/redurable/src/core/events.js';
import { KeyNames } from '../../libs/redurable/src/store/keys.js';
import { RedisBuildPins } from '../../libs/redurable/src/store/build-pins.js';
import { RedisHistoryStore } from '../../libs/redurable/src/store/history-store.js';
import { testRedis } from '../support/test-app.js';
import { completed, scheduled, signal as signalEvent, started } from './events.js';

/**
 * The scripts' contracts for pinned runs (issue 25), against a real Redis (and Cluster): a task
 * commit of a pinned type pins the run to the committing process's build; a worker of another
 * build (or of none) takes no lease of it and writes nothing, and its outcome or signal asks for
 * a task on the run's build's queue; updateBuild moves the pin, or writes nothing.
 */
const redis = testRedis();
const keys = new KeyNames(`pins-${randomUUID().slice(0, 8)}`);
const buildA = new RedisHistoryStore(redis, keys, 'build-a');
const buildB = new RedisHistoryStore(redis, keys, 'build-b');
const noBuild = new RedisHistoryStore(redis, keys);
const pins = new RedisBuildPins(redis, keys);
const TTL = 30_000;
let workflowId: string;
let runId: string;

afterAll(async () => {
  await redis.quit();
});

const signal = signalEvent('s');

async function snapshot() {
  return { meta: await redis.hgetall(keys.meta(workflowId)), history: await buildA.readHistory(workflowId, runId) };
}

/** A task of `store`'s build commits `events` (a pinned type's task when `pin`); returns its fence. */
async function commitRound(store: RedisHistoryStore, events: NewEvent[], pin = true): Promise<number> {
  const acquired = await store.acquire(workflowId, runId, TTL);
  if (acquired.kind !== 'acquired') throw new Error(`lease not taken: ${acquired.kind}`);
  const lastId = acquired.lease.events.at(-1)!.streamId;
  await store.commit({
    workflowId,
    runId,
    fence: acquired.lease.fence,
    lastId,
    events,
    release: true,
    leaseTtlMs: TTL,
    pin,
  });
  return acquired.lease.fence;
}

/** Starts run `runId` of `workflowId` from a process of `store`'s build. */
const startRun = (store: RedisHistoryStore) =>
  store.start({
    requestId: randomUUID(),
    checkAfterMs: TTL,
    started: started(workflowId, runId),
    reuse: 'ALLOW_DUPLICATE',
    conflict: 'FAIL',
    terminateReason: 'replaced',
    retentionMs: 0,
  });

beforeEach(async () => {
  workflowId = `wf-${randomUUID().slice(0, 8)}`;
  runId = randomUUID();
  await startRun(buildA);
});

describe('pinned runs', () => {
  test("a pinned type's first commit pins the run; other builds' leases are refused and write nothing", async () => {
    await commitRound(buildA, [scheduled(1)]);
    expect((await buildA.getMeta(workflowId))?.pinnedBuild).toBe('build-a');
    await buildA.appendExternal(workflowId, runId, signal, { requestId: randomUUID() });
    const before = await snapshot();
    expect(await buildB.acquire(workflowId, runId, TTL)).toMatchObject({ kind: 'wrong-build', build: 'build-a' });
    expect(await noBuild.acquire(workflowId, runId, TTL)).toMatchObject({ kind: 'wrong-build', build: 'build-a' });
    expect(await snapshot()).toEqual(before);
    // Its own build takes it, and may take it when it takes only runs pinned to it.
    expect((await buildA.acquire(workflowId, runId, TTL, undefined, true)).kind).toBe('acquired');
  });

  test('an auto-upgrade commit pins nothing; a worker taking only pinned runs gives an unpinned one back', async () => {
    await commitRound(buildA, [scheduled(1)], false);
    expect((await buildA.getMeta(workflowId))?.pinnedBuild).toBeUndefined();
    await buildA.appendExternal(workflowId, runId, signal, { requestId: randomUUID() });
    const before = await snapshot();
    expect(await buildA.acquire(workflowId, runId, TTL, undefined, true)).toMatchObject({
      kind: 'wrong-build',
      build: '',
    });
    expect(await snapshot()).toEqual(before);
    expect((await buildB.acquire(workflowId, runId, TTL)).kind).toBe('acquired');
  });

  test("another build's outcome and signal ask for a task on the run's build; its speculative step commits nothing", async () => {
    const fence = await commitRound(buildA, [scheduled(1), scheduled(2)]);
    expect(await buildB.appendCompletion(workflowId, runId, completed(1), { leaseTtlMs: TTL, inline: true })).toEqual({
      kind: 'needs-task',
      build: 'build-a',
    });
    expect((await buildB.getMeta(workflowId))?.lease).toBeUndefined();
    expect(await buildB.appendExternal(workflowId, runId, signal, { requestId: randomUUID() })).toEqual({
      kind: 'needs-task',
      build: 'build-a',
    });
    // A cached step of build B (say, a run moved away from B while B held it) records only the outcome.
    await commitRound(buildA, []);
    const res = await buildB.completeAndCommit({
      workflowId,
      runId,
      outcome: completed(2),
      cachedFence: fence + 1,
      leaseTtlMs: TTL,
      events: [scheduled(3)],
      dispatch: true,
      retentionMs: 0,
      pin: true,
    });
    expect(res).toEqual({ kind: 'needs-task', build: 'build-a' });
    const types = (await buildA.readHistory(workflowId, runId)).map((e) => e.type);
    expect(types.filter((t) => t === 'ActivityTaskScheduled')).toHaveLength(2);
    expect(types.at(-1)).toBe('ActivityTaskCompleted');
  });

  test('updateBuild moves a pinned run (moving it again to the same build changes nothing); not pinned or not running: nothing written', async () => {
    await commitRound(buildA, [], false);
    let before = await snapshot();
    expect(await pins.move(workflowId, 'build-b')).toEqual({ kind: 'not-pinned' });
    expect(await snapshot()).toEqual(before);

    await commitRound(buildA, [scheduled(1)]);
    expect(await pins.move(workflowId, 'build-b')).toMatchObject({ kind: 'moved', from: 'build-a', wake: false });
    // With a signal waiting for its task: wake, for the run's own run id and task queue.
    await buildA.appendExternal(workflowId, runId, signal, { requestId: randomUUID() });
    expect(await pins.move(workflowId, 'build-c')).toEqual({
      kind: 'moved',
      from: 'build-b',
      wake: true,
      runId,
      taskQueue: 'q',
    });
    before = await snapshot();
    expect(await pins.move(workflowId, 'build-c')).toMatchObject({ kind: 'moved', from: 'build-c' });
    expect((await snapshot()).meta.pin).toBe(before.meta.pin);
    expect((await buildB.acquire(workflowId, runId, TTL)).kind).toBe('wrong-build');

    await buildA.terminate(workflowId, runId, 'stop', 0, randomUUID());
    before = await snapshot();
    expect(await pins.move(workflowId, 'build-a')).toEqual({ kind: 'not-running', status: 'terminated' });
    expect(await snapshot()).toEqual(before);
  });

  test('a commit whose run was moved meanwhile, with events waiting, releases the lease and names the new build', async () => {
    await commitRound(buildA, [scheduled(1)]);
    const acquired = await buildA.acquire(workflowId, runId, TTL);
    if (acquired.kind !== 'acquired') throw new Error(acquired.kind);
    await pins.move(workflowId, 'build-b');
    await buildA.appendExternal(workflowId, runId, signal, { requestId: randomUUID() });
    const res = await buildA.commit({
      workflowId,
      runId,
      fence: acquired.lease.fence,
      lastId: acquired.lease.events.at(-1)!.streamId,
      events: [scheduled(2)],
      release: true,
      leaseTtlMs: TTL,
      pin: true,
    });
    expect(res).toMatchObject({ kind: 'done', handoff: 'build-b' });
    expect(await buildA.getMeta(workflowId)).toMatchObject({ lease: undefined, dirty: true, pinnedBuild: 'build-b' });
    expect((await buildB.acquire(workflowId, runId, TTL)).kind).toBe('acquired');
  });

  test('continue-as-new starts the next run unpinned; a reset run keeps the build', async () => {
    await commitRound(buildA, [scheduled(1)]);
    const acquired = await buildA.acquire(workflowId, runId, TTL);
    if (acquired.kind !== 'acquired') throw new Error(acquired.kind);
    const nextRunId = randomUUID();
    await buildA.commit({
      workflowId,
      runId,
      fence: acquired.lease.fence,
      lastId: acquired.lease.events.at(-1)!.streamId,
      events: [{ type: 'WorkflowExecutionContinuedAsNew', newRunId: nextRunId, input: [] }],
      release: true,
      leaseTtlMs: TTL,
      pin: true,
      close: {
        status: 'continued',
        value: '',
        next: {
          runId: nextRunId,
          started: {
            type: 'WorkflowExecutionStarted',
            workflowType: 'T',
            workflowId,
            runId: nextRunId,
            taskQueue: 'q',
            input: [],
          },
        },
      },
      retentionMs: 0,
    });
    expect(await buildA.getMeta(workflowId)).toMatchObject({ runId: nextRunId, status: 'running' });
    expect((await buildA.getMeta(workflowId))?.pinnedBuild).toBeUndefined();

    runId = nextRunId;
    await commitRound(buildA, [scheduled(1)]);
    const history = await buildA.readHistory(workflowId, runId);
    const resetRunId = randomUUID();
    const reset = await buildB.reset({
      workflowId,
      oldRunId: runId,
      newRunId: resetRunId,
      expectLen: history.length,
      retentionMs: 0,
      done: [],
      reset: { type: 'WorkflowExecutionReset', newRunId: resetRunId, toEventId: 1, reason: 'contract' },
      events: [{ ...history[0], id: undefined, runId: resetRunId } as never],
    });
    expect(reset.kind).toBe('reset');
    expect(await buildA.getMeta(workflowId)).toMatchObject({ runId: resetRunId, pinnedBuild: 'build-a' });
  });

  test('a new run of the id starts unpinned', async () => {
    await commitRound(buildA, [scheduled(1)]);
    await buildA.terminate(workflowId, runId, 'stop', 0, randomUUID());
    runId = randomUUID();
    await startRun(buildB);
    expect((await buildB.getMeta(workflowId))?.pinnedBuild).toBeUndefined();
    expect((await buildB.acquire(workflowId, runId, TTL)).kind).toBe('acquired');
  });
});
