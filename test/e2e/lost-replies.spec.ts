import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Activities, Activity, Signal, Workflow, WorkflowFailedError, WorkflowRun, type HistoryEvent } from 'redurable';
import { condition, executeChild, proxyActivities, sleep, workflowInfo } from 'redurable/workflow';
import { FaultProxy, scriptCallWith } from '../../tools/fault-proxy.js';
import { createTestApp, testRedisUrl, type TestApp } from '../support/test-app.js';

/**
 * A command whose reply is lost when the connection resets is resent by ioredis. Each case
 * drops the reply of one library write (through a TCP proxy, after Redis ran it) and checks
 * that the write took effect exactly once and the call still returned what it did.
 */
const effects = new Map<string, number>();

@Injectable()
@Activities()
class ProbeActivities {
  @Activity() async step(key: string): Promise<string> {
    effects.set(key, (effects.get(key) ?? 0) + 1);
    return `done ${key}`;
  }
}

@Workflow({ taskQueue: 'lost-replies' })
class GatherWorkflow {
  private readonly acts = proxyActivities(ProbeActivities);
  private readonly got: string[] = [];

  @WorkflowRun()
  async run(needed: number, stepKey: string, napMs = 0) {
    await condition(() => this.got.length >= needed);
    const step = await this.acts.step(stepKey);
    if (napMs > 0) await sleep(napMs);
    return { got: this.got, step };
  }

  @Signal() add(value: string) {
    this.got.push(value);
  }
}

@Workflow({ taskQueue: 'lost-replies' })
class ParentOfGatherWorkflow {
  @WorkflowRun()
  async run() {
    const id = workflowInfo().workflowId;
    return executeChild(GatherWorkflow, { workflowId: `${id}-child`, args: [0, `${id}-child-step`] });
  }
}

let t: TestApp;
let proxy: FaultProxy;

beforeAll(async () => {
  const target = new URL(testRedisUrl());
  proxy = await FaultProxy.start({ host: target.hostname, port: Number(target.port) });
  t = await createTestApp([ProbeActivities, GatherWorkflow, ParentOfGatherWorkflow], { connection: proxy.url });
  // Scripts are loaded, so the dropped call is the script run itself (not a NOSCRIPT round).
  await t.client.execute(GatherWorkflow, { workflowId: 'lr-warm-up', args: [0, 'lr-warm-up'] });
});

afterAll(async () => {
  await t?.close();
  await proxy?.close();
});

const ofType = (history: HistoryEvent[], type: string) => history.filter((e) => e.type === type);

/** Runs `call` while the reply of the first command matching `match` is lost; checks that it was. */
async function withLostReply<T>(match: (command: string) => boolean, call: () => Promise<T>): Promise<T> {
  const before = proxy.dropped;
  const dropped = proxy.dropReplyOnce(match);
  const result = await call();
  await dropped;
  expect(proxy.dropped).toBe(before + 1);
  return result;
}

