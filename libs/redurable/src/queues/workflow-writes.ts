import { randomUUID } from 'node:crypto';
import { crashPoint, type CrashPoint } from '../core/crash-points.js';
import { WorkflowNotFoundError } from '../core/errors/library.errors.js';
import { WorkflowNotRunningError } from '../core/errors/workflow-control.js';
import type { NewEvent } from '../core/events.js';
import { outstandingOf } from '../core/outstanding.js';
import type { Clock, CompletionResult, HistoryReader, HistoryWriter } from '../core/ports/index.js';
import { RUN_CHANGED, retryWhileRunChanges } from '../core/run-change.js';
import type { WorkflowMeta } from '../core/workflow-state.js';
import { timedOutEvent, type RunDeadline } from '../core/workflow-timeouts.js';
import { activityJobId, timeoutJobId, timerJobId, type Dispatcher } from './dispatcher.js';
import type { QueueSet } from './queue-set.js';

/** The run an event is for, and the task queue its workflow tasks go to. */
export interface WriteTarget {
  workflowId: string;
  runId: string;
  taskQueue: string;
  /** The run's priority (absent: the default): of the task a write wakes. */
  priority?: number;
}

/** An event appended to the current run from outside (see WorkflowWrites.external). */
export interface ExternalWrite {
  /** What the caller does, for errors and the wake's job id (`signal`, `cancel`). */
  action: string;
  event: NewEvent;
  /** A cancellation request: workers are told to abort the workflow's running activities. */
  cancel?: boolean;
  /** Sees the run before anything is written, and may refuse by throwing. */
  check?: (meta: WorkflowMeta) => void;
}

export interface WorkflowWritesDeps {
  histories: HistoryReader & HistoryWriter;
  dispatcher: Dispatcher;
  queues: QueueSet;
  /** Time given to outcomes (what workflow code sees); a test environment moves it. */
  clock: Clock;
  settings: { leaseTtlMs: number; retentionMs: number };
}

/** A record that asks its writer for a task (on `build`'s queue, for a pinned run). */
function needsTask(res: { kind: string }): res is { kind: 'needs-task'; build?: string } {
  return res.kind === 'needs-task';
}

/**
 * Writes into a workflow from outside its task: outcomes of activities, timers and children,
 * signals, cancellation, termination and timeouts. Each records its event with one script, then
 * wakes the workflow (enqueues a task) when the script says no task holds the lease; a crash
 * between the two is repaired by the recovery sweep (the workflow is marked as having new
 * events). What a close means for other workflows (its parent, its children) is the caller's
 * next step (RunClosing).
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
    if (needsTask(res))
      await this.deps.dispatcher.enqueueTask(target.workflowId, target.runId, target.taskQueue, tag, {
        priority: target.priority,
        build: res.build,
      });
    return res;
  }

  /** Records an activity, timer or child outcome (first result wins) and wakes the workflow. */
  recordOutcome(target: WriteTarget, event: NewEvent & { seq: number }, point: CrashPoint): Promise<CompletionResult> {
    const { histories, settings, clock } = this.deps;
    const outcome = { ...event, ts: clock.now() };
    return this.recordAndWake(target, `${event.type.startsWith('Child') ? 'child-' : 'c'}${event.seq}`, point, () =>
      histories.appendCompletion(target.workflowId, target.runId, outcome, { leaseTtlMs: settings.leaseTtlMs }),
    );
  }

  /**
   * Appends a signal or cancellation request to the workflow's current run and wakes it. One
   * request id across its attempts, so a copy resent after a lost reply records nothing.
   */
  async external(workflowId: string, write: ExternalWrite): Promise<void> {
    const { action, event, cancel, check } = write;
    const requestId = randomUUID();
    await retryWhileRunChanges(workflowId, action, async () => {
      const meta = await this.meta(workflowId);
      check?.(meta);
      const res = await this.recordAndWake(meta, `${action}-${requestId}`, 'external.after-append', () =>
        this.deps.histories.appendExternal(workflowId, meta.runId, event, { requestId, cancel }),
      );
      if (res.kind === 'not-running') throw new WorkflowNotRunningError(workflowId, res.status, action);
      return res.kind === 'retry' ? RUN_CHANGED : undefined;
    });
  }

  /**
   * Closes the current run as terminated; returns the run it closed (the caller then tells
   * RunClosing, so its jobs go, its parent learns of it and its children get their policy).
   */
  async terminate(workflowId: string, reason: string): Promise<{ runId: string }> {
    // One request id across attempts: a copy resent after a lost reply is recognised.
    const requestId = randomUUID();
    return retryWhileRunChanges(workflowId, 'terminate', async () => {
      const meta = await this.meta(workflowId);
      const { histories, settings } = this.deps;
      const res = await histories.terminate(workflowId, meta.runId, reason, settings.retentionMs, requestId);
      if (res.kind === 'not-running') throw new WorkflowNotRunningError(workflowId, res.status, 'terminate');
      return res.kind === 'retry' ? RUN_CHANGED : { runId: meta.runId };
    });
  }

  /**
   * Closes run `runId` as `timed_out` if it still runs (the timeout job, or the recovery sweep
   * when that job was lost); true when this call closed it (the caller then tells RunClosing).
   */
  async timeOut(
    workflowId: string,
    runId: string,
    deadline: Pick<RunDeadline, 'timeoutType' | 'timeoutMs'>,
  ): Promise<boolean> {
    const { histories, settings } = this.deps;
    const res = await histories.timeOut(
      workflowId,
      runId,
      timedOutEvent(workflowId, runId, deadline),
      settings.retentionMs,
    );
    return res.kind === 'recorded';
  }

  /**
   * Removes the activity, timer and timeout jobs of a closed run that have not started (a
   * terminated workflow's steps do not run later). Best effort: an active (locked) job cannot
   * be removed and sees its abort signal instead; a job left behind by a crash runs once and
   * its outcome is refused.
   */
  async removeOutstandingJobs(workflowId: string, runId: string): Promise<void> {
    const { events } = await this.deps.histories.readHistoryLeniently(workflowId, runId);
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
    await Promise.all(jobs.map((j) => j.queue.remove(j.jobId).catch(() => 0)));
  }

  private async meta(workflowId: string): Promise<WorkflowMeta> {
    const meta = await this.deps.histories.getMeta(workflowId);
    if (!meta) throw new WorkflowNotFoundError(workflowId);
    return meta;
  }
}
