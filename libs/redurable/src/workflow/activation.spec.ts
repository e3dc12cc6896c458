import { describe, expect, test } from '@jest/globals';
import 'reflect-metadata';
import { Workflow, WorkflowRun } from '../core/definitions/workflow.decorator.js';
import { workflowDefinitionOf } from '../core/definitions/registry.js';
import { NonDeterminismError } from '../core/errors/library.errors.js';
import type { HistoryEvent } from '../core/events.js';
import { DataConverter } from '../core/payload/data-converter.js';
import { WorkflowActivation } from './activation.js';
import { installDeterminism } from './determinism.js';
import { executeActivity, sleep } from './workflow-api.js';

@Workflow()
class TwoSteps {
  @WorkflowRun()
  async run(x: number) {
    const a = await executeActivity<number>('double', [x]);
    await sleep(1000);
    return { a, at: Date.now(), r: Math.random() };
  }
}

const json = new DataConverter(1e6);
const started: HistoryEvent = {
  id: 1,
  ts: 1000,
  type: 'WorkflowExecutionStarted',
  workflowType: 'TwoSteps',
  workflowId: 'w',
  runId: 'r',
  taskQueue: 'q',
  input: ['21'],
};
const feed = (events: HistoryEvent[]) => events.map((event, i) => ({ streamId: `${event.ts}-${i}`, event }));

function activation() {
  installDeterminism();
  return new WorkflowActivation(workflowDefinitionOf(TwoSteps), started as never, json);
}

describe('the replayer', () => {
  test('emits one command per durable call, resolved by completions in history order', async () => {
    const a = activation();
    await a.activate(feed([started]));
    expect(a.takeCommands()).toEqual([
      { type: 'ActivityTaskScheduled', seq: 1, activityType: 'double', input: ['21'], options: { taskQueue: 'q' } },
    ]);
    await a.activate(feed([{ id: 3, ts: 2000, type: 'ActivityTaskCompleted', seq: 1, result: '42', attempt: 1 }]));
    expect(a.takeCommands()).toEqual([{ type: 'TimerStarted', seq: 2, durationMs: 1000 }]);
    await a.activate(feed([{ id: 5, ts: 3000, type: 'TimerFired', seq: 2 }]));
    const closing = a.takeClosing()!;
    expect(closing.status).toBe('completed');
    const value = json.decode<{ a: number; at: number; r: number }>(closing.value, 'result');
    expect(value.a).toBe(42);
    expect(value.at).toBe(3000); // Date.now() is the time of the event being delivered
    // Math.random() is seeded by the run id: the same on every replay.
    const again = activation();
    await again.activate(
      feed([
        started,
        {
          id: 2,
          ts: 1000,
          type: 'ActivityTaskScheduled',
          seq: 1,
          activityType: 'double',
          input: ['21'],
          options: { taskQueue: 'q' },
        },
        { id: 3, ts: 2000, type: 'ActivityTaskCompleted', seq: 1, result: '42', attempt: 1 },
        { id: 4, ts: 2000, type: 'TimerStarted', seq: 2, durationMs: 1000 },
        { id: 5, ts: 3000, type: 'TimerFired', seq: 2 },
      ]),
    );
    expect(again.takeCommands()).toEqual([]);
    expect(json.decode(again.takeClosing()!.value, 'result')).toEqual(value);
  });

  test('a recorded command the code does not produce is a non-determinism error naming both sides', async () => {
    const a = activation();
    const err = await a
      .activate(feed([started, { id: 2, ts: 1000, type: 'TimerStarted', seq: 1, durationMs: 5 }]))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonDeterminismError);
    expect((err as Error).message).toContain(
      'history event #2: history recorded TimerStarted(5ms) seq 1, but the code produced ActivityTaskScheduled(double) seq 1',
    );
  });

  test('a completion for a call the code never made is a non-determinism error', async () => {
    const a = activation();
    const err = await a
      .activate(
        feed([
          started,
          {
            id: 2,
            ts: 1000,
            type: 'ActivityTaskScheduled',
            seq: 1,
            activityType: 'double',
            input: ['21'],
            options: { taskQueue: 'q' },
          },
          { id: 3, ts: 1000, type: 'ActivityTaskCompleted', seq: 7, result: '1', attempt: 1 },
        ]),
      )
      .catch((e: unknown) => e);
    expect((err as Error).message).toContain(
      'history recorded ActivityTaskCompleted seq 7, but the code has no pending durable call with seq 7',
    );
  });
});
