import { randomUUID } from 'node:crypto';
import { crashPoint } from '../core/crash-points.js';
import type {
  ChildIndexes,
  Clock,
  HistoryReader,
  HistoryWriter,
  JobDispatcher,
  Logger,
  RunClosing,
} from '../core/ports/index.js';
import type { ChildWorkflowScheduled, HistoryEvent, NewEvent } from '../core/events.js';
import { closeFailure } from '../core/close-failure.js';
import { WorkflowNotRunningError } from '../core/errors/workflow-control.js';
import type { WorkflowWrites } from '../queues/workflow-writes.js';
import type { WorkflowSlots } from '../queues/workflow-slots.js';
import { workflowFlowHolder } from '../core/flow/workflow-flow.js';
import { RUN_CHANGED, retryWhileRunChanges } from '../core/run-change.js';
import type { StepOwner } from './step-dispatch.js';
import { traceOf } from '../observability/tracing.js';
import { recordTimeouts } from '../core/workflow-timeouts.js';

/**
 * Child workflows across two workflows' keys, so in steps that can each be repeated: start
 * the child (idempotent: a child already started for this parent's seq is left alone), report
 * its outcome into the parent's history (first result wins), and apply the parent-close
 * policy. A closed child stays in the notify index until its parent has its outcome; the
 * recovery sweep retries what a crash interrupted.
 */
export interface ChildWorkflowsDeps {
  histories: HistoryReader & HistoryWriter;
  /** Closed children whose parent is not yet told, closed parents whose children still need the policy. */
  indexes: ChildIndexes;
  dispatcher: JobDispatcher;
  writes: WorkflowWrites;
  /** Frees the concurrency slot of a run closed from outside its task. */
  slots: Pick<WorkflowSlots, 'releaseRun' | 'requestAfterStart'>;
  logger: Logger;
  /** Workflow time: a child's timeout deadlines are set from it when it starts. */
  clock: Clock;
  settings: { leaseTtlMs: number; retentionMs: number; buildId?: string };
}

/** Child workflows, and what a run's close means for its parent and its children (RunClosing). */
export class ChildWorkflows implements RunClosing {
  constructor(private readonly deps: ChildWorkflowsDeps) {}

  /** Starts the child a parent's command asks for (called when the parent's commands are dispatched). */
  async start(parent: StepOwner, cmd: Omit<ChildWorkflowScheduled, 'id' | 'ts'>): Promise<void> {
    const { histories: store, dispatcher, settings } = this.deps;
    const { leaseTtlMs, retentionMs } = settings;
    const info = {
      workflowId: parent.workflowId,
      runId: parent.runId,
      seq: cmd.seq,
      taskQueue: parent.taskQueue,
      parentClosePolicy: cmd.parentClosePolicy,
      // The parent's task that the child's outcome wakes (notifyParent) keeps the parent's priority.
      ...(parent.priority !== undefined ? { priority: parent.priority } : {}),
    };
    // Before the child exists, mark the parent, so its close is queued for the parent-close policy.
    await store.markHasChildren(parent.workflowId);
    // One run id across attempts: a copy of the start resent after a lost reply returns this run.
    const runId = randomUUID();
    const flow = cmd.flow && { ...cmd.flow, holder: workflowFlowHolder(cmd.workflowId, runId) };
    // The parent's task fails and is retried with backoff if the child's run keeps changing; the start is idempotent.
    await retryWhileRunChanges(cmd.workflowId, 'start child', async () => {
      const meta = await store.getMeta(cmd.workflowId);
      if (
        meta?.parent &&
        meta.parent.workflowId === parent.workflowId &&
        meta.parent.runId === parent.runId &&
        meta.parent.seq === cmd.seq
      ) {
        if (meta.status !== 'running') await this.notifyParent(cmd.workflowId);
        return undefined;
      }
      const res = await store.start({
        requestId: runId,
        checkAfterMs: leaseTtlMs,
        started: {
          type: 'WorkflowExecutionStarted',
          workflowType: cmd.workflowType,
          workflowId: cmd.workflowId,
          runId,
          taskQueue: cmd.taskQueue,
          input: cmd.input,
          parent: info,
          ...traceOf(),
          ...(cmd.searchAttributes ? { searchAttributes: cmd.searchAttributes } : {}),
          ...(cmd.memo ? { memo: cmd.memo } : {}),
          ...(cmd.timeouts ? { timeouts: recordTimeouts(cmd.timeouts, this.deps.clock.now()) } : {}),
          ...(cmd.priority !== undefined ? { priority: cmd.priority } : {}),
          ...(flow ? { flow } : {}),
          ...(settings.buildId ? { buildId: settings.buildId } : {}),
        },
        reuse: 'ALLOW_DUPLICATE',
        conflict: 'FAIL',
        terminateReason: '',
        retentionMs,
        parent: info,
      });
      if (res.kind === 'retry') return RUN_CHANGED;
      if (res.kind === 'started') {
        crashPoint('child.after-start');
        const run = { workflowId: cmd.workflowId, runId, taskQueue: cmd.taskQueue, priority: cmd.priority };
        // A limited child waits for its slot (its first task comes with it; after a crash, the sweep asks).
        if (flow) await this.deps.slots.requestAfterStart(run, flow);
        else await dispatcher.enqueueTask(cmd.workflowId, runId, cmd.taskQueue, 'start', { priority: cmd.priority });
        return undefined;
      }
      if (res.kind === 'running') {
        // Another dispatch of the same command (a replay, the sweep) may have started it meanwhile.
        const now = await store.getMeta(cmd.workflowId);
        if (
          now?.parent?.workflowId === parent.workflowId &&
          now.parent.runId === parent.runId &&
          now.parent.seq === cmd.seq
        )
          return undefined;
      }
      const message = `could not start child workflow '${cmd.workflowId}': ${res.kind === 'running' ? `a run (${res.runId}) is already running` : `reuse rejected (${res.kind})`}`;
      await this.deliver(info, {
        type: 'ChildWorkflowFailed',
        seq: cmd.seq,
        status: 'start-failed',
        failure: { kind: 'application', type: 'ChildStartFailed', message },
      });
      return undefined;
    });
  }