describe('a write whose reply is lost and which ioredis resends takes effect once', () => {
  test('start() returns the run it created instead of rejecting it as already started', async () => {
    const handle = await withLostReply(scriptCallWith('lr-start'), () =>
      t.client.start(GatherWorkflow, { workflowId: 'lr-start', args: [0, 'lr-start-step'] }),
    );
    expect(await handle.result()).toEqual({ got: [], step: 'done lr-start-step' });
    const history = await handle.fetchHistory();
    expect(ofType(history, 'WorkflowExecutionStarted')).toHaveLength(1);
    expect((history[0] as { runId: string }).runId).toBe(handle.runId);
    expect(effects.get('lr-start-step')).toBe(1);
  });

  test('a signal is recorded once', async () => {
    const handle = await t.client.start(GatherWorkflow, { workflowId: 'lr-signal', args: [2, 'lr-signal-step'] });
    await withLostReply(scriptCallWith('lr-signal-one'), () => handle.signal('add', 'lr-signal-one'));
    await handle.signal('add', 'lr-signal-two');
    expect(await handle.result()).toEqual({ got: ['lr-signal-one', 'lr-signal-two'], step: 'done lr-signal-step' });
    expect(ofType(await handle.fetchHistory(), 'SignalReceived')).toHaveLength(2);
  });

  test('signal-with-start records its signal once, whether it starts the run or finds it running', async () => {
    const fresh = await withLostReply(scriptCallWith('lr-sws-new-signal'), () =>
      t.client.signalWithStart(GatherWorkflow, {
        workflowId: 'lr-sws-new',
        args: [1, 'lr-sws-new-step'],
        signal: 'add',
        signalArgs: ['lr-sws-new-signal'],
      }),
    );
    expect(await fresh.result()).toEqual({ got: ['lr-sws-new-signal'], step: 'done lr-sws-new-step' });
    expect(ofType(await fresh.fetchHistory(), 'WorkflowExecutionStarted')).toHaveLength(1);

    const running = await t.client.start(GatherWorkflow, {
      workflowId: 'lr-sws-running',
      args: [2, 'lr-sws-running-step'],
    });
    const again = await withLostReply(scriptCallWith('lr-sws-running-one'), () =>
      t.client.signalWithStart(GatherWorkflow, {
        workflowId: 'lr-sws-running',
        args: [2, 'lr-sws-running-step'],
        signal: 'add',
        signalArgs: ['lr-sws-running-one'],
      }),
    );
    expect(again.runId).toBe(running.runId);
    await running.signal('add', 'lr-sws-running-two');
    expect(await running.result()).toEqual({
      got: ['lr-sws-running-one', 'lr-sws-running-two'],
      step: 'done lr-sws-running-step',
    });
  });

  test('a cancellation request is recorded once', async () => {
    const handle = await t.client.start(GatherWorkflow, { workflowId: 'lr-cancel', args: [5, 'lr-cancel-step'] });
    await withLostReply(scriptCallWith('lr-cancel-reason'), () => handle.cancel('lr-cancel-reason'));
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect((await handle.describe()).status).toBe('canceled');
    expect(ofType(await handle.fetchHistory(), 'WorkflowCancelRequested')).toHaveLength(1);
  });

  test('terminate() resolves (it does not report its own termination as "not running")', async () => {
    const handle = await t.client.start(GatherWorkflow, { workflowId: 'lr-terminate', args: [5, 'lr-terminate-step'] });
    await withLostReply(scriptCallWith('lr-terminate-reason'), () => handle.terminate('lr-terminate-reason'));
    expect((await handle.describe()).status).toBe('terminated');
    expect(ofType(await handle.fetchHistory(), 'WorkflowExecutionTerminated')).toHaveLength(1);
  });

  test('a child start is not mistaken for a conflicting run', async () => {
    const childStart = (command: string) =>
      scriptCallWith('lr-parent-child')(command) && command.includes('WorkflowExecutionStarted');
    const parent = await withLostReply(childStart, () =>
      t.client.execute(ParentOfGatherWorkflow, { workflowId: 'lr-parent' }),
    );
    expect(parent).toEqual({ got: [], step: 'done lr-parent-child-step' });
    expect(ofType(await t.client.getHandle('lr-parent-child').fetchHistory(), 'WorkflowExecutionStarted')).toHaveLength(
      1,
    );
  });

  test('an activity result is recorded once and the workflow moves on', async () => {
    const result = await withLostReply(scriptCallWith('done lr-activity-step'), () =>
      t.client.execute(GatherWorkflow, { workflowId: 'lr-activity', args: [0, 'lr-activity-step'] }),
    );
    expect(result.step).toBe('done lr-activity-step');
    expect(ofType(await t.client.getHandle('lr-activity').fetchHistory(), 'ActivityTaskCompleted')).toHaveLength(1);
    expect(effects.get('lr-activity-step')).toBe(1);
  });

  test('the commands of a workflow task are committed once', async () => {
    const handle = await t.client.start(GatherWorkflow, { workflowId: 'lr-commit', args: [1, 'lr-commit-step'] });
    const commit = (command: string) =>
      scriptCallWith('lr-commit-step')(command) && command.includes('ActivityTaskScheduled');
    await withLostReply(commit, async () => {
      await handle.signal('add', 'go');
      return handle.result();
    });
    const history = await handle.fetchHistory();
    expect(ofType(history, 'ActivityTaskScheduled')).toHaveLength(1);
    expect(history.map((e) => e.id)).toEqual(history.map((_, i) => i + 1));
    expect(effects.get('lr-commit-step')).toBe(1);
  });

  test('a fired timer is recorded once and the workflow completes', async () => {
    const fired = (command: string) => scriptCallWith('lr-timer')(command) && command.includes('TimerFired');
    const result = await withLostReply(fired, () =>
      t.client.execute(GatherWorkflow, { workflowId: 'lr-timer', args: [0, 'lr-timer-step', 50] }),
    );
    expect(result.step).toBe('done lr-timer-step');
    expect(ofType(await t.client.getHandle('lr-timer').fetchHistory(), 'TimerFired')).toHaveLength(1);
  });
});
