import type { Type } from '../core/types.js';
import type { Duration } from '../core/duration.js';
import { workflowDefinitionOf } from '../core/definitions/registry.js';
import { CancelledFailure, ContinueAsNew } from '../core/errors/workflow-control.js';
import { TimeoutFailure } from '../core/errors/temporal-failure.js';
import type { ParentClosePolicy } from '../core/events.js';
import { timeoutsInMs } from '../core/workflow-timeouts.js';
import { currentActivation, type Activator } from './context.js';
import { rejected } from './command-match.js';
import { InvalidSearchAttributeError } from '../core/errors/search.errors.js';
import { encodeMemo } from '../core/payload/memo.js';
import { checkPriority, DEFAULT_PRIORITY } from '../core/flow/priority.js';
import { flowKeyOf, type RecordedConcurrency } from '../core/flow/flow-options.js';
import {
  recordSearchAttributes,
  withoutRemovals,
  type RecordedSearchAttributes,
  type SearchAttributes,
} from '../core/search/search-attributes.js';
import { sleep } from './workflow-api.js';
import { CancellationScope, shielded } from './cancellation-scope.js';

/**
 * Waits until `predicate` holds; it is checked now and after every event (signal, activity
 * result, timer). With a timeout, resolves false if the time passes first (a durable timer).
 *
 * @example
 * const approved = await condition(() => this.approved !== undefined, '3 days');
 */
export function condition(predicate: () => boolean, timeout?: Duration): Promise<boolean> {
  const activation = currentActivation('condition()');
  return activation.condition(predicate, timeout === undefined ? undefined : () => sleep(timeout));
}

/**
 * Versioning: true when this execution runs the code after the patch `patchId`, false when it
 * replays a history recorded before it. New executions record a marker and take the new path.
 *
 * @example
 * if (patched('fraud-check')) await this.acts.checkFraud(input);
 */
export function patched(patchId: string): boolean {
  return patchMarker(currentActivation('patched()'), patchId, false);
}

/**
 * Once no execution from before `patched(patchId)` is running, replace the `patched()` call
 * with `deprecatePatch(patchId)` and keep only the new path; histories with the marker still replay.
 */
export function deprecatePatch(patchId: string): void {
  patchMarker(currentActivation('deprecatePatch()'), patchId, true);
}

/**
 * Ends this run and starts a fresh one with the same workflow id and an empty history, with
 * `args` as its input: how a long-lived (entity) workflow keeps its history small.
 */
export function continueAsNew(...args: unknown[]): never {
  currentActivation('continueAsNew()');
  throw new ContinueAsNew(args);
}

/** Runs `fn` shielded from cancellation: durable calls inside it run even after `handle.cancel()`, or inside a cancelled `CancellationScope`. */
export function nonCancellable<T>(fn: () => Promise<T>): Promise<T> {
  currentActivation('nonCancellable()');
  return shielded(fn);
}

/** Whether `handle.cancel()` reached this workflow. */
export function isCancellationRequested(): boolean {
  return currentActivation('isCancellationRequested()').cancelRequested;
}

/**
 * Runs `fn` in a cancellation scope that a durable timer cancels once `timeout` has passed:
 * resolves with what `fn` returns in time; otherwise `fn`'s pending durable calls reject with a
 * CancelledFailure (so it can clean up) and `withTimeout` rejects with a TimeoutFailure
 * (`timeoutType` 'SCOPE'). An error `fn` throws in time is rethrown as is.
 *
 * @example
 * const receipt = await withTimeout('5m', () => this.bank.transfer(input)); // TimeoutFailure after 5 minutes
 */
export async function withTimeout<T>(timeout: Duration, fn: () => Promise<T>): Promise<T> {
  const activation = currentActivation('withTimeout()');
  const work = new CancellationScope();
  const timerScope = new CancellationScope();
  let timedOut = false;
  // The timer runs in its own scope, cancelled (its late firing ignored) when `fn` is done first.
  const timer = timerScope
    .run(() => sleep(timeout))
    .then(
      () => {
        timedOut = true;
        work.cancel(`timed out after ${typeof timeout === 'number' ? `${timeout}ms` : timeout}`);
      },
      () => undefined,
    );
  try {
    return await work.run(fn);
  } catch (err) {
    if (timedOut && err instanceof CancelledFailure) {
      throw new TimeoutFailure(
        `Workflow '${activation.info.workflowId}': the code given to withTimeout did not finish within ${typeof timeout === 'number' ? `${timeout}ms` : timeout}`,
        'SCOPE',
      );
    }
    throw err;
  } finally {
    timerScope.cancel();
    await timer;
  }
}

/**
 * True when no `@Update` handler is still running. A workflow whose updates await durable calls
 * should wait for it before returning, so that every accepted update completes:
 * `await condition(allHandlersFinished)`.
 */
export function allHandlersFinished(): boolean {
  return currentActivation('allHandlersFinished()').handlersFinished;
}