  /**
   * Records a closed child's outcome in its parent's history and wakes the parent. Reads what
   * the close script stored for it (the child's meta may belong to a newer run by now).
   */
  async notifyParent(childWorkflowId: string): Promise<void> {
    const { indexes } = this.deps;
    const stored = await indexes.notificationOf(childWorkflowId);
    if (stored) {
      const outcome =
        stored.status === 'completed'
          ? { type: 'ChildWorkflowCompleted' as const, seq: stored.parent.seq, result: stored.value }
          : {
              type: 'ChildWorkflowFailed' as const,
              seq: stored.parent.seq,
              status: stored.status,
              failure: closeFailure({ status: stored.status, closeValue: stored.value }),
            };
      await this.deliver(stored.parent, outcome);
    }
    await indexes.childNotified(childWorkflowId);
  }

  /** After a run closed: report to its parent, and apply its children's parent-close policy. */
  async afterClose(
    workflowId: string,
    runId: string,
    related: { parent: boolean; children: boolean } = { parent: true, children: true },
  ): Promise<void> {
    try {
      if (related.parent) await this.notifyParent(workflowId);
      if (related.children) await this.applyParentClosePolicy(workflowId, runId);
    } catch (err) {
      this.deps.logger.error(
        `After closing workflow ${workflowId} (run ${runId}): ${(err as Error).message}; the recovery sweep retries the parent notification`,
      );
    }
  }

  /**
   * After a run was closed from outside its task (terminated, timed out): its concurrency slot is
   * freed (and the next waiter woken), its activity, timer and timeout jobs that have not started
   * go (running ones see their abort signal), then its parent is told and its children get the
   * parent-close policy.
   */
  async closedFromOutside(workflowId: string, runId: string): Promise<void> {
    try {
      await this.deps.slots.releaseRun(workflowId, runId);
      await this.deps.writes.removeOutstandingJobs(workflowId, runId);
    } finally {
      await this.afterClose(workflowId, runId);
    }
  }

  private async deliver(
    parent: StepOwner,
    outcome: Extract<NewEvent, { type: 'ChildWorkflowCompleted' | 'ChildWorkflowFailed' }>,
  ): Promise<void> {
    await this.deps.writes.recordOutcome(parent, outcome, 'notify.after-append');
  }

  /**
   * The recovery sweep's path for a parent in the closed-parents index: first start (idempotently)
   * any child its last round scheduled that a crash kept from starting, then apply the policy.
   */
  async applyForClosedParent(workflowId: string): Promise<void> {
    const { histories: store, indexes } = this.deps;
    const runId = await indexes.closedParentRun(workflowId);
    if (runId) {
      const history = await store.readHistory(workflowId, runId);
      const started = history[0];
      if (started?.type === 'WorkflowExecutionStarted') {
        for (const e of history) {
          if (e.type !== 'ChildWorkflowScheduled') continue;
          const meta = await store.getMeta(e.workflowId);
          if (meta?.parent?.runId === runId && meta.parent.seq === e.seq) continue;
          if (
            !history.some(
              (x) => (x.type === 'ChildWorkflowCompleted' || x.type === 'ChildWorkflowFailed') && x.seq === e.seq,
            )
          ) {
            await this.start({ workflowId, runId, taskQueue: started.taskQueue }, e);
          }
        }
      }
      await this.applyParentClosePolicy(workflowId, runId);
    }
    await indexes.parentHandled(workflowId);
  }

  /** Terminates or cancels the children a closed parent left running, per their policy. */
  private async applyParentClosePolicy(workflowId: string, runId: string): Promise<void> {
    const { histories: store } = this.deps;
    const history: HistoryEvent[] = await store.readHistory(workflowId, runId);
    const open = new Map<number, ChildWorkflowScheduled>();
    for (const e of history) {
      if (e.type === 'ChildWorkflowScheduled') open.set(e.seq, e);
      else if (e.type === 'ChildWorkflowCompleted' || e.type === 'ChildWorkflowFailed') open.delete(e.seq);
    }
    for (const child of open.values()) {
      if (child.parentClosePolicy === 'ABANDON') continue;
      const meta = await store.getMeta(child.workflowId);
      if (!meta || meta.status !== 'running' || meta.parent?.runId !== runId) continue;
      const { writes } = this.deps;
      const reason = `parent workflow '${workflowId}' closed`;
      // The child may close meanwhile: then there is nothing left to stop.
      if (child.parentClosePolicy === 'TERMINATE') {
        const closed = await writes
          .terminate(child.workflowId, `${reason} (parentClosePolicy TERMINATE)`)
          .catch(ignoreNotRunning);
        if (closed) await this.closedFromOutside(child.workflowId, closed.runId);
      } else {
        await writes
          .external(child.workflowId, {
            action: 'cancel',
            event: { type: 'WorkflowCancelRequested', reason },
            cancel: true,
          })
          .catch(ignoreNotRunning);
      }
    }
    await this.deps.indexes.parentHandled(workflowId);
  }
}

function ignoreNotRunning(err: unknown): undefined {
  if (!(err instanceof WorkflowNotRunningError)) throw err;
  return undefined;
}
