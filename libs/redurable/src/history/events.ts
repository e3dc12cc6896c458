import type { SerializedFailure } from '../errors/failure-codec.js';

/** Payloads are stored encoded by the DataConverter; `string` here means "an encoded payload". */
export type Payload = string;

/** Activity options recorded with the scheduling event (what the caller asked for). */
export interface RecordedActivityOptions {
  taskQueue: string;
  startToCloseTimeoutMs?: number;
  scheduleToCloseTimeoutMs?: number;
  heartbeatTimeoutMs?: number;
  retry?: import('../activities/retry-policy.js').RetryPolicy;
}

interface EventBase {
  /** Position in the history, from 1. */
  id: number;
  /** Wall-clock time the event was written (ms); workflow code sees it as `Date.now()`. */
  ts: number;
}

export interface WorkflowExecutionStarted extends EventBase {
  type: 'WorkflowExecutionStarted';
  workflowType: string;
  workflowId: string;
  runId: string;
  taskQueue: string;
  input: Payload[];
}
export interface WorkflowExecutionCompleted extends EventBase { type: 'WorkflowExecutionCompleted'; result: Payload }
export interface WorkflowExecutionFailed extends EventBase { type: 'WorkflowExecutionFailed'; failure: SerializedFailure }
export interface ActivityTaskScheduled extends EventBase {
  type: 'ActivityTaskScheduled';
  seq: number;
  activityType: string;
  input: Payload[];
  options: RecordedActivityOptions;
  /** Scheduled by `saga.compensate()`: undoes an earlier step. */
  compensation?: boolean;
}
export interface ActivityTaskCompleted extends EventBase { type: 'ActivityTaskCompleted'; seq: number; result: Payload; attempt: number }
export interface ActivityTaskFailed extends EventBase { type: 'ActivityTaskFailed'; seq: number; failure: SerializedFailure; attempt: number }
export interface TimerStarted extends EventBase { type: 'TimerStarted'; seq: number; durationMs: number }
export interface TimerFired extends EventBase { type: 'TimerFired'; seq: number }
export interface MarkerRecorded extends EventBase { type: 'MarkerRecorded'; seq: number; name: string; value: Payload }

/** Every event a history can hold: one discriminated union on `type`. */
export type HistoryEvent =
  | WorkflowExecutionStarted
  | WorkflowExecutionCompleted
  | WorkflowExecutionFailed
  | ActivityTaskScheduled
  | ActivityTaskCompleted
  | ActivityTaskFailed
  | TimerStarted
  | TimerFired
  | MarkerRecorded;

export type EventType = HistoryEvent['type'];
export type EventOf<T extends EventType> = Extract<HistoryEvent, { type: T }>;
/** Omit applied to each member of a union. */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event before the store gives it an id and timestamp. */
export type NewEvent = DistributiveOmit<HistoryEvent, 'id' | 'ts'>;

/** Events the workflow code produces (commands); on replay they are matched, not delivered. */
export type CommandEvent = ActivityTaskScheduled | TimerStarted | MarkerRecorded;
/** Events that resolve a pending command by its `seq`. */
export type CompletionEvent = ActivityTaskCompleted | ActivityTaskFailed | TimerFired;

const COMMAND_TYPES: ReadonlySet<EventType> = new Set(['ActivityTaskScheduled', 'TimerStarted', 'MarkerRecorded']);

export function isCommandEvent(e: HistoryEvent): e is CommandEvent {
  return COMMAND_TYPES.has(e.type);
}

/** A short human description used in errors and the explorer ("ActivityTaskScheduled(withdraw) seq 1"). */
export function describeEvent(e: NewEvent | HistoryEvent): string {
  switch (e.type) {
    case 'ActivityTaskScheduled': return `ActivityTaskScheduled(${e.activityType}) seq ${e.seq}`;
    case 'TimerStarted': return `TimerStarted(${e.durationMs}ms) seq ${e.seq}`;
    case 'MarkerRecorded': return `MarkerRecorded(${e.name}) seq ${e.seq}`;
    case 'ActivityTaskCompleted': case 'ActivityTaskFailed': case 'TimerFired': return `${e.type} seq ${e.seq}`;
    default: return e.type;
  }
}
