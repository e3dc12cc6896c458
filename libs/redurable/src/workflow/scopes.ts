import { AsyncLocalStorage } from 'node:async_hooks';

/** True inside `nonCancellable(fn)`: durable calls there run even after the workflow was cancelled. */
export const nonCancellableScope = new AsyncLocalStorage<boolean>();

/** True while a query handler runs: durable calls are refused. */
export const queryScope = new AsyncLocalStorage<boolean>();
