import type { NewEvent } from '../../libs/redurable/src/core/events.js';

/** The events the script contracts record: a run's start, an activity's scheduling and outcome, a signal. */
export const started = (workflowId: string, runId: string) => ({
  type: 'WorkflowExecutionStarted' as const,
  workflowType: 'T',
  workflowId,
  runId,
  taskQueue: 'q',
  input: [],
});

export const scheduled = (seq: number): NewEvent =>
  ({ type: 'ActivityTaskScheduled', seq, activityType: 'a', input: [], options: { taskQueue: 'q' } }) as NewEvent;

export const completed = (seq: number) => ({
  type: 'ActivityTaskCompleted' as const,
  seq,
  result: String(seq),
  attempt: 1,
  ts: Date.now(),
});

export const signal = (name: string) => ({ type: 'SignalReceived' as const, signalName: name, input: [] });
