import type { SerializedFailure } from '../errors/failure-codec.js';

/** An activity the history says is scheduled and not yet finished. */
export interface PendingActivity {
  seq: number;
  activityType: string;
  taskQueue: string;
  scheduledAt: Date;
  /** Attempt now running or next to run, from 1. */
  attempt: number;
  /** Message of the last failed attempt, if any. */
  lastFailure?: string;
  /** BullMQ job state: waiting, active, delayed (waiting to retry), ... */
  state: string;
}

/** What `handle.describe()` returns. */
export interface WorkflowDescription {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  status: 'running' | 'completed' | 'failed' | string;
  startTime: Date;
  closeTime?: Date;
  historyLength: number;
  /** Decoded result when completed. */
  result?: unknown;
  /** Failure when failed. */
  failure?: SerializedFailure;
  /** The last workflow-task failure (for example a non-determinism error) while it is retried. */
  taskFailure?: { message: string; attempt: number; retryAt?: Date };
  pendingActivities: PendingActivity[];
}
