import { AsyncLocalStorage } from 'node:async_hooks';
import { NotInActivityContextError } from '../core/errors/library.errors.js';

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
  /**
   * Reports progress; required at least every `heartbeatTimeout` when one is set. `details`
   * (any payload the data converter encodes, such as how far the work got) are kept for the
   * next attempt: written at most once a second, and the latest always when the attempt fails.
   */
  heartbeat(details?: unknown): void;
  /**
   * The details the previous attempt last passed to `heartbeat()`, so a retry can resume where
   * it stopped; undefined on a first attempt or when it sent none. For a local activity, the
   * previous attempt in the same workflow task.
   */
  readonly heartbeatDetails: unknown;
  /**
   * Says this attempt will be completed later, from outside, and returns its task token: give
   * it to whoever finishes the work (a person, a webhook), who calls
   * `client.activity.complete(token, result)`, `fail(token, error)` or `heartbeat(token)`.
   * What the method then returns is ignored. The attempt's timeouts still apply (a heartbeat
   * through the client counts); when one passes, the attempt fails with a TimeoutFailure and
   * is retried per the retry policy, with a new token. Not for local activities.
   */
  completeAsync(): string;
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
