import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisHistoryStore } from '../../libs/redurable/src/store/history-store.js';
import { KeyNames } from '../../libs/redurable/src/store/keys.js';
import { ScheduleStore } from '../../libs/redurable/src/store/schedule-store.js';
import type { ScheduleState } from '../../libs/redurable/src/core/ports/index.js';
import { RedisFlowStore } from '../../libs/redurable/src/store/flow-store.js';
import type { NewEvent } from '../../libs/redurable/src/core/events.js';
import { FaultProxy, scriptCallWith } from '../../tools/fault-proxy.js';
import { testRedisUrl } from '../support/test-app.js';

/**
 * The lease-path scripts' contract when a reply is lost and ioredis resends the command: the
 * copy writes nothing and returns what the first run returned. Each case drops the reply of
 * one script call (through a TCP proxy, after Redis ran it) and reads the history directly.
 */
let proxy: FaultProxy;
let viaProxy: Redis;
let direct: Redis;
let store: RedisHistoryStore;
let directStore: RedisHistoryStore;
let workflowId: string;
let runId: string;

const TTL = 30_000;
const scheduled = (seq: number, activityType: string): NewEvent =>
  ({ type: 'ActivityTaskScheduled', seq, activityType, input: [], options: { taskQueue: 'q' } }) as NewEvent;

beforeAll(async () => {
  const target = new URL(testRedisUrl());
  proxy = await FaultProxy.start({ host: target.hostname, port: Number(target.port) });
  viaProxy = new Redis(proxy.url);
  viaProxy.on('error', () => undefined);
  direct = new Redis(testRedisUrl());
  const keys = new KeyNames(`contract-${randomUUID().slice(0, 8)}`);
  store = new RedisHistoryStore(viaProxy, keys);
  directStore = new RedisHistoryStore(direct, keys);
});

afterAll(async () => {
  viaProxy?.disconnect();
  await direct?.quit();
  await proxy?.close();
});

beforeEach(async () => {
  workflowId = `wf-${randomUUID().slice(0, 8)}`;
  runId = randomUUID();
  const res = await store.start({
    requestId: runId,
    checkAfterMs: TTL,
    started: { type: 'WorkflowExecutionStarted', workflowType: 'T', workflowId, runId, taskQueue: 'q', input: [] },
    reuse: 'ALLOW_DUPLICATE',
    conflict: 'FAIL',
    terminateReason: '',
    retentionMs: 0,
  });
  expect(res).toEqual({ kind: 'started', runId });
});

/** Runs `call` while the reply of the next script call on `workflowId` is lost. */
async function lostReply<T>(call: () => Promise<T>): Promise<T> {
  const before = proxy.dropped;
  const dropped = proxy.dropReplyOnce(scriptCallWith(workflowId));
  const result = await call();
  await dropped;
  expect(proxy.dropped).toBe(before + 1);
  return result;
}

const types = async () => (await directStore.readHistory(workflowId, runId)).map((e) => e.type);

async function acquired() {
  const res = await store.acquire(workflowId, runId, TTL);
  if (res.kind !== 'acquired') throw new Error(`expected the lease, got ${res.kind}`);
  return res.lease;
}

