import { serializeFailure, type SerializedFailure } from '../core/errors/failure-codec.js';
import { UnknownUpdateError, WorkflowUpdateRejectedError } from '../core/errors/update.errors.js';
import { UnknownQueryError } from '../core/errors/workflow-control.js';
import type { WorkflowUpdateAccepted } from '../core/events.js';
import type { WorkflowDefinition } from '../core/definitions/registry.js';
import type { Activator } from './context.js';
import { nonCancellableScope, queryScope } from './scopes.js';
import { asDeclaredTypes } from '../core/payload/declared-types.js';

/** What the handlers need of the execution they run in. */
export interface HandlerHost extends Pick<Activator, 'info' | 'converter' | 'schedule'> {
  readonly definition: WorkflowDefinition;
  /** The workflow class instance, once its code has started. */
  readonly instance?: Record<string, (...a: unknown[]) => unknown>;
  /** Runs `fn` as workflow code of this execution. */
  inContext<T>(fn: () => T): T;
  /** Decoded recorded arguments, or undefined when this worker cannot decode them (the task fails). */
  decodeRecorded(input: string[], what: string): unknown[] | undefined;
  /** Ends the run with `err` (a signal handler that throws fails the workflow). */
  fail(err: unknown): void;
}

/**
 * Signals, updates, queries and update validators of one execution: each runs its handler on the
 * workflow instance, as workflow code.
 */
export class MessageHandlers {
  /** Update handlers that have not settled yet. */
  private running = 0;

  constructor(private readonly host: HandlerHost) {}

  /** True when no update handler is running (`allHandlersFinished()`). */
  get finished(): boolean {
    return this.running === 0;
  }

  signal(name: string, input: string[]): void {
    const { host } = this;
    const method = host.definition.signals[name];
    if (!method || !host.instance) return; // a signal with no handler changes nothing
    const args = host.decodeRecorded(input, `signal '${name}'`);
    if (!args) return;
    host.inContext(() => {
      try {
        Promise.resolve(host.instance![method](...asDeclaredTypes(host.instance!, method, args))).catch((err) =>
          host.fail(err),
        );
      } catch (err) {
        host.fail(err);
      }
    });
  }

  /**
   * Runs an accepted update's handler. When it settles, its result (or failure: a throwing
   * handler fails the update, not the workflow) is recorded as a command with its own seq, so
   * a replay matches it at the same point and it is recorded once.
   */
  update(event: WorkflowUpdateAccepted): void {
    const { host } = this;
    const handler = host.definition.updates[event.updateName];
    const args = host.decodeRecorded(event.input, `update '${event.updateName}'`);
    if (!args || !host.instance) return;
    const { updateId } = event;
    this.running++;
    const record = (outcome: { result: string } | { failure: SerializedFailure }) => {
      this.running--;
      // Recorded even after a cancellation request: the caller waits for it.
      nonCancellableScope.run(
        true,
        () =>
          void host.schedule((seq) => ({ type: 'WorkflowUpdateCompleted', seq, updateId, ...outcome }), {
            immediate: () => undefined,
          }),
      );
    };
    const fail = (err: unknown) => record({ failure: serializeFailure(err) });
    host.inContext(() => {
      try {
        if (!handler) throw this.unknownUpdate(event.updateName);
        const typed = asDeclaredTypes(host.instance!, handler.method, args);
        Promise.resolve(host.instance![handler.method](...typed)).then((value) => {
          let result: string;
          try {
            result = host.converter.encode(
              value,
              `result of update '${event.updateName}' (${updateId}) of workflow '${host.info.workflowId}'`,
            );
          } catch (err) {
            return fail(err);
          }
          record({ result });
        }, fail);
      } catch (err) {
        fail(err);
      }
    });
  }

  /**
   * Runs an update's validator against the replayed state (read-only, as a query): throws
   * UnknownUpdateError for a name the class lacks, or WorkflowUpdateRejectedError with what the
   * validator threw.
   */
  validate(name: string, args: unknown[]): void {
    const { host } = this;
    const handler = host.definition.updates[name];
    if (!handler) throw this.unknownUpdate(name);
    if (!handler.validator || !host.instance) return;
    try {
      // The validator takes the handler's parameters, so it gets the arguments as the handler declares them.
      const typed = asDeclaredTypes(host.instance, handler.method, args);
      host.inContext(() => queryScope.run(true, () => handler.validator!.apply(host.instance, typed)));
    } catch (err) {
      throw new WorkflowUpdateRejectedError(
        host.info.workflowId,
        name,
        err instanceof Error ? err : new Error(String(err)),
      );
    }
  }

  /** Runs a `@Query` handler against the replayed state. */
  async query(name: string, args: unknown[]): Promise<unknown> {
    const { host } = this;
    const method = host.definition.queries[name];
    if (!method || !host.instance) {
      throw new UnknownQueryError(
        `Workflow '${host.info.workflowType}' has no query '${name}': known queries are ${Object.keys(host.definition.queries).join(', ') || '(none)'}`,
      );
    }
    const typed = asDeclaredTypes(host.instance, method, args);
    return host.inContext(() => queryScope.run(true, () => host.instance![method](...typed)));
  }

  private unknownUpdate(name: string): UnknownUpdateError {
    const { info, definition } = this.host;
    return new UnknownUpdateError(info.workflowId, info.workflowType, name, Object.keys(definition.updates));
  }
}
