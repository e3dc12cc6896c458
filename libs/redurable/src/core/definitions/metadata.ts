import type { Duration } from '../duration.js';
import type { ConcurrencyLimit, RateLimit } from '../flow/flow-options.js';
import type { RetryPolicy } from '../retry-policy.js';
import type { SearchAttributeDeclarations } from '../search/search-attributes.js';

export const WORKFLOW_METADATA = 'redurable:workflow';
export const WORKFLOW_RUN_METADATA = 'redurable:workflow-run';
export const ACTIVITIES_METADATA = 'redurable:activities';
export const ACTIVITY_METADATA = 'redurable:activity';
export const SIGNALS_METADATA = 'redurable:signals';
export const QUERIES_METADATA = 'redurable:queries';
export const UPDATES_METADATA = 'redurable:updates';
/** Constructor parameter index → how a workflow's injected activities proxy is made. */
export const WORKFLOW_PARAMS_METADATA = 'redurable:workflow-params';

/** Options of {@link Workflow}. */
export interface WorkflowOptions {
  /** Workflow type name, stored in history; keep it stable across deploys. @default the class name */
  name?: string;
  /** Task queue whose workers run this workflow. @default 'default' */
  taskQueue?: string;
  /**
   * Search attributes this workflow type may carry, by name with their type: indexed fields that
   * `client.list({ query })` filters by, set at start (`searchAttributes`) or by
   * `upsertSearchAttributes()`. A name not declared here, or a value of another type, is refused.
   * A name means the same type in every workflow type of a prefix (they share its index).
   * @default {} (none)
   * @example
   * @Workflow({ searchAttributes: { customerId: 'keyword', amount: 'number', dueAt: 'datetime', vip: 'bool' } })
   */
  searchAttributes?: SearchAttributeDeclarations;
  /**
   * At most `limit` runs of this type run at once per key (the key function's value for the
   * start's arguments; one key for every run without one), across every process of the prefix.
   * A start over the limit is recorded at once (the caller gets its handle) and waits for a slot,
   * in priority then start order; keys take turns. The slot is held until the run ends however
   * it ends (continue-as-new and reset keep it). A bad option stops the app at registration.
   * @default no limit
   * @example
   * @Workflow({ taskQueue: 'imports', concurrency: { limit: 5, key: (input: ImportInput) => input.tenantId } })
   */
  concurrency?: ConcurrencyLimit;
  /**
   * Where a run's workflow tasks go once it began. `'pinned'`: to workers of the build (module
   * option `buildId`) that ran its first task, so runs in flight finish on the code they started
   * with while new runs start on the newest build: change the code freely, no `patched()` needed
   * (needs `buildId`). `'auto-upgrade'`: to any worker, so a deploy's new code replays runs begun
   * by the old one (guard changes with `patched()`; the replay gate checks them at boot).
   * @default the module option `defaultVersioning` ('auto-upgrade')
   */
  versioning?: WorkflowVersioning;
}

/** Where a run's workflow tasks go: to its own build's workers (`pinned`) or to any (`auto-upgrade`). */
export type WorkflowVersioning = 'pinned' | 'auto-upgrade';

/**
 * An update validator: called with the update's arguments, the workflow instance as `this`.
 * Its parameters must match the handler's (checked where `@Update` decorates the method).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- `this` is the workflow instance and the arguments are the handler's, which the options object cannot know; @Update checks them against the method
export type UpdateValidator = (this: any, ...args: any[]) => void;

/** Options of {@link Update}; `V` is the validator's type, checked against the handler's parameters. */
export interface UpdateOptions<V extends UpdateValidator = UpdateValidator> {
  /** Update name used by `handle.executeUpdate(name, ...)`. @default the method name */
  name?: string;
  /**
   * Runs before anything is recorded, with the update's arguments and the workflow instance
   * as `this` (its state as of the latest event); throwing rejects the update: the caller gets
   * a WorkflowUpdateRejectedError and the history does not change. Read-only, like a query.
   * Its parameters are the handler's (it may take fewer): a validator whose parameter types
   * differ from the handler's does not compile. Annotate them (`validator(limit: number)`);
   * unannotated they are `any`.
   */
  validator?: V;
}

