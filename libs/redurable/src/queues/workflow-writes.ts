import { randomUUID } from 'node:crypto';
import { crashPoint, type CrashPoint } from '../core/crash-points.js';
import { WorkflowNotFoundError, WorkflowRunChangedError } from '../core/errors/library.errors.js';
import { WorkflowNotRunningError } from '../core/errors/workflow-control.js';
import type { NewEvent } from '../core/events.js';
import type { CompletionResult, ExternalResult, HistoryReader, HistoryWriter } from '../core/ports/index.js';
import type { WorkflowMeta } from '../core/workflow-state.js';
import { outstandingOf } from '../core/outstanding.js';
import { activityJobId, timeoutJobId, timerJobId, type Dispatcher } from './dispatcher.js';
import type { QueueSet } from './queue-set.js';
import { timedOutEvent, type RunDeadline } from '../core/workflow-timeouts.js';

/** How often a write re-reads the current run when it changed under it before giving up. */
export const RUN_CHANGE_ATTEMPTS = 10;

/** The run an event is for, and the task queue its workflow tasks go to. */
export interface WriteTarget {
  workflowId: string;
  runId: string;
  taskQueue: string;
}

export interface WorkflowWritesDeps {
  store: HistoryReader & HistoryWriter;
  dispatcher: Dispatcher;
  queues: QueueSet;
  retentionMs: number;
  leaseTtlMs: number;
  /** Time given to outcomes (what workflow code sees); a test environment moves it. */
  now(): number;
  /** After a run closed (terminate): report to its parent, stop its children per policy. */
  afterClose(workflowId: string, runId: string): Promise<void>;
}

/**
 * Writes into a workflow from outside its task: outcomes of activities, timers and children,
 * signals, cancellation and termination. Each records its event with one script, then wakes
 * the workflow (enqueues a task) when the script says no task holds the lease; a crash between
 * the two is repaired by the recovery sweep (the workflow is marked as having new events).
 */
export class WorkflowWrites {
  constructor(private readonly deps: WorkflowWritesDeps) {}

  /**
   * Records an event, then wakes the workflow if the record needs a task: the one way every
   * writer outside a task moves a workflow on. `tag` makes the task's job id, so two wakes for
   * the same record enqueue one task.
   */
  async recordAndWake<R extends { kind: string }>(
    target: WriteTarget,
    tag: string,
    point: CrashPoint,
    record: () => Promise<R>,
  ): Promise<R> {
    const res = await record();
    crashPoint(point);
    if (res.kind === 'needs-task')
      await this.deps.dispatcher.enqueueTask(target.workflowId, target.runId, target.taskQueue, tag);
    return res;
  }

  /** Records an activity, timer or child outcome (first result wins) and wakes the workflow. */
  recordOutcome(target: WriteTarget, event: NewEvent & { seq: number }, point: CrashPoint): Promise<CompletionResult> {
    const { store, leaseTtlMs } = this.deps;
    const outcome = { ...event, ts: this.deps.now() };
    return this.recordAndWake(target, `${event.type.startsWith('Child') ? 'child-' : 'c'}${event.seq}`, point, () =>
      store.appendCompletion(target.workflowId, target.runId, outcome, false, leaseTtlMs),
    );
  }

  /**
   * Appends a signal or cancellation request to the workflow's current run and wakes it. One
   * request id across its attempts, so a copy resent after a lost reply records nothing.
   * `check` sees the run before anything is written, and may refuse by throwing.
   */
  async external(
    workflowId: string,
    action: string,
    event: NewEvent,
    cancel: boolean,
    check?: (meta: WorkflowMeta) => void,
  ): Promise<void> {
    const requestId = randomUUID();
    for (let attempt = 0; attempt < RUN_CHANGE_ATTEMPTS; attempt++) {
      const meta = await this.meta(workflowId);
      check?.(meta);
      const res: ExternalResult = await this.recordAndWake(
        meta,
        `${action}-${requestId}`,
        'external.after-append',
        () => this.deps.store.appendExternal(workflowId, meta.runId, event, cancel, requestId),
      );
      if (res.kind === 'not-running') throw new WorkflowNotRunningError(workflowId, res.status, action);
      if (res.kind !== 'retry') return;
    }
    throw new WorkflowRunChangedError(workflowId, action, RUN_CHANGE_ATTEMPTS);
  }

