import { randomUUID } from 'node:crypto';
import { crashPoint } from '../core/crash-points.js';
import type { ChildIndexes, HistoryReader, HistoryWriter, Logger } from '../core/ports/index.js';
import type { ChildWorkflowScheduled, HistoryEvent, NewEvent } from '../core/events.js';
import { closeFailure } from '../core/close-failure.js';
import { WorkflowNotRunningError } from '../core/errors/workflow-control.js';
import type { Dispatcher } from '../queues/dispatcher.js';
import { RUN_CHANGE_ATTEMPTS, type WorkflowWrites } from '../queues/workflow-writes.js';
import { WorkflowRunChangedError } from '../core/errors/library.errors.js';
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
  store: HistoryReader & HistoryWriter;
  /** Closed children whose parent is not yet told, closed parents whose children still need the policy. */
  indexes: ChildIndexes;
  dispatcher: Dispatcher;
  writes: WorkflowWrites;
  logger: Logger;
  leaseTtlMs: number;
  retentionMs: number;
  /** Workflow time: a child's timeout deadlines are set from it when it starts. */
  now(): number;
}

export class ChildWorkflows {
  constructor(private readonly deps: ChildWorkflowsDeps) {}

  /** Starts the child a parent's command asks for (called when the parent's commands are dispatched). */
  async start(
    parent: { workflowId: string; runId: string; taskQueue: string },
    cmd: Omit<ChildWorkflowScheduled, 'id' | 'ts'>,
  ): Promise<void> {
    const { store, dispatcher, leaseTtlMs, retentionMs } = this.deps;
    const info = {
      workflowId: parent.workflowId,
      runId: parent.runId,
      seq: cmd.seq,
      taskQueue: parent.taskQueue,
      parentClosePolicy: cmd.parentClosePolicy,
    };
    // Before the child exists, mark the parent, so its close is queued for the parent-close policy.
    await store.markHasChildren(parent.workflowId);
    // One run id across attempts: a copy of the start resent after a lost reply returns this run.
    const runId = randomUUID();
    for (let attempt = 0; attempt < RUN_CHANGE_ATTEMPTS; attempt++) {
      const meta = await store.getMeta(cmd.workflowId);
      if (
        meta?.parent &&
        meta.parent.workflowId === parent.workflowId &&
        meta.parent.runId === parent.runId &&
        meta.parent.seq === cmd.seq
      ) {
        if (meta.status !== 'running') await this.notifyParent(cmd.workflowId);
        return;
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
          ...(cmd.timeouts ? { timeouts: recordTimeouts(cmd.timeouts, this.deps.now()) } : {}),
        },
        reuse: 'ALLOW_DUPLICATE',
        conflict: 'FAIL',
        terminateReason: '',
        retentionMs,
        parent: info,
      });
      if (res.kind === 'retry') continue;
      if (res.kind === 'started') {
        crashPoint('child.after-start');
        await dispatcher.enqueueTask(cmd.workflowId, runId, cmd.taskQueue, 'start');
        return;
      }
      if (res.kind === 'running') {
        // Another dispatch of the same command (a replay, the sweep) may have started it meanwhile.
        const now = await store.getMeta(cmd.workflowId);
        if (
          now?.parent?.workflowId === parent.workflowId &&
          now.parent.runId === parent.runId &&
          now.parent.seq === cmd.seq
        )
          return;
      }
      const message = `could not start child workflow '${cmd.workflowId}': ${res.kind === 'running' ? `a run (${res.runId}) is already running` : `reuse rejected (${res.kind})`}`;
      await this.deliver(info, {
        type: 'ChildWorkflowFailed',
        seq: cmd.seq,
        status: 'start-failed',
        failure: { kind: 'application', type: 'ChildStartFailed', message },
      });
      return;
    }
    // The parent's task fails and is retried with backoff; the start is idempotent.
    throw new WorkflowRunChangedError(cmd.workflowId, 'start child', RUN_CHANGE_ATTEMPTS);
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
      this.deps.logger.error?.(
        `After closing workflow ${workflowId} (run ${runId}): ${(err as Error).message}; the recovery sweep retries the parent notification`,
      );
    }
  }

  private async deliver(
    parent: { workflowId: string; runId: string; taskQueue: string },
    outcome: Extract<NewEvent, { type: 'ChildWorkflowCompleted' | 'ChildWorkflowFailed' }>,
  ): Promise<void> {
    await this.deps.writes.recordOutcome(parent, outcome, 'notify.after-append');
  }

  /**
   * The recovery sweep's path for a parent in the closed-parents index: first start (idempotently)
   * any child its last round scheduled that a crash kept from starting, then apply the policy.
   */
  async applyForClosedParent(workflowId: string): Promise<void> {
    const { store, indexes } = this.deps;
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
    const { store } = this.deps;
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
      if (child.parentClosePolicy === 'TERMINATE')
        await writes.terminate(child.workflowId, `${reason} (parentClosePolicy TERMINATE)`).catch(ignoreNotRunning);
      else
        await writes
          .external(child.workflowId, 'cancel', { type: 'WorkflowCancelRequested', reason }, true)
          .catch(ignoreNotRunning);
    }
    await this.deps.indexes.parentHandled(workflowId);
  }
}

function ignoreNotRunning(err: unknown): void {
  if (!(err instanceof WorkflowNotRunningError)) throw err;
}
