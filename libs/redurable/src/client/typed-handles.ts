import type { Type } from '../core/types.js';

/**
 * Names the `@WorkflowRun` method for the type checker when it is not called `run`, so that
 * `start()`'s `args` and `result()` are typed from it (decorators cannot tell the compiler).
 * The property is only declared: nothing exists at run time.
 *
 * @example
 * @Workflow() class TransferWorkflow {
 *   declare readonly [runMethod]: 'transfer';
 *   @WorkflowRun() async transfer(input: TransferInput): Promise<Receipt> { ... }
 * }
 */
export const runMethod: unique symbol = Symbol('redurable.runMethod');

/** The instance type of a workflow class, or `unknown` for a workflow named by its type string. */
export type WorkflowInstance<W> = W extends Type<infer I> ? I : unknown;

/** The `@WorkflowRun` method of a workflow instance: the one `[runMethod]` names, else `run`. */
type RunOf<I> = I extends { readonly [runMethod]: infer K }
  ? K extends keyof I
    ? I[K]
    : never
  : I extends { run: infer F }
    ? F
    : (...args: unknown[]) => unknown;

/** The arguments of a workflow class's `@WorkflowRun` method (`start`'s `args`). */
export type RunArgs<W> =
  W extends Type<infer I> ? (RunOf<I> extends (...args: infer A) => unknown ? A : unknown[]) : unknown[];
/** What a workflow class's `@WorkflowRun` method resolves with (`result()`). */
export type RunResult<W> =
  W extends Type<infer I> ? (RunOf<I> extends (...args: never[]) => infer R ? Awaited<R> : unknown) : unknown;

/** Method names of a workflow instance (signal, query and update handlers are methods); nothing for an untyped handle. */
export type HandlerName<I> = unknown extends I
  ? never
  : { [K in keyof I]: I[K] extends (...args: never[]) => unknown ? K : never }[keyof I] & string;
/** The arguments of a handler method. */
export type HandlerArgs<I, K> = K extends keyof I ? (I[K] extends (...args: infer A) => unknown ? A : never) : never;
/** What a handler method resolves with. */
export type HandlerResult<I, K> = K extends keyof I
  ? I[K] extends (...args: never[]) => infer R
    ? Awaited<R>
    : never
  : never;
/** Any name, for a handle that does not know its workflow's class; nothing for a typed one (so a misspelled name does not compile). */
export type UntypedName<I> = unknown extends I ? string : never;