describe('lease-path scripts answer a resent copy with the first reply', () => {
  test('debounced starts: the copy of a new one says when it begins; the copy of a replacing one records it once', async () => {
    const debounced = (id: string, newRunId: string, input: string[]) => ({
      requestId: newRunId,
      checkAfterMs: TTL,
      started: {
        type: 'WorkflowExecutionStarted' as const,
        workflowType: 'T',
        workflowId: id,
        runId: newRunId,
        taskQueue: 'q',
        input,
      },
      reuse: 'ALLOW_DUPLICATE' as const,
      conflict: 'FAIL' as const,
      terminateReason: '',
      retentionMs: 0,
      debounce: { periodMs: 60_000, input },
    });
    workflowId = `wf-${randomUUID().slice(0, 8)}`;
    runId = randomUUID();
    const first = await lostReply(() => store.start(debounced(workflowId, runId, ['"a"'])));
    expect(first).toMatchObject({ kind: 'started', runId, startAt: expect.any(Number) });
    const again = await lostReply(() =>
      store.start({ ...debounced(workflowId, randomUUID(), ['"b"']), currentRunId: runId }),
    );
    expect(again).toEqual({
      kind: 'debounced',
      runId,
      startAt: expect.any(Number),
      previousStartAt: (first as { startAt: number }).startAt,
    });
    expect(await types()).toEqual(['WorkflowExecutionStarted', 'WorkflowStartDebounced']);
  });

  test('acquire: the copy gets the lease it took (not "busy")', async () => {
    const res = await lostReply(() => store.acquire(workflowId, runId, TTL));
    expect(res.kind).toBe('acquired');
    expect((await directStore.getMeta(workflowId))?.lease).toBe(String(res.kind === 'acquired' ? res.lease.fence : ''));
  });

  test('commit keeping the lease: the events are appended once', async () => {
    const lease = await acquired();
    const lastId = lease.events.at(-1)!.streamId;
    const res = await lostReply(() =>
      store.commit({
        workflowId,
        runId,
        fence: lease.fence,
        lastId,
        events: [scheduled(1, 'a')],
        release: false,
        leaseTtlMs: TTL,
      }),
    );
    expect(res.kind).toBe('done');
    expect(await types()).toEqual(['WorkflowExecutionStarted', 'ActivityTaskScheduled']);
  });

  test('commit that finds new events: the copy returns the same new events, appended once', async () => {
    const lease = await acquired();
    const lastId = lease.events.at(-1)!.streamId;
    await directStore.appendExternal(
      workflowId,
      runId,
      { type: 'SignalReceived', signalName: 's', input: [] } as NewEvent,
      { requestId: randomUUID() },
    );
    const res = await lostReply(() =>
      store.commit({
        workflowId,
        runId,
        fence: lease.fence,
        lastId,
        events: [scheduled(1, 'a')],
        release: true,
        leaseTtlMs: TTL,
      }),
    );
    expect(res.kind).toBe('more');
    expect(res.kind === 'more' && res.events.map((e) => e.event.type)).toEqual([
      'SignalReceived',
      'ActivityTaskScheduled',
    ]);
    expect(await types()).toEqual(['WorkflowExecutionStarted', 'SignalReceived', 'ActivityTaskScheduled']);
  });

  test('a completion that took the lease: the copy gets the lease again', async () => {
    const lease = await acquired();
    await store.commit({
      workflowId,
      runId,
      fence: lease.fence,
      lastId: lease.events.at(-1)!.streamId,
      events: [scheduled(1, 'a')],
      release: true,
      leaseTtlMs: TTL,
    });
    const res = await lostReply(() =>
      store.appendCompletion(
        workflowId,
        runId,
        { type: 'ActivityTaskCompleted', seq: 1, result: '1', attempt: 1 } as never,
        { inline: true, leaseTtlMs: TTL },
      ),
    );
    expect(res.kind).toBe('acquired');
    expect(await types()).toEqual(['WorkflowExecutionStarted', 'ActivityTaskScheduled', 'ActivityTaskCompleted']);
  });

  test('a speculative commit: the copy reports it committed, and nothing is appended twice', async () => {
    const lease = await acquired();
    await store.commit({
      workflowId,
      runId,
      fence: lease.fence,
      lastId: lease.events.at(-1)!.streamId,
      events: [scheduled(1, 'a')],
      release: true,
      leaseTtlMs: TTL,
    });
    const res = await lostReply(() =>
      store.completeAndCommit({
        workflowId,
        runId,
        outcome: { type: 'ActivityTaskCompleted', seq: 1, result: '1', attempt: 1, ts: Date.now() } as never,
        cachedFence: lease.fence,
        leaseTtlMs: TTL,
        events: [scheduled(2, 'b')],
        dispatch: true,
        retentionMs: 0,
      }),
    );
    expect(res.kind).toBe('committed');
    expect(await types()).toEqual([
      'WorkflowExecutionStarted',
      'ActivityTaskScheduled',
      'ActivityTaskCompleted',
      'ActivityTaskScheduled',
    ]);
  });

  test('a failed task: the attempt is counted once', async () => {
    const lease = await acquired();
    const res = await lostReply(() =>
      store.failTask(workflowId, lease.fence, 'Error: boom', { baseMs: 1000, maxMs: 60_000 }),
    );
    expect(res).toEqual({ attempt: 1, delayMs: 1000 });
    expect((await directStore.getMeta(workflowId))?.taskAttempt).toBe(1);
  });

  test('a completion whose lease expired before the copy arrived: the copy is a duplicate, not an error', async () => {
    const lease = await acquired();
    await store.commit({
      workflowId,
      runId,
      fence: lease.fence,
      lastId: lease.events.at(-1)!.streamId,
      events: [scheduled(1, 'a')],
      release: true,
      leaseTtlMs: TTL,
    });
    const res = await lostReply(() =>
      store.appendCompletion(
        workflowId,
        runId,
        { type: 'ActivityTaskCompleted', seq: 1, result: '1', attempt: 1 } as never,
        { inline: true, leaseTtlMs: 1 },
      ),
    );
    expect(res.kind).toBe('ignored'); // its lease expired: the recovery sweep takes the workflow over
    expect(await types()).toEqual(['WorkflowExecutionStarted', 'ActivityTaskScheduled', 'ActivityTaskCompleted']);
  });

  test('a commit that finds the workflow marked changed but nothing after what it read returns no events', async () => {
    const lease = await acquired();
    await directStore.appendExternal(
      workflowId,
      runId,
      { type: 'SignalReceived', signalName: 's', input: [] } as NewEvent,
      { requestId: randomUUID() },
    );
    const all = await directStore.readEntries(workflowId, runId);
    const res = await store.commit({
      workflowId,
      runId,
      fence: lease.fence,
      lastId: all.at(-1)!.streamId,
      events: [],
      release: true,
      leaseTtlMs: TTL,
    });
    expect(res).toEqual({ kind: 'more', lastId: all.at(-1)!.streamId, events: [] });
  });

  test('a reset: the copy writes nothing more and says the same (it closed the running run)', async () => {
    const newRunId = randomUUID();
    const started = (await directStore.readHistory(workflowId, runId))[0];
    const reset = () =>
      store.reset({
        workflowId,
        oldRunId: runId,
        newRunId,
        expectLen: 1,
        retentionMs: 0,
        done: [],
        reset: { type: 'WorkflowExecutionReset', newRunId, toEventId: 1, reason: 'contract' },
        events: [{ ...started, id: undefined, runId: newRunId } as never],
      });
    expect(await lostReply(reset)).toEqual({ kind: 'reset', closedRunning: true });
    expect(await types()).toEqual(['WorkflowExecutionStarted', 'WorkflowExecutionReset']);
    expect((await directStore.readHistory(workflowId, newRunId)).map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
    ]);
    expect(await directStore.getMeta(workflowId)).toMatchObject({
      runId: newRunId,
      status: 'running',
      historyLength: 1,
    });
    // A reset read before the first one: the run it read is no longer current.
    const late = randomUUID();
    expect(
      await store.reset({
        workflowId,
        oldRunId: runId,
        newRunId: late,
        expectLen: 1,
        retentionMs: 0,
        done: [],
        reset: { type: 'WorkflowExecutionReset', newRunId: late, toEventId: 1, reason: 'late' },
        events: [],
      }),
    ).toEqual({ kind: 'retry' });
  });

  test('a workflow timeout: the copy records it once', async () => {
    const event = {
      type: 'WorkflowExecutionTimedOut',
      timeoutType: 'WORKFLOW_RUN',
      failure: { kind: 'timeout', message: 'late', timeoutType: 'WORKFLOW_RUN' },
    } as const;
    expect(await lostReply(() => store.timeOut(workflowId, runId, event as never, 0))).toEqual({ kind: 'recorded' });
    expect(await types()).toEqual(['WorkflowExecutionStarted', 'WorkflowExecutionTimedOut']);
    expect((await directStore.getMeta(workflowId))?.status).toBe('timed_out');
    expect(await store.timeOut(workflowId, runId, event as never, 0)).toEqual({ kind: 'recorded' }); // the sweep, after the job: same request id
    expect(await types()).toEqual(['WorkflowExecutionStarted', 'WorkflowExecutionTimedOut']);
  });

  test('a stale fence writes nothing, and a duplicate completion is ignored', async () => {
    const lease = await acquired();
    await store.commit({
      workflowId,
      runId,
      fence: lease.fence,
      lastId: lease.events.at(-1)!.streamId,
      events: [scheduled(1, 'a')],
      release: true,
      leaseTtlMs: TTL,
    });
    await expect(
      store.commit({
        workflowId,
        runId,
        fence: lease.fence,
        lastId: lease.events.at(-1)!.streamId,
        events: [scheduled(2, 'b')],
        release: true,
        leaseTtlMs: TTL,
      }),
    ).rejects.toThrow(/lease .* was lost/);
    const outcome = { type: 'ActivityTaskCompleted', seq: 1, result: '1', attempt: 1 } as never;
    expect((await store.appendCompletion(workflowId, runId, outcome, { leaseTtlMs: TTL })).kind).toBe('needs-task');
    const next = await acquired();
    await store.commit({
      workflowId,
      runId,
      fence: next.fence,
      lastId: next.events.at(-1)!.streamId,
      events: [],
      release: true,
      leaseTtlMs: TTL,
    });
    expect((await store.appendCompletion(workflowId, runId, outcome, { leaseTtlMs: TTL })).kind).toBe('ignored');
    expect(await types()).toEqual(['WorkflowExecutionStarted', 'ActivityTaskScheduled', 'ActivityTaskCompleted']);
  });
});

