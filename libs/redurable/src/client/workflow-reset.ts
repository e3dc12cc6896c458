import { randomUUID } from 'node:crypto';
import { crashPoint } from '../core/crash-points.js';
import { WorkflowNotFoundError } from '../core/errors/library.errors.js';
import { InvalidResetPointError } from '../core/errors/reset.errors.js';
import {
  describeEvent,
  isCloseEvent,
  isCommandEvent,
  type HistoryEvent,
  type NewEvent,
  type WorkflowExecutionStarted,
} from '../core/events.js';
import type { StoredEvent } from '../core/events.js';
import { workflowFlowHolder } from '../core/flow/workflow-flow.js';
import { recordTimeouts } from '../core/workflow-timeouts.js';
import { outstandingOf } from '../core/outstanding.js';
import { mergeSearchAttributes, type RecordedSearchAttributes } from '../core/search/search-attributes.js';
import { RUN_CHANGED, retryWhileRunChanges } from '../core/run-change.js';
import type { ClientParts } from './client-parts.js';

/** The parts a reset uses. */
export type ResetParts = Pick<ClientParts, 'histories' | 'dispatcher' | 'writes' | 'clock' | 'settings' | 'slots'>;

/** Options of {@link WorkflowHandle.reset}: where the new run's history ends (one of `toEventId` and `to`), and why. */
export interface ResetOptions {
  /**
   * Keep the history up to and including this event (its `id` in `fetchHistory()`): an event a
   * workflow task begins at (the start, an outcome, a signal, an update, a cancellation request),
   * not a command the code recorded nor the run's close.
   */
  toEventId?: number;
  /**
   * `'firstWorkflowTask'`: keep only the start (the run is re-executed from the beginning);
   * `'lastWorkflowTask'`: keep everything up to the last event a task began at, so the last
   * task runs again with the current code (after a fix, the step that failed the run).
   */
  to?: 'firstWorkflowTask' | 'lastWorkflowTask';
  /** Recorded with the reset. */
  reason: string;
  /** Record the signals the old run received after the reset point in the new run too. @default true */
  reapplySignals?: boolean;
}

/** Where a workflow task begins: an event the code reacts to, not one it produced or its end. */
function isTaskStart(e: HistoryEvent): boolean {
  return !isCommandEvent(e) && !isCloseEvent(e);
}

/** Seqs whose outcome a history holds (the new run's done set: a late job of theirs is refused). */
function outcomeSeqs(events: HistoryEvent[]): number[] {
  return events.flatMap((e) =>
    e.type === 'ActivityTaskCompleted' ||
    e.type === 'ActivityTaskFailed' ||
    e.type === 'TimerFired' ||
    e.type === 'ChildWorkflowCompleted' ||
    e.type === 'ChildWorkflowFailed'
      ? [e.seq]
      : [],
  );
}

function resetPoint(workflowId: string, runId: string, events: HistoryEvent[], options: ResetOptions): number {
  const invalid = (problem: string) => new InvalidResetPointError(workflowId, runId, problem);
  if ((options.toEventId === undefined) === (options.to === undefined))
    throw invalid("give one of 'toEventId' and 'to' ('firstWorkflowTask' or 'lastWorkflowTask')");
  if (typeof options.reason !== 'string' || options.reason.length === 0)
    throw invalid('give a reason (it is recorded with the reset)');
  if (options.to === 'firstWorkflowTask') return 1;
  if (options.to === 'lastWorkflowTask') return [...events].reverse().find(isTaskStart)!.id;
  if (options.to !== undefined)
    throw invalid(`'to' is ${JSON.stringify(options.to)}: use 'firstWorkflowTask' or 'lastWorkflowTask'`);
  const id = options.toEventId!;
  const event = Number.isInteger(id) ? events[id - 1] : undefined;
  if (!event) throw invalid(`its history has events 1 to ${events.length}, not ${JSON.stringify(id)}`);
  if (!isTaskStart(event)) {
    const before = [...events.slice(0, id)].reverse().find(isTaskStart)!;
    throw invalid(
      `event ${id} (${describeEvent(event)}) is ${isCloseEvent(event) ? "the run's close" : 'a command the code recorded'}, not a point a workflow task begins at; the nearest earlier one is event ${before.id} (${describeEvent(before)})`,
    );
  }
  return id;
}

/** The search attributes a history prefix leaves the run with (the start's, then each upsert), for the meta's indexed map. */
function searchAttributesAt(events: HistoryEvent[]): RecordedSearchAttributes | undefined {
  let current = (events[0] as WorkflowExecutionStarted).searchAttributes ?? {};
  for (const e of events)
    if (e.type === 'UpsertWorkflowSearchAttributes') current = mergeSearchAttributes(current, e.searchAttributes);
  return Object.keys(current).length > 0 ? current : undefined;
}

/**
 * A child this run started that still runs cannot be taken over by the new run (its outcome
 * goes to this run, and the new run's start of it would find it running): such a reset is refused.
 */
