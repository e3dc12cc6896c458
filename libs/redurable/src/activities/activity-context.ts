import { AsyncLocalStorage } from 'node:async_hooks';
import { NotInActivityContextError } from '../errors/library.errors.js';

/** What a running activity knows about itself. Get it with {@link activityContext}. */
export interface ActivityContext {
  workflowId: string;
  runId: string;
  /** The activity's sequence number in its workflow. */
  activityId: number;
  activityType: string;
  /** Attempt number, from 1. */
  attempt: number;
  /**
   * The same for every attempt of this activity and unique across workflows: pass it to
   * external systems so that a retried activity has its effect exactly once.
   */
  idempotencyKey: string;
  /** Aborted when the attempt times out (startToClose or heartbeat) or the worker shuts down. */
  signal: AbortSignal;
  /** Reports progress; required at least every `heartbeatTimeout` when one is set. */
  heartbeat(details?: unknown): void;
}

export const activityStorage = new AsyncLocalStorage<ActivityContext>();

/**
 * The context of the running activity.
 *
 * @example
 * await this.ledger.debit(input, activityContext().idempotencyKey);
 */
export function activityContext(): ActivityContext {
  const ctx = activityStorage.getStore();
  if (!ctx) throw new NotInActivityContextError();
  return ctx;
}
