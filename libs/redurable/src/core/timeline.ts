import type { SerializedFailure } from './errors/failure-codec.js';
import type { HistoryEvent, Payload } from './events.js';

/** What a span of a run's timeline stands for. */
export type SpanKind = 'activity' | 'timer' | 'child' | 'signal' | 'update' | 'cancel-request' | 'marker';

/** One step of a run: scheduled (or received) at `start`, settled at `end` unless still open. */
export interface TimelineSpan {
  kind: SpanKind;
  /** Activity type, `sleep 5000ms`, child workflow type and id, signal, update or marker name. */
  name: string;
  /** The command's sequence number (absent for signals, updates and cancellation requests). */
  seq?: number;
  start: number;
  end?: number;
  status: 'pending' | 'completed' | 'failed' | 'fired' | 'received';
  /** Activities: the attempt that settled it. */
  attempt?: number;
  /** Scheduled by a saga to undo an earlier step. */
  compensation?: boolean;
  /** Encoded input, result, failure as stored. */
  input?: Payload[];
  result?: Payload;
  failure?: SerializedFailure;
  /** History event ids of the span's events. */
  eventIds: number[];
}

/** A run's history as spans, in the order they began (the explorer's timeline and `redurable workflow show`). */
export function timelineOf(history: HistoryEvent[]): TimelineSpan[] {
  const spans: TimelineSpan[] = [];
  const bySeq = new Map<number, TimelineSpan>();
  const updates = new Map<string, TimelineSpan>();
  for (const e of history) {
    switch (e.type) {
      case 'ActivityTaskScheduled':
        add({
          kind: 'activity',
          name: e.activityType,
          seq: e.seq,
          start: e.ts,
          status: 'pending',
          input: e.input,
          eventIds: [e.id],
          ...(e.compensation ? { compensation: true } : {}),
        });
        break;
      case 'TimerStarted':
        add({
          kind: 'timer',
          name: `sleep ${e.durationMs}ms`,
          seq: e.seq,
          start: e.ts,
          status: 'pending',
          eventIds: [e.id],
        });
        break;
      case 'ChildWorkflowScheduled':
        add({
          kind: 'child',
          name: `${e.workflowType} ${e.workflowId}`,
          seq: e.seq,
          start: e.ts,
          status: 'pending',
          input: e.input,
          eventIds: [e.id],
        });
        break;
      case 'MarkerRecorded':
        add({
          kind: 'marker',
          name: e.name,
          seq: e.seq,
          start: e.ts,
          end: e.ts,
          status: 'completed',
          result: e.value,
          eventIds: [e.id],
        });
        break;
      case 'UpsertWorkflowSearchAttributes':
        add({
          kind: 'marker',
          name: `search attributes: ${Object.keys(e.searchAttributes).join(', ')}`,
          seq: e.seq,
          start: e.ts,
          end: e.ts,
          status: 'completed',
          eventIds: [e.id],
        });
        break;
      case 'SignalReceived':
        spans.push({
          kind: 'signal',
          name: e.signalName,
          start: e.ts,
          end: e.ts,
          status: 'received',
          input: e.input,
          eventIds: [e.id],
        });
        break;
      case 'WorkflowUpdateAccepted': {
        const span: TimelineSpan = {
          kind: 'update',
          name: e.updateName,
          start: e.ts,
          status: 'pending',
          input: e.input,
          eventIds: [e.id],
        };
        spans.push(span);
        updates.set(e.updateId, span);
        break;
      }
      case 'WorkflowUpdateCompleted': {
        const span = updates.get(e.updateId);
        if (span)
          Object.assign(span, {
            end: e.ts,
            status: e.failure ? 'failed' : 'completed',
            result: e.result,
            failure: e.failure,
          }).eventIds.push(e.id);
        break;
      }
      case 'WorkflowCancelRequested':
        spans.push({
          kind: 'cancel-request',
          name: e.reason ?? 'cancel requested',
          start: e.ts,
          end: e.ts,
          status: 'received',
          eventIds: [e.id],
        });
        break;
      case 'ActivityTaskCompleted':
      case 'ChildWorkflowCompleted':
        settle(e.seq, e, { status: 'completed', result: e.result, ...('attempt' in e ? { attempt: e.attempt } : {}) });
        break;
      case 'ActivityTaskFailed':
        settle(e.seq, e, { status: 'failed', failure: e.failure, attempt: e.attempt });
        break;
      case 'ChildWorkflowFailed':
        settle(e.seq, e, { status: 'failed', failure: e.failure });
        break;
      case 'TimerFired':
        settle(e.seq, e, { status: 'fired' });
        break;
      default:
        break; // the run's own start and close are the page's header, not spans
    }
  }
  return spans;

  function add(span: TimelineSpan): void {
    spans.push(span);
    bySeq.set(span.seq!, span);
  }

  function settle(seq: number, e: HistoryEvent, outcome: Partial<TimelineSpan>): void {
    const span = bySeq.get(seq);
    if (!span) return;
    Object.assign(span, outcome, { end: e.ts });
    span.eventIds.push(e.id);
  }
}