async function refuseOpenChildren(
  runtime: ResetParts,
  workflowId: string,
  runId: string,
  events: HistoryEvent[],
): Promise<void> {
  const { children } = outstandingOf(events);
  if (children.length === 0) return;
  const metas = await runtime.histories.getMetas(children.map((c) => c.workflowId));
  const open = children.filter(
    (c, i) =>
      metas[i]?.status === 'running' &&
      metas[i]?.parent?.workflowId === workflowId &&
      metas[i]?.parent?.runId === runId,
  );
  if (open.length === 0) return;
  throw new InvalidResetPointError(
    workflowId,
    runId,
    `the child workflow${open.length > 1 ? 's' : ''} ${open.map((c) => `'${c.workflowId}'`).join(', ')} it started ${open.length > 1 ? 'are' : 'is'} still running; ` +
      'a new run cannot take over a running child: wait for it to close (or terminate it), then reset',
  );
}

/** An event as the new run stores it: without its position (the stream gives it), with its time (a replay sees the same `Date.now()`). */
function copied(e: HistoryEvent): NewEvent & { ts: number } {
  const { id: _id, ...rest } = e;
  return rest as NewEvent & { ts: number };
}

/**
 * Resets the current run of a workflow (`runId`, if given, must be it): a new run whose history is
 * the old one up to the reset point, run by this deployment's code, with the signals received
 * after it when asked. One script writes it (a running old run is closed as reset, linked to the
 * new one); then the new run's first task is enqueued, or, after a crash, the recovery sweep does.
 * Returns the new run's id.
 */
export async function resetWorkflow(
  runtime: ResetParts,
  workflowId: string,
  runId: string | undefined,
  options: ResetOptions,
): Promise<string> {
  const { histories: store, dispatcher } = runtime;
  const newRunId = randomUUID(); // also the request id: a resent script finds this run's history
  return retryWhileRunChanges(workflowId, 'reset', async () => {
    const meta = await store.getMeta(workflowId);
    if (!meta) throw new WorkflowNotFoundError(workflowId);
    if (runId !== undefined && runId !== meta.runId)
      throw new InvalidResetPointError(
        workflowId,
        runId,
        `it is not the workflow's current run (${meta.runId}); only the current run can be reset`,
      );
    const entries: StoredEvent[] = await store.readEntries(workflowId, meta.runId);
    if (entries.length !== meta.historyLength) return RUN_CHANGED; // it grew meanwhile: read again
    const events = entries.map((e) => e.event);
    const point = resetPoint(workflowId, meta.runId, events, options);
    await refuseOpenChildren(runtime, workflowId, meta.runId, events);
    const started = events[0] as WorkflowExecutionStarted;
    const { executionTimeoutMs, runTimeoutMs, executionDeadline } = started.timeouts ?? {};
    // The new run of a running one keeps its concurrency slot (or its place in line); a closed
    // one's was freed at its close, so the new run waits for one again, as a new holder.
    const flow =
      started.flow && meta.status !== 'running'
        ? { ...started.flow, holder: workflowFlowHolder(workflowId, newRunId) }
        : undefined;
    // A debounced run's last arguments (a reset to its first task keeps none of its WorkflowStartDebounced).
    const debounced = events.filter((e) => e.type === 'WorkflowStartDebounced').at(-1);
    const first = {
      ...copied(started),
      ...(debounced ? { input: debounced.input } : {}),
      ...(flow ? { flow } : {}),
      runId: newRunId,
      resetFrom: { runId: meta.runId, eventId: point, reason: options.reason },
      ...(started.timeouts
        ? { timeouts: recordTimeouts({ executionTimeoutMs, runTimeoutMs }, runtime.clock.now(), executionDeadline) }
        : {}),
    };
    const kept = events.slice(1, point).map(copied);
    // Reapplied signals arrive in the new run now: they take the new stream's time.
    const signals =
      options.reapplySignals === false
        ? []
        : events
            .slice(point)
            .filter((e) => e.type === 'SignalReceived')
            .map((e) => {
              const { id: _id, ts: _ts, ...signal } = e;
              return signal as NewEvent;
            });
    const res = await store.reset({
      workflowId,
      oldRunId: meta.runId,
      newRunId,
      expectLen: meta.historyLength,
      retentionMs: runtime.settings.retentionMs,
      searchAttributes: searchAttributesAt(events.slice(0, point)),
      reset: { type: 'WorkflowExecutionReset', newRunId, toEventId: point, reason: options.reason },
      events: [first, ...kept, ...signals],
      done: outcomeSeqs(events.slice(0, point)),
      flow,
    });
    if (res.kind === 'retry') return RUN_CHANGED;
    crashPoint('reset.after-script');
    const run = { workflowId, runId: newRunId, taskQueue: meta.taskQueue, priority: meta.priority };
    // A run that waits for its slot gets its first task when granted (a reset of a running run
    // that was waiting keeps waiting: its place in line is its holder's).
    if (flow) await runtime.slots.requestAfterStart(run, flow);
    else if (!meta.flowWait)
      await dispatcher.enqueueTask(workflowId, newRunId, meta.taskQueue, 'start', {
        priority: meta.priority,
        build: meta.pinnedBuild, // a reset run stays on its build (it replays the old run's events)
      });
    // The old run's jobs that have not started would only have their outcomes refused.
    if (res.closedRunning) await runtime.writes.removeOutstandingJobs(workflowId, meta.runId);
    return newRunId;
  });
}
