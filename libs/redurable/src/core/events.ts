import type { RecordedActivityFlow } from './flow/activity-flow.js';
import type { SerializedFailure } from './errors/failure-codec.js';
import type { RecordedWorkflowFlow } from './flow/workflow-flow.js';
import type { DebounceMs } from './flow/debounce.js';
import type { RecordedConcurrency } from './flow/flow-options.js';
import type { RecordedSearchAttribute, RecordedSearchAttributes } from './search/search-attributes.js';
import type { RetryPolicy } from './retry-policy.js';

/** Payloads are stored encoded by the DataConverter; `string` here means "an encoded payload". */
export type Payload = string;

/** Activity options recorded with the scheduling event (what the caller asked for). */
export interface RecordedActivityOptions {
  taskQueue: string;
  startToCloseTimeoutMs?: number;
  scheduleToCloseTimeoutMs?: number;
  heartbeatTimeoutMs?: number;
  retry?: RetryPolicy;
  /** Local activities: retries whose backoff is longer than this wait on a durable timer instead of in the task. */
  localRetryThresholdMs?: number;
  /** The call's `eager` option, when it set one (else `@Activity` and the module decide). */
  eager?: boolean;
  /** The activity's limits with this call's keys (`@Activity({ concurrency, rateLimit })`). */
  flow?: RecordedActivityFlow;
  /** Priority of the activity's job (1 first … 10 last): the call's, else the workflow's; absent: the default (5). */
  priority?: number;
}

interface EventBase {
  /** Position in the history, from 1. */
  id: number;
  /** Wall-clock time the event was written (ms); workflow code sees it as `Date.now()`. */
  ts: number;
}

/** Of a child workflow (its started event, and its meta): where to report its outcome. */
export interface ParentInfo {
  workflowId: string;
  runId: string;
  seq: number;
  taskQueue: string;
  parentClosePolicy: ParentClosePolicy;
  /** The parent run's priority, when not the default: the task its outcome wakes takes it. */
  priority?: number;
}

export interface WorkflowExecutionStarted extends EventBase {
  type: 'WorkflowExecutionStarted';
  workflowType: string;
  workflowId: string;
  runId: string;
  taskQueue: string;
  input: Payload[];
  /** Set on a child workflow: where its outcome is reported. */
  parent?: ParentInfo;
  /** Set on a run started by continue-as-new: the run it continues. */
  continuedFromRunId?: string;
  /** W3C trace context of the span that started it (OpenTelemetry), parent of its tasks and activities. */
  trace?: TraceCarrier;
  /** Search attributes given at start (or carried over by continue-as-new), validated and typed. */
  searchAttributes?: RecordedSearchAttributes;
  /** Memo given at start (or carried over by continue-as-new): encoded payloads by name, not indexed. */
  memo?: Record<string, Payload>;
  /** The run's timeouts: past the earlier deadline it is closed as `timed_out` (see WorkflowExecutionTimedOut). */
  timeouts?: RecordedWorkflowTimeouts;
  /** Set on a run started by `handle.reset()`: the run it was reset from and the event its history was kept up to. */
  resetFrom?: { runId: string; eventId: number; reason: string };
  /**
   * The run's priority (1 first … 10 last; absent: the default, 5): of its workflow tasks' and
   * activities' jobs, and of its place among the starts waiting for a concurrency slot.
   * Continue-as-new keeps it; its activities and children take it unless they set their own.
   */
  priority?: number;
  /**
   * The run's concurrency limit (`@Workflow({ concurrency })`), its key computed from the start's
   * arguments: the run waits for a slot of that key before its first task, and frees it when it ends.
   */
  flow?: RecordedWorkflowFlow;
  /** The build (module option `buildId`) of the process that started the run, when it set one. */
  buildId?: string;
  /**
   * Set on a debounced start: the run began no earlier than `periodMs` after the last debounced
   * start of its id (each recorded as WorkflowStartDebounced, whose input it ran with), and no
   * later than `maxWaitMs` after this one.
   */
  debounce?: DebounceMs;
}

