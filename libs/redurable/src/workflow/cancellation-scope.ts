import { CancelledFailure } from '../core/errors/workflow-control.js';
import { currentActivation, type Activator } from './context.js';
import { cancellationScopeStorage, nonCancellableScope, type ScopeState } from './scopes.js';

/**
 * Runs `fn` shielded from cancellation, the workflow's and any scope's it is inside: what
 * `nonCancellable()` and `saga.compensate()` run. A scope created inside it can still be cancelled.
 */
export function shielded<T>(fn: () => Promise<T>): Promise<T> {
  return nonCancellableScope.run(true, () => cancellationScopeStorage.run(undefined, fn));
}

/**
 * A part of workflow code that can be cancelled on its own: `scope.cancel()` rejects the
 * durable calls made inside it (activities, timers, conditions, children) that have not settled
 * with a CancelledFailure, and refuses new ones; the rest of the workflow goes on. Scopes nest:
 * cancelling one cancels the scopes inside it. Whatever cancelled calls later return is
 * ignored (an activity already running is not interrupted; its result is dropped).
 *
 * @example
 * const scope = new CancellationScope();
 * const quote = scope.run(() => this.fx.quote(amount));
 * if (await condition(() => this.cancelled, '1m')) scope.cancel('the customer gave up');
 */
export class CancellationScope implements ScopeState {
  private readonly activation: Activator;
  /** The scope this one was created in. */
  readonly parent?: CancellationScope;
  private cancelReason?: string;
  private cancelled = false;

  constructor() {
    this.activation = currentActivation('new CancellationScope()');
    this.parent = cancellationScopeStorage.getStore() as CancellationScope | undefined;
  }

  /** Runs `fn` inside this scope: its durable calls (and those of what it calls) belong to it. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return cancellationScopeStorage.run(this, fn);
  }

  /** Runs `fn` in a new scope and returns its result; the scope is `scope` while it runs (see `current()`). */
  static cancellable<T>(fn: () => Promise<T>): Promise<T> {
    return new CancellationScope().run(fn);
  }

  /** The innermost scope the calling code runs in, or undefined at the workflow's top level. */
  static current(): CancellationScope | undefined {
    return cancellationScopeStorage.getStore() as CancellationScope | undefined;
  }

  /** True once this scope, or one it is inside, was cancelled. */
  get cancelRequested(): boolean {
    return this.cancelled || this.parent?.cancelRequested === true;
  }

  /** Why it was cancelled (this scope's reason, or its parent's). */
  get reason(): string | undefined {
    return this.cancelled ? this.cancelReason : this.parent?.reason;
  }

  /** Cancels the scope: pending durable calls inside it reject with a CancelledFailure. Deterministic (no I/O). */
  cancel(reason?: string): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.cancelReason = reason;
    this.activation.cancelScope(
      this,
      new CancelledFailure(
        `A cancellation scope of workflow '${this.activation.info.workflowId}' was cancelled${reason ? `: ${reason}` : ''}`,
      ),
    );
  }

  /** True when `scope` is this one or one this scope is inside. */
  within(scope: ScopeState): boolean {
    if (scope === this) return true;
    return this.parent?.within(scope) ?? false;
  }
}
