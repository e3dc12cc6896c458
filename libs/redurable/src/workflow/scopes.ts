import { AsyncLocalStorage } from 'node:async_hooks';

/** True inside `nonCancellable(fn)`: durable calls there run even after the workflow was cancelled. */
export const nonCancellableScope = new AsyncLocalStorage<boolean>();

/** True while a query handler runs: durable calls are refused. */
export const queryScope = new AsyncLocalStorage<boolean>();

/** What the replayer reads of a cancellation scope (a `CancellationScope`). */
export interface ScopeState {
  /** True once this scope, or one it is inside, was cancelled. */
  readonly cancelRequested: boolean;
  /** Why it was cancelled. */
  readonly reason?: string;
  /** True when `scope` is this one or one this scope is inside. */
  within(scope: ScopeState): boolean;
}

/** The innermost cancellable scope the running workflow code is in (none: the workflow's own). */
export const cancellationScopeStorage = new AsyncLocalStorage<ScopeState | undefined>();