/** Options of {@link startChild}. */
export interface ChildWorkflowOptions<A extends unknown[]> {
  workflowId: string;
  args?: A;
  /** @default the child's `@Workflow` task queue */
  taskQueue?: string;
  /** What happens to the child if this workflow closes first. @default 'TERMINATE' */
  parentClosePolicy?: ParentClosePolicy;
  /** How long the child's whole execution may take (across its continue-as-new): then it is closed as `timed_out`. @default unlimited */
  workflowExecutionTimeout?: Duration;
  /** How long each run of the child may take. @default unlimited */
  workflowRunTimeout?: Duration;
  /** The child's search attributes, declared by its `@Workflow` (a bad one fails this workflow's task, as in upsertSearchAttributes). */
  searchAttributes?: SearchAttributes;
  /** The child's memo (see StartWorkflowOptions.memo). */
  memo?: Record<string, unknown>;
  /** The child's priority, 1 (first) … 10 (last). @default this workflow's priority */
  priority?: number;
}

/** A started child workflow. */
export interface ChildWorkflowHandle<R> {
  workflowId: string;
  /** Resolves with the child's result; rejects with a ChildWorkflowFailure when it does not complete. */
  result(): Promise<R>;
}

type RunOf<W> = W extends Type<infer I> ? (I extends { run: infer F } ? F : (...a: unknown[]) => unknown) : never;

/**
 * Starts a child workflow with its own id and history. Its result or failure is delivered
 * to this workflow; `parentClosePolicy` decides its fate if this workflow closes first.
 */
export function startChild<W extends Type<object>>(
  workflow: W,
  options: ChildWorkflowOptions<RunOf<W> extends (...a: infer A) => unknown ? A : unknown[]>,
): Promise<ChildWorkflowHandle<RunOf<W> extends (...a: never[]) => infer R ? Awaited<R> : unknown>> {
  const activation = currentActivation('startChild()');
  const def = workflowDefinitionOf(workflow);
  const input = activation.converter.encodeAll(options.args ?? [], `child workflow '${options.workflowId}'`);
  let searchAttributes: RecordedSearchAttributes | undefined;
  try {
    searchAttributes =
      options.searchAttributes &&
      withoutRemovals(recordSearchAttributes(def.name, options.searchAttributes, def.searchAttributes));
  } catch (err) {
    if (!(err instanceof InvalidSearchAttributeError)) throw err;
    return activation.refuse(err);
  }
  const memo =
    options.memo && encodeMemo(activation.converter, options.memo, `memo of child workflow '${options.workflowId}'`);
  const timeouts = timeoutsInMs(options, `child workflow '${options.workflowId}'`);
  let priority: number;
  let flow: RecordedConcurrency | undefined;
  try {
    priority = checkPriority(options.priority, `child workflow '${options.workflowId}'`) ?? activation.info.priority;
    // A limited child type: its key from the arguments (a bad key function rejects the call, nothing recorded).
    const limit = def.concurrency;
    if (limit)
      flow = {
        name: limit.name,
        key: flowKeyOf(limit, options.args ?? [], `Child workflow '${def.name}' (${options.workflowId})`),
        limit: limit.limit,
      };
  } catch (err) {
    return rejected(err as Error);
  }
  const result = activation.schedule<never>((seq) => ({
    type: 'ChildWorkflowScheduled',
    seq,
    workflowType: def.name,
    workflowId: options.workflowId,
    taskQueue: options.taskQueue ?? def.taskQueue,
    input,
    parentClosePolicy: options.parentClosePolicy ?? 'TERMINATE',
    ...(searchAttributes ? { searchAttributes } : {}),
    ...(memo ? { memo } : {}),
    ...(timeouts ? { timeouts } : {}),
    ...(priority !== DEFAULT_PRIORITY ? { priority } : {}),
    ...(flow ? { flow } : {}),
  }));
  return Promise.resolve({ workflowId: options.workflowId, result: () => result });
}

/** Starts a child workflow and waits for its result. */
export async function executeChild<W extends Type<object>>(
  workflow: W,
  options: ChildWorkflowOptions<RunOf<W> extends (...a: infer A) => unknown ? A : unknown[]>,
): Promise<RunOf<W> extends (...a: never[]) => infer R ? Awaited<R> : unknown> {
  return (await startChild(workflow, options)).result();
}

/**
 * `patched(id)`: true on new executions (recording a marker), false when replaying history made
 * before the patch; a deprecated patch records nothing new and is true only where one was recorded.
 */
function patchMarker(activation: Activator, patchId: string, deprecated: boolean): boolean {
  const recorded = activation.peekRecorded();
  if (
    recorded?.type === 'MarkerRecorded' &&
    recorded.name === 'patch' &&
    activation.converter.decode(recorded.value, 'patch id') === patchId
  ) {
    void activation.schedule((seq) => ({ type: 'MarkerRecorded', seq, name: 'patch', value: recorded.value }), {
      immediate: () => true,
    });
    return true;
  }
  if (activation.replaying || deprecated) return deprecated;
  void activation.schedule(
    (seq) => ({ type: 'MarkerRecorded', seq, name: 'patch', value: activation.converter.encode(patchId, 'patch id') }),
    { immediate: () => true },
  );
  return true;
}
