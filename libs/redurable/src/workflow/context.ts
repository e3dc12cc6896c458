import { AsyncLocalStorage } from 'node:async_hooks';
import { NotInWorkflowContextError } from '../core/errors/library.errors.js';
import type { CancelledFailure } from '../core/errors/workflow-control.js';
import type { CommandEvent, NewCommand } from '../core/events.js';
import type { DataConverter } from '../core/payload/data-converter.js';
import type { SearchAttributes, SearchAttributeValue } from '../core/search/search-attributes.js';
import type { ScopeState } from './scopes.js';

/** What workflow code can learn about its own execution through `workflowInfo()`. */
export interface WorkflowInfo {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  /** When the run started (history time). */
  startTime: Date;
  /** The parent workflow, for a child. */
  parent?: { workflowId: string; runId: string };
  /** Current search attributes: those given at start, with every `upsertSearchAttributes()` so far applied. */
  searchAttributes: SearchAttributes;
  /** The run's priority, 1 (first) … 10 (last): its activities and children take it unless they set their own. */
  priority: number;
}

/**
 * What the workflow API (`sleep`, proxies, `condition`, scopes, `patched`...) asks of the running
 * execution. `WorkflowActivation` is the one implementation; the API sees only this, so the
 * replayer and the API do not import each other.
 */
export interface Activator {
  readonly info: WorkflowInfo;
  /** History time of the event being delivered: what `Date.now()` returns in workflow code. */
  readonly now: number;
  readonly random: () => number;
  readonly converter: DataConverter;
  /** Set once a cancellation request was delivered. */
  readonly cancelRequested: boolean;
  /** True when no update handler is running. */
  readonly handlersFinished: boolean;
  /** A durable call: takes the next sequence number and matches or records its command. */
  schedule<T>(
    command: (seq: number, recorded?: CommandEvent) => NewCommand,
    opts?: { immediate?: (cmd: NewCommand) => T },
  ): Promise<T>;
  /**
   * A durable call made with a bad argument, or a call workflow code may not make: the workflow
   * task fails with `err`, nothing is recorded, and the returned promise never settles.
   */
  refuse<T>(err: Error): Promise<T>;
  /** The command recorded for the next sequence number, if any. */
  peekRecorded(): CommandEvent | undefined;
  /** True while the code is still behind its recorded history. */
  readonly replaying: boolean;
  upsertSearchAttributes(values: Record<string, SearchAttributeValue | null>): void;
  condition(predicate: () => boolean, startTimer?: () => Promise<void>): Promise<boolean>;
  /** Where `workflowLogger()` lines go: printed once, never while the code replays (a ReplayLog). */
  readonly logs: { write(level: 'log' | 'warn' | 'error' | 'debug', message: string, stack?: string): void };
  /** Rejects the durable calls and conditions made inside `scope` (or scopes within it). */
  cancelScope(scope: ScopeState, failure: CancelledFailure): void;
}

/** The workflow execution whose code is running now, carried across awaits. */
export const workflowStorage = new AsyncLocalStorage<Activator>();

/** The running workflow's execution, or a NotInWorkflowContextError naming the API used. */
export function currentActivation(api: string): Activator {
  const activation = workflowStorage.getStore();
  if (!activation) throw new NotInWorkflowContextError(api);
  return activation;
}

/** True while `saga.compensate()` runs: activities scheduled in it are marked as compensations. */
export const compensationScope = new AsyncLocalStorage<boolean>();

/**
 * `target` with each method run outside workflow code (`workflowStorage.exit`): for the app's
 * own code that workflow code reaches through the library, such as a payload codec (encryption
 * draws real random bytes) or a logger (it may write to a file), which the determinism guard
 * must neither intercept nor make deterministic.
 */
export function outsideWorkflowCode<T extends object>(target: T): T {
  return new Proxy(target, {
    get(obj, prop) {
      const value: unknown = Reflect.get(obj, prop, obj);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        workflowStorage.exit(() => (value as (...a: unknown[]) => unknown).apply(obj, args));
    },
  });
}