describe("a schedule's lock and state writes answer a resent copy with the first reply", () => {
  let schedules: ScheduleStore;
  let directSchedules: ScheduleStore;
  let scheduleId: string;
  const state = (note: string): ScheduleState => ({
    paused: false,
    note,
    cursor: 0,
    running: [],
    counts: { started: 0, skipped: 0, missed: 0, failed: 0 },
    createdAt: 0,
    updatedAt: 0,
  });

  beforeAll(() => {
    const keys = new KeyNames(`contract-sch-${randomUUID().slice(0, 8)}`);
    schedules = new ScheduleStore(viaProxy, keys);
    directSchedules = new ScheduleStore(direct, keys);
  });
  beforeEach(() => {
    scheduleId = `sch-${randomUUID().slice(0, 8)}`;
  });

  /** Runs `call` while the reply of the next script call naming the schedule is lost. */
  async function lost<T>(call: () => Promise<T>): Promise<T> {
    const before = proxy.dropped;
    const dropped = proxy.dropReplyOnce(scriptCallWith(scheduleId));
    const result = await call();
    await dropped;
    expect(proxy.dropped).toBe(before + 1);
    return result;
  }

  test('take: the copy finds the lock its first run took, and says it holds it (not "busy")', async () => {
    expect(await lost(() => schedules.lock(scheduleId, 'me', TTL))).toBe(true);
    expect(await directSchedules.lockHolder(scheduleId)).toBe('me');
    expect(await directSchedules.lock(scheduleId, 'another', TTL)).toBe(false);
  });

  test('renew: the copy renews it again; a renewal never takes back a lock that is gone', async () => {
    await schedules.lock(scheduleId, 'me', TTL);
    expect(await lost(() => schedules.renewLock(scheduleId, 'me', TTL))).toBe(true);
    await directSchedules.unlock(scheduleId, 'me');
    expect(await schedules.renewLock(scheduleId, 'me', TTL)).toBe(false);
    expect(await directSchedules.lockHolder(scheduleId)).toBeUndefined();
  });

  test("release: the copy finds the lock gone and says done; a release never drops another owner's lock", async () => {
    await schedules.lock(scheduleId, 'me', TTL);
    await lost(() => schedules.unlock(scheduleId, 'me'));
    expect(await directSchedules.lockHolder(scheduleId)).toBeUndefined();
    await directSchedules.lock(scheduleId, 'another', TTL);
    await schedules.unlock(scheduleId, 'me');
    expect(await directSchedules.lockHolder(scheduleId)).toBe('another');
  });

  test('a state write with its action: the copy writes nothing more (the action is recorded once)', async () => {
    await schedules.lock(scheduleId, 'me', TTL);
    const action = { fireTime: new Date(0), at: new Date(0), cause: 'trigger' as const, outcome: 'started' as const };
    await schedules.write(scheduleId, { def: {} as never, state: state('created') }, 'me');
    expect(await lost(() => schedules.writeState(scheduleId, state('fired'), [action], 'me'))).toBe(true);
    expect((await directSchedules.read(scheduleId))?.state.note).toBe('fired');
    expect(await directSchedules.recentActions(scheduleId)).toHaveLength(1);
  });

  test("a state write by a pass that lost the lock writes nothing (the other's state stands)", async () => {
    await schedules.lock(scheduleId, 'me', TTL);
    await schedules.write(scheduleId, { def: {} as never, state: state('mine') }, 'me');
    await directSchedules.unlock(scheduleId, 'me');
    await directSchedules.lock(scheduleId, 'another', TTL);
    expect(await schedules.writeState(scheduleId, state('stale'), [], 'me')).toBe(false);
    expect((await directSchedules.read(scheduleId))?.state.note).toBe('mine');
  });
});

