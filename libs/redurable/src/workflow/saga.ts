import type { Type } from '../core/types.js';
import type { ActivityCallOptions, CompensatedBy } from '../core/definitions/metadata.js';
import { activityMetadataOf } from '../core/definitions/registry.js';
import { CompensationFailure, type NotUndoneStep } from '../core/errors/temporal-failure.js';
import { compensationScope, currentActivation } from './context.js';
import { shielded } from './cancellation-scope.js';
import { executeClassActivity, proxySourceOf, type ActivityProxy } from './workflow-api.js';
import { InvalidArgumentError } from '../core/errors/library.errors.js';

/** Options of {@link Saga}. */
export interface SagaOptions {
  /** Run the compensations concurrently instead of one by one in reverse order. @default false */
  parallelCompensation?: boolean;
  /** Keep compensating after a compensation failed for good. @default false (stop at the first) */
  continueAfterFailure?: boolean;
}

interface Compensation {
  step: string;
  run: () => Promise<unknown>;
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? `${err.message}` : err.message;
}

/**
 * Undo for workflow code. Record a compensation as each step succeeds; when a later step
 * fails for good, `compensate()` runs them in reverse order, each a durable activity with its
 * own retry policy, marked in history as a compensation. A workflow that crashes while
 * compensating resumes compensating after replay; forward steps do not run again.
 *
 * @example
 * const saga = new Saga();
 * const bank = saga.proxy(BankActivities);           // uses @Activity({ compensatedBy })
 * try {
 *   await bank.withdraw(input);                      // registers refund(input)
 *   await bank.deposit(input);
 * } catch (err) {
 *   await saga.compensate();                         // refund, durably
 *   throw err;
 * }
 */
export class Saga {
  private readonly compensations: Compensation[] = [];

  constructor(private readonly options: SagaOptions = {}) {}

  /** Registers the compensation of a step that succeeded. */
  addCompensation(run: () => Promise<unknown>, step = `step ${this.compensations.length + 1}`): void {
    this.compensations.push({ step, run });
  }

  /** Runs `action`; when it succeeds, registers `compensation` (which receives its result). */
  async step<T>(action: () => Promise<T>, compensation: (result: T) => Promise<unknown>, step?: string): Promise<T> {
    const result = await action();
    this.addCompensation(() => compensation(result), step);
    return result;
  }

  /**
   * Like `proxyActivities(cls, options)`, but each successful call of an activity that has
   * `@Activity({ compensatedBy })` registers its compensation: the named activity, called with
   * the same arguments or those its `args` mapping returns. Takes the `@Activities` class, or
   * an activities proxy such as a workflow's injected constructor parameter (its options are
   * kept, `options` override them).
   */
  proxy<T extends object>(activities: Type<T> | T, extra: ActivityCallOptions = {}): ActivityProxy<T> {
    const source =
      typeof activities === 'function'
        ? { cls: activities as Type<object>, options: {} }
        : proxySourceOf(activities as object);
    if (!source)
      throw new InvalidArgumentError(
        'saga.proxy() takes an @Activities class or an activities proxy (proxyActivities, or an injected workflow constructor parameter)',
      );
    const cls = source.cls;
    const options: ActivityCallOptions = { ...source.options, ...extra };
    return new Proxy({} as ActivityProxy<T>, {
      get: (_, prop) => {
        if (typeof prop !== 'string') return undefined;
        const meta = activityMetadataOf(cls, prop);
        const activityType = meta?.name ?? prop;
        const callOptions = { ...options, taskQueue: options.taskQueue ?? meta?.taskQueue };
        return async (...args: unknown[]) => {
          const result = await executeClassActivity(cls, prop, args, callOptions);
          if (meta?.compensatedBy) this.register(cls, activityType, meta.compensatedBy, args, result, options);
          return result;
        };
      },
    });
  }

  private register(
    cls: Type<object>,
    activityType: string,
    by: CompensatedBy,
    args: unknown[],
    result: unknown,
    options: ActivityCallOptions,
  ): void {
    const method = typeof by === 'string' ? by : by.activity;
    const compensationArgs = typeof by === 'string' ? args : by.args(args, result);
    const meta = activityMetadataOf(cls, method);
    this.addCompensation(
      () => executeClassActivity(cls, method, compensationArgs, { taskQueue: options.taskQueue ?? meta?.taskQueue }),
      activityType,
    );
  }

  /**
   * Runs the registered compensations (reverse order, or concurrently) and forgets them.
   * Throws a CompensationFailure listing every step not undone when one failed for good.
   */
  async compensate(): Promise<void> {
    currentActivation('saga.compensate()');
    const pending = this.compensations.splice(0).reverse();
    const notUndone: NotUndoneStep[] = [];
    let firstError: Error | undefined;
    // Compensations run even when the workflow was cancelled: undoing is what cancellation asks for.
    await shielded(() =>
      compensationScope.run(true, async () => {
        if (this.options.parallelCompensation) {
          const results = await Promise.allSettled(pending.map((c) => c.run()));
          results.forEach((r, i) => {
            if (r.status === 'rejected') {
              notUndone.push({ step: pending[i].step, reason: describeError(r.reason) });
              firstError ??= r.reason as Error;
            }
          });
          return;
        }
        for (const [i, c] of pending.entries()) {
          try {
            await c.run();
          } catch (err) {
            notUndone.push({ step: c.step, reason: describeError(err) });
            firstError ??= err as Error;
            if (!this.options.continueAfterFailure) {
              for (const rest of pending.slice(i + 1))
                notUndone.push({ step: rest.step, reason: 'not attempted: an earlier compensation failed' });
              return;
            }
          }
        }
      }),
    );
    if (notUndone.length > 0) {
      const list = notUndone.map((n) => `${n.step} (${n.reason})`).join('; ');
      throw new CompensationFailure(
        `Compensation failed: ${notUndone.length} step(s) not undone: ${list}`,
        notUndone,
        firstError,
      );
    }
  }
}