/** An update handler: its method and validator. */
export interface UpdateHandlerMetadata {
  method: string;
  validator?: (...args: unknown[]) => void;
}

/** Options every activity call can carry: from `@Activity`, then `proxyActivities(Class, options)`. */
export interface ActivityCallOptions {
  /** Task queue whose workers run the activity. @default the workflow's task queue */
  taskQueue?: string;
  /** How failed attempts are retried. @default unlimited attempts, 1s initial interval, coefficient 2 */
  retry?: RetryPolicy;
  /** Limit of one attempt; a slower attempt fails with TimeoutFailure and may be retried. @default none */
  startToCloseTimeout?: Duration;
  /** Limit of all attempts together, from scheduling; when passed the activity fails for good. @default none */
  scheduleToCloseTimeout?: Duration;
  /** Longest gap between `activityContext().heartbeat()` calls before the attempt fails. @default none */
  heartbeatTimeout?: Duration;
  /**
   * Run the activity eagerly: when the worker that records the step serves the activity's task
   * queue and has a free slot of its `concurrency`, it claims the activity in the same write and
   * runs it at once, in process, with no BullMQ job (its retries, after a backoff, go through the
   * queue). `false` always queues it (Bull Board then shows every attempt). @default the module's `eagerActivities` (true)
   */
  eager?: boolean;
  /**
   * Priority of the activity's job on its queue, 1 (taken first) … 10 (taken last); an eager
   * attempt runs at once whatever its priority. @default the workflow's priority (5 unless started with one)
   */
  priority?: number;
}

/** Options of `proxyLocalActivities`: those of any activity call (but `taskQueue`), and where in-task retrying stops. */
export interface LocalActivityOptions extends Omit<ActivityCallOptions, 'taskQueue' | 'eager'> {
  /**
   * A failed attempt whose retry backoff is at most this long is retried inside the workflow
   * task (the task waits); a longer backoff is waited on a durable timer, and the next attempt
   * runs in the task that timer wakes. @default '1s'
   */
  localRetryThreshold?: Duration;
}

/** How a saga undoes an activity: the compensating method's name, or it with an argument mapping. */
export type CompensatedBy =
  | string
  | {
      /** Method of the same `@Activities` class that undoes this one. */
      activity: string;
      /** Arguments of the compensation from the step's arguments and result. Must be deterministic. @default the step's arguments */
      args: (args: unknown[], result: unknown) => unknown[];
    };

/** Options of {@link Activity}. */
export interface ActivityOptions extends ActivityCallOptions {
  /** Activity type name, stored in history. @default the method name */
  name?: string;
  /** The activity that undoes this one, used by `saga.proxy()`. */
  compensatedBy?: CompensatedBy;
  /**
   * At most `limit` attempts of this activity run at once per key, across every worker process
   * of the prefix. An attempt over the limit waits (its job is delayed, no attempt is used) and
   * runs when a slot frees; waiters of a key run in order. The key is computed in workflow code
   * when the activity is scheduled, from its arguments, and recorded. Such an activity is never
   * eager, and cannot be called as a local activity. @default no limit
   * @example
   * @Activity({ concurrency: { limit: 2, key: (order: Order) => order.accountId } })
   */
  concurrency?: ConcurrencyLimit;
  /**
   * At most `limit` attempts of this activity start per `period` per key (over any window of
   * that length), across every worker process. An attempt over it waits without using an
   * attempt. @default no limit
   * @example
   * @Activity({ rateLimit: { limit: 100, period: '1s', key: (order: Order) => order.partner } })
   */
  rateLimit?: RateLimit;
}

export interface WorkflowMetadata {
  name: string;
  taskQueue: string;
  searchAttributes: SearchAttributeDeclarations;
  /** As given (checked at registration, see workflowDefinitionOf). */
  concurrency?: unknown;
  versioning?: unknown;
}

export interface ActivityMetadata extends ActivityOptions {
  name: string;
}

/** `@Schedule` options of a workflow class, in declaration order (see schedules/declared-schedules.ts). */
export const SCHEDULES_METADATA = 'redurable:schedules';