/** Timeouts as the start asked for them, with the deadlines they gave (workflow time, ms). */
export interface RecordedWorkflowTimeouts {
  /** Across the whole execution: every run of a continue-as-new chain shares its deadline. */
  executionTimeoutMs?: number;
  executionDeadline?: number;
  /** Of one run: each run of a continue-as-new chain gets its own deadline. */
  runTimeoutMs?: number;
  runDeadline?: number;
}
export interface WorkflowExecutionCompleted extends EventBase {
  type: 'WorkflowExecutionCompleted';
  result: Payload;
}
export interface WorkflowExecutionFailed extends EventBase {
  type: 'WorkflowExecutionFailed';
  failure: SerializedFailure;
}
export interface ActivityTaskScheduled extends EventBase {
  type: 'ActivityTaskScheduled';
  seq: number;
  activityType: string;
  input: Payload[];
  options: RecordedActivityOptions;
  /** Scheduled by `saga.compensate()`: undoes an earlier step. */
  compensation?: boolean;
  /** Scheduled inside `nonCancellable()` (compensations too): a cancellation does not abort it. */
  nonCancellable?: boolean;
  /**
   * A local activity (`proxyLocalActivities`): run inside the workflow task that scheduled it and
   * recorded together with its outcome, with no job. `attempt` is the first attempt this
   * scheduling runs (later than 1 after a durable backoff); `firstScheduledAt` is when the first
   * attempt was scheduled (for scheduleToClose).
   */
  local?: { attempt: number; firstScheduledAt: number };
}
export interface ActivityTaskCompleted extends EventBase {
  type: 'ActivityTaskCompleted';
  seq: number;
  result: Payload;
  attempt: number;
}
export interface ActivityTaskFailed extends EventBase {
  type: 'ActivityTaskFailed';
  seq: number;
  failure: SerializedFailure;
  attempt: number;
  /** A local activity's attempt failed and the next waits this long on a durable timer (not a final failure). */
  backoffMs?: number;
}
export interface TimerStarted extends EventBase {
  type: 'TimerStarted';
  seq: number;
  durationMs: number;
}
export interface TimerFired extends EventBase {
  type: 'TimerFired';
  seq: number;
}
export interface MarkerRecorded extends EventBase {
  type: 'MarkerRecorded';
  seq: number;
  name: string;
  value: Payload;
}
/** `upsertSearchAttributes()` in workflow code: the attributes it set (null: removed); a command matched by seq on replay. */
export interface UpsertWorkflowSearchAttributes extends EventBase {
  type: 'UpsertWorkflowSearchAttributes';
  seq: number;
  searchAttributes: Record<string, RecordedSearchAttribute | null>;
}
/**
 * A debounced start (`client.start(..., { debounce })`) of a run whose first task has not begun:
 * the run starts with `input` instead of its started event's, not before `startAt` (ms).
 */
export interface WorkflowStartDebounced extends EventBase {
  type: 'WorkflowStartDebounced';
  input: Payload[];
  startAt: number;
}
export interface SignalReceived extends EventBase {
  type: 'SignalReceived';
  signalName: string;
  input: Payload[];
}
/** An update the client validated and recorded: the workflow's `@Update` handler runs with `input`. */
export interface WorkflowUpdateAccepted extends EventBase {
  type: 'WorkflowUpdateAccepted';
  updateId: string;
  updateName: string;
  input: Payload[];
}
/** The update's handler returned (`result`) or threw (`failure`); recorded by the workflow task, once. */
export interface WorkflowUpdateCompleted extends EventBase {
  type: 'WorkflowUpdateCompleted';
  seq: number;
  updateId: string;
  result?: Payload;
  failure?: SerializedFailure;
}
export interface WorkflowCancelRequested extends EventBase {
  type: 'WorkflowCancelRequested';
  reason?: string;
}
export interface WorkflowExecutionCanceled extends EventBase {
  type: 'WorkflowExecutionCanceled';
  failure: SerializedFailure;
}
export interface WorkflowExecutionTerminated extends EventBase {
  type: 'WorkflowExecutionTerminated';
  reason: string;
}
export interface WorkflowExecutionContinuedAsNew extends EventBase {
  type: 'WorkflowExecutionContinuedAsNew';
  newRunId: string;
  input: Payload[];
}
/** The run passed its workflowExecutionTimeout or workflowRunTimeout and was closed as `timed_out`, without running its code. */
export interface WorkflowExecutionTimedOut extends EventBase {
  type: 'WorkflowExecutionTimedOut';
  timeoutType: 'WORKFLOW_EXECUTION' | 'WORKFLOW_RUN';
  failure: SerializedFailure;
}
/** `handle.reset()` closed this run: `newRunId` goes on from this run's history up to `toEventId`. */
export interface WorkflowExecutionReset extends EventBase {
  type: 'WorkflowExecutionReset';
  newRunId: string;
  toEventId: number;
  reason: string;
}
export interface ChildWorkflowScheduled extends EventBase {
  type: 'ChildWorkflowScheduled';
  seq: number;
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  input: Payload[];
  parentClosePolicy: ParentClosePolicy;
  /** The child's workflowExecutionTimeout and workflowRunTimeout (ms), when given. */
  timeouts?: Pick<RecordedWorkflowTimeouts, 'executionTimeoutMs' | 'runTimeoutMs'>;
  /** The child's search attributes and memo (see WorkflowExecutionStarted), recorded with the command. */
  searchAttributes?: RecordedSearchAttributes;
  memo?: Record<string, Payload>;
  /** The child's priority (its own option, else the parent's), when not the default. */
  priority?: number;
  /** The child type's concurrency limit with the key of its arguments: the child waits for a slot (its holder is set when it starts). */
  flow?: RecordedConcurrency;
}
export interface ChildWorkflowCompleted extends EventBase {
  type: 'ChildWorkflowCompleted';
  seq: number;
  result: Payload;
}
export interface ChildWorkflowFailed extends EventBase {
  type: 'ChildWorkflowFailed';
  seq: number;
  failure: SerializedFailure;
  status: string;
}

