import type { HistoryEvent, SerializedFailure, WorkflowDescription } from 'redurable';
import type { TransferProgress } from './transfer.types.js';

/** One durable step of a transfer, as `GET /transfers/:id` shows it. */
export interface TransferStep {
  seq: number;
  kind: 'activity' | 'timer';
  /** Activity name, or `sleep <ms>ms` for a timer. */
  name: string;
  /** `abandoned`: the workflow closed without waiting for it (the timeout timer of an approval that came in time). */
  status: 'scheduled' | 'running' | 'retrying' | 'completed' | 'failed' | 'waiting' | 'fired' | 'abandoned';
  /** True for a saga compensation (the refund undoing a withdrawal). */
  compensation?: boolean;
  /** Attempt reached (1 = first try); the attempt that completed or failed for good once finished. */
  attempts?: number;
  /** Error of the last failed attempt. */
  lastError?: string;
  startedAt: string;
  finishedAt?: string;
}

/** `GET /transfers/:id`. */
export interface TransferStatus {
  transferId: string;
  workflowId: string;
  status: WorkflowDescription['status'];
  /** Where the transfer is (the workflow's `stage` query); absent if its history could not be replayed. */
  stage?: TransferProgress['stage'];
  /** Its approval, when the amount is above the approval limit. */
  approval?: TransferProgress['approval'];
  startedAt: Date;
  closedAt?: Date;
  result?: unknown;
  failure?: { type?: string; message: string; notUndone?: { step: string; reason: string }[] };
  steps: TransferStep[];
}

/** Builds the transfer's status from the workflow's description, its history and its `stage` query. */
export function transferStatus(
  transferId: string,
  d: WorkflowDescription,
  history: HistoryEvent[],
  progress?: TransferProgress,
): TransferStatus {
  const steps = new Map<number, TransferStep>();
  const iso = (ts: number) => new Date(ts).toISOString();
  for (const e of history) {
    if (e.type === 'ActivityTaskScheduled') {
      steps.set(e.seq, {
        seq: e.seq,
        kind: 'activity',
        name: e.activityType,
        status: 'scheduled',
        startedAt: iso(e.ts),
        ...(e.compensation ? { compensation: true } : {}),
      });
    } else if (e.type === 'TimerStarted') {
      steps.set(e.seq, {
        seq: e.seq,
        kind: 'timer',
        name: `sleep ${e.durationMs}ms`,
        status: 'waiting',
        startedAt: iso(e.ts),
      });
    } else if (e.type === 'ActivityTaskCompleted' || e.type === 'ActivityTaskFailed' || e.type === 'TimerFired') {
      const step = steps.get(e.seq);
      if (!step) continue;
      step.finishedAt = iso(e.ts);
      if (e.type === 'TimerFired') step.status = 'fired';
      else {
        step.status = e.type === 'ActivityTaskCompleted' ? 'completed' : 'failed';
        step.attempts = e.attempt;
        if (e.type === 'ActivityTaskFailed') step.lastError = innermost(e.failure).message;
      }
    }
  }
  for (const p of d.pendingActivities) {
    const step = steps.get(p.seq);
    if (!step) continue;
    step.attempts = p.attempt;
    step.lastError = p.lastFailure;
    step.status = p.state === 'active' ? 'running' : p.state === 'delayed' ? 'retrying' : 'scheduled';
  }
  if (d.status !== 'running') {
    for (const step of steps.values())
      if (step.status === 'waiting' || step.status === 'scheduled') step.status = 'abandoned';
  }
  const status: TransferStatus = {
    transferId,
    workflowId: d.workflowId,
    status: d.status,
    ...(progress ? { stage: progress.stage, ...(progress.approval ? { approval: progress.approval } : {}) } : {}),
    startedAt: d.startTime,
    closedAt: d.closeTime,
    steps: [...steps.values()],
  };
  if (d.result !== undefined) status.result = d.result;
  if (d.failure)
    status.failure = {
      type: d.failure.type,
      message: d.failure.message,
      ...(d.failure.notUndone ? { notUndone: d.failure.notUndone } : {}),
    };
  return status;
}

function innermost(f: SerializedFailure): SerializedFailure {
  return f.cause ? innermost(f.cause) : f;
}