describe('flow control scripts: a resent copy neither takes nor frees a slot twice (issue 24)', () => {
  const flowKeys = new KeyNames(`flow-contract-${randomUUID().slice(0, 8)}`);
  const at = () => ({ name: 'charge', key: `acct-${workflowId}` });
  const holder = (seq: number) => `act:${workflowId}|${runId}|${seq}`;

  /** Runs `call` while the reply of the next script call naming this test's workflow id is lost. */
  async function lostFlowReply<T>(call: (flow: RedisFlowStore) => Promise<T>): Promise<T> {
    return lostReply(() => call(new RedisFlowStore(viaProxy, flowKeys)));
  }
  const directFlow = () => new RedisFlowStore(direct, flowKeys);

  test('acquire: the copy is granted the slot the first run took, and holds one slot', async () => {
    const res = await lostFlowReply((flow) => flow.acquire(at(), holder(1), { limit: 2, ttlMs: TTL }));
    expect(res).toEqual({ granted: true });
    expect(await directFlow().usage(at())).toEqual({ running: 1, waiting: 0 });
    expect(await directFlow().acquire(at(), holder(2), { limit: 2, ttlMs: TTL })).toEqual({ granted: true });
  });

  test('release: the copy frees nothing more (the next holder keeps the slot it took)', async () => {
    await directFlow().acquire(at(), holder(1), { limit: 1, ttlMs: TTL });
    await directFlow().acquire(at(), holder(2), { limit: 1, ttlMs: TTL });
    await lostFlowReply((flow) => flow.release(at(), holder(1), 1));
    expect(await directFlow().acquire(at(), holder(2), { limit: 1, ttlMs: TTL })).toEqual({ granted: true });
    await directFlow().release(at(), holder(1), 1); // a late repeat, too
    expect(await directFlow().acquire(at(), holder(3), { limit: 1, ttlMs: TTL })).toEqual({ granted: false, ahead: 0 });
    expect(await directFlow().usage(at())).toEqual({ running: 1, waiting: 1 });
  });

  test('rate: the copy is allowed, and the window counts one start', async () => {
    const rate = { limit: 2, periodMs: 60_000 };
    expect(await lostFlowReply((flow) => flow.takeRate(at(), `${holder(1)}#1`, rate))).toEqual({ allowed: true });
    expect(await directFlow().takeRate(at(), `${holder(2)}#1`, rate)).toEqual({ allowed: true });
    expect((await directFlow().takeRate(at(), `${holder(3)}#1`, rate)).allowed).toBe(false);
  });
});