/** What happens to a running child when its parent closes. */
export type ParentClosePolicy = 'TERMINATE' | 'REQUEST_CANCEL' | 'ABANDON';

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
  | MarkerRecorded
  | UpsertWorkflowSearchAttributes
  | WorkflowStartDebounced
  | SignalReceived
  | WorkflowUpdateAccepted
  | WorkflowUpdateCompleted
  | WorkflowCancelRequested
  | WorkflowExecutionCanceled
  | WorkflowExecutionTerminated
  | WorkflowExecutionContinuedAsNew
  | WorkflowExecutionTimedOut
  | WorkflowExecutionReset
  | ChildWorkflowScheduled
  | ChildWorkflowCompleted
  | ChildWorkflowFailed;

export type EventType = HistoryEvent['type'];
/** Omit applied to each member of a union. */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event before the store gives it an id and timestamp. */
export type NewEvent = DistributiveOmit<HistoryEvent, 'id' | 'ts'>;

/** Events the workflow code produces (commands); on replay they are matched, not delivered. */
export type CommandEvent =
  | ActivityTaskScheduled
  | TimerStarted
  | MarkerRecorded
  | ChildWorkflowScheduled
  | WorkflowUpdateCompleted
  | UpsertWorkflowSearchAttributes;

/** A command the code produced, before the store gives it an id and timestamp. */
export type NewCommand = DistributiveOmit<CommandEvent, 'id' | 'ts'>;
/** Events that end a run. */
export type CloseEvent =
  | WorkflowExecutionCompleted
  | WorkflowExecutionFailed
  | WorkflowExecutionCanceled
  | WorkflowExecutionTerminated
  | WorkflowExecutionContinuedAsNew
  | WorkflowExecutionTimedOut
  | WorkflowExecutionReset;

const COMMAND_TYPES: ReadonlySet<EventType> = new Set([
  'ActivityTaskScheduled',
  'TimerStarted',
  'MarkerRecorded',
  'ChildWorkflowScheduled',
  'WorkflowUpdateCompleted',
  'UpsertWorkflowSearchAttributes',
]);
const CLOSE_TYPES: ReadonlySet<EventType> = new Set([
  'WorkflowExecutionCompleted',
  'WorkflowExecutionFailed',
  'WorkflowExecutionCanceled',
  'WorkflowExecutionTerminated',
  'WorkflowExecutionContinuedAsNew',
  'WorkflowExecutionTimedOut',
  'WorkflowExecutionReset',
]);

export function isCloseEvent(e: HistoryEvent): e is CloseEvent {
  return CLOSE_TYPES.has(e.type);
}

export function isCommandEvent(e: HistoryEvent): e is CommandEvent {
  return COMMAND_TYPES.has(e.type);
}

/** A short human description used in errors and the explorer ("ActivityTaskScheduled(withdraw) seq 1"). */
export function describeEvent(e: NewEvent | HistoryEvent): string {
  switch (e.type) {
    case 'ActivityTaskScheduled':
      return `ActivityTaskScheduled(${e.activityType}) seq ${e.seq}`;
    case 'TimerStarted':
      return `TimerStarted(${e.durationMs}ms) seq ${e.seq}`;
    case 'MarkerRecorded':
      return `MarkerRecorded(${e.name}) seq ${e.seq}`;
    case 'UpsertWorkflowSearchAttributes':
      return `UpsertWorkflowSearchAttributes(${Object.keys(e.searchAttributes).join(', ')}) seq ${e.seq}`;
    case 'ChildWorkflowScheduled':
      return `ChildWorkflowScheduled(${e.workflowType} ${e.workflowId}) seq ${e.seq}`;
    case 'SignalReceived':
      return `SignalReceived(${e.signalName})`;
    case 'WorkflowStartDebounced':
      return `WorkflowStartDebounced(until ${new Date(e.startAt).toISOString()})`;
    case 'WorkflowUpdateAccepted':
      return `WorkflowUpdateAccepted(${e.updateName} ${e.updateId})`;
    case 'WorkflowUpdateCompleted':
      return `WorkflowUpdateCompleted(${e.updateId}) seq ${e.seq}`;
    case 'ActivityTaskCompleted':
    case 'ActivityTaskFailed':
    case 'TimerFired':
    case 'ChildWorkflowCompleted':
    case 'ChildWorkflowFailed':
      return `${e.type} seq ${e.seq}`;
    default:
      return e.type;
  }
}

/** W3C trace context as stored in history and job data (OpenTelemetry). */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** One history event with its stream id (the cursor for reading what came after it). */
export interface StoredEvent {
  streamId: string;
  event: HistoryEvent;
}