  /** Closes the current run as terminated, then reports it to its parent and stops its children. */
  async terminate(workflowId: string, reason: string): Promise<void> {
    // One request id across attempts: a copy resent after a lost reply is recognised.
    const requestId = randomUUID();
    for (let attempt = 0; attempt < RUN_CHANGE_ATTEMPTS; attempt++) {
      const meta = await this.meta(workflowId);
      const res = await this.deps.store.terminate(workflowId, meta.runId, reason, this.deps.retentionMs, requestId);
      if (res.kind === 'not-running') throw new WorkflowNotRunningError(workflowId, res.status, 'terminate');
      if (res.kind === 'retry') continue;
      await this.afterTerminate(workflowId, meta.runId);
      return;
    }
    throw new WorkflowRunChangedError(workflowId, 'terminate', RUN_CHANGE_ATTEMPTS);
  }

  /**
   * Closes run `runId` as `timed_out` if it still runs (the timeout job, or the recovery sweep
   * when that job was lost), then does what a termination does after; true when this call closed it.
   */
  async timeOut(
    workflowId: string,
    runId: string,
    deadline: Pick<RunDeadline, 'timeoutType' | 'timeoutMs'>,
  ): Promise<boolean> {
    const res = await this.deps.store.timeOut(
      workflowId,
      runId,
      timedOutEvent(workflowId, runId, deadline),
      this.deps.retentionMs,
    );
    if (res.kind !== 'recorded') return false;
    crashPoint('timeout.after-close');
    await this.afterTerminate(workflowId, runId);
    return true;
  }

  /**
   * After a run was terminated (or timed out): its activity and timer jobs that have not started are removed
   * (a terminated workflow's steps do not run later; running ones get their abort signal), then
   * its parent is told and its children get the parent-close policy. Best effort: a job left
   * behind by a crash runs once and its outcome is refused.
   */
  async afterTerminate(workflowId: string, runId: string): Promise<void> {
    try {
      await this.removeOutstandingJobs(workflowId, runId);
    } finally {
      await this.deps.afterClose(workflowId, runId);
    }
  }

  /** Removes the activity, timer and timeout jobs of a closed run that have not started (best effort; running ones see their abort signal). */
  async removeOutstandingJobs(workflowId: string, runId: string): Promise<void> {
    const { events } = await this.deps.store.readHistoryLeniently(workflowId, runId);
    const started = events[0]?.type === 'WorkflowExecutionStarted' ? events[0] : undefined;
    const { activities, timers } = outstandingOf(events);
    const { queues } = this.deps;
    const jobs = [
      ...(await Promise.all(
        activities.map(async (a) => ({
          queue: await queues.activityFor(a.options.taskQueue, workflowId),
          jobId: activityJobId(workflowId, runId, a.seq),
        })),
      )),
      ...(started
        ? await Promise.all(
            timers.map(async (t) => ({
              queue: await queues.workflowFor(started.taskQueue, workflowId),
              jobId: timerJobId(workflowId, runId, t.seq),
            })),
          )
        : []),
      // The run's timeout job (the one running now, if this is its timeout, is locked and stays).
      ...(started?.timeouts
        ? [{ queue: await queues.workflowFor(started.taskQueue, workflowId), jobId: timeoutJobId(workflowId, runId) }]
        : []),
    ];
    // An active (locked) job cannot be removed: it sees its abort signal instead.
    await Promise.all(jobs.map((j) => j.queue.remove(j.jobId).catch(() => 0)));
  }

  private async meta(workflowId: string): Promise<WorkflowMeta> {
    const meta = await this.deps.store.getMeta(workflowId);
    if (!meta) throw new WorkflowNotFoundError(workflowId);
    return meta;
  }
}
