import type { Type } from '../core/types.js';
import { optionalMs, toMs, type Duration } from '../core/duration.js';
import { InvalidArgumentError, InvalidDurationError, InvalidOptionsError } from '../core/errors/library.errors.js';
import { activityLimitsOf, recordedActivityFlow, type RecordedActivityFlow } from '../core/flow/activity-flow.js';
import { checkPriority, DEFAULT_PRIORITY } from '../core/flow/priority.js';
import { activityMetadataOf } from '../core/definitions/registry.js';
import {
  ACTIVITIES_METADATA,
  type ActivityCallOptions,
  type ActivityMetadata,
  type LocalActivityOptions,
} from '../core/definitions/metadata.js';
import type { ActivitiesOptions } from '../core/definitions/activity.decorator.js';
import type { RecordedActivityOptions } from '../core/events.js';
import { compensationScope, currentActivation } from './context.js';
import { rejected } from './command-match.js';
import { LocalActivityBackoff } from './local-backoff.js';
import { nonCancellableScope } from './scopes.js';
import type { WorkflowInfo } from './context.js';
import type { SearchAttributeValue } from '../core/search/search-attributes.js';

/** The typed proxy `proxyActivities` returns: each method schedules the activity and resolves with its result. */
export type ActivityProxy<T> = {
  [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};

/** Key under which a proxy made by `proxyActivities` tells its class and options (so `saga.proxy(proxy)` can wrap it). */
export const PROXY_SOURCE = Symbol('redurable.proxySource');

/** The class and options a `proxyActivities` proxy was made from, if `value` is one. */
export function proxySourceOf(value: object): { cls: Type<object>; options: ActivityCallOptions } | undefined {
  return (value as { [PROXY_SOURCE]?: { cls: Type<object>; options: ActivityCallOptions } })[PROXY_SOURCE];
}

/** An invalid duration given to a durable call fails the workflow task, not the workflow (see WorkflowActivation.refuse). */
function refused<T>(activation: ReturnType<typeof currentActivation>, err: unknown): Promise<T> {
  if (err instanceof InvalidDurationError) return activation.refuse<T>(err);
  // A bad priority rejects the call: the workflow code may catch it.
  if (err instanceof InvalidArgumentError) return rejected<T>(err);
  throw err;
}

/** What an activity call records: its options, with the workflow's task queue and priority as defaults. */
function recordedOptions(
  options: ActivityCallOptions,
  workflow: { taskQueue: string; priority: number },
  what: string,
): RecordedActivityOptions {
  const priority = checkPriority(options.priority, what) ?? workflow.priority;
  return {
    taskQueue: options.taskQueue ?? workflow.taskQueue,
    startToCloseTimeoutMs: optionalMs(options.startToCloseTimeout),
    scheduleToCloseTimeoutMs: optionalMs(options.scheduleToCloseTimeout),
    heartbeatTimeoutMs: optionalMs(options.heartbeatTimeout),
    retry: options.retry,
    ...(options.eager === undefined ? {} : { eager: options.eager }),
    ...(priority !== DEFAULT_PRIORITY ? { priority } : {}),
  };
}

/**
 * Schedules an activity by name: the decorator-free form of a proxy call. Options given here
 * override the `@Activity` options field by field.
 */
export function executeActivity<R = unknown>(
  activityType: string,
  args: unknown[],
  options: ActivityCallOptions = {},
): Promise<R> {
  return scheduleActivity(activityType, args, options);
}

/** Schedules an activity, with the limits its `@Activity` declares (their keys computed from `args`). */
function scheduleActivity<R>(
  activityType: string,
  args: unknown[],
  options: ActivityCallOptions,
  flow?: RecordedActivityFlow,
): Promise<R> {
  const activation = currentActivation(`activity '${activityType}'`);
  const input = activation.converter.encodeAll(
    args,
    `activity '${activityType}' in workflow '${activation.info.workflowId}'`,
  );
  let recorded: RecordedActivityOptions;
  try {
    recorded = recordedOptions(options, activation.info, `activity '${activityType}'`);
  } catch (err) {
    return refused(activation, err);
  }
  const compensation = compensationScope.getStore() === true;
  const nonCancellable = nonCancellableScope.getStore() === true;
  return activation.schedule<R>((seq) => ({
    type: 'ActivityTaskScheduled',
    seq,
    activityType,
    input,
    options: flow ? { ...recorded, flow } : recorded,
    ...(compensation ? { compensation } : {}),
    ...(nonCancellable ? { nonCancellable } : {}),
  }));
}

/**
 * Schedules method `method` of an `@Activities` class (a proxy's call, a saga's step or
 * compensation), with its `@Activity` limits. Not exported from redurable/workflow.
 */
export function executeClassActivity<R = unknown>(
  cls: Type<object>,
  method: string,
  args: unknown[],
  options: ActivityCallOptions,
): Promise<R> {
  const meta = activityMetadataOf(cls, method);
  let flow: RecordedActivityFlow | undefined;
  try {
    flow = flowOfCall(cls, method, meta, args);
  } catch (err) {
    return rejected(err as Error);
  }
  return scheduleActivity(meta?.name ?? method, args, options, flow);
}

/**
 * The limits of a class's activity with this call's keys: undefined when it declares none. A
 * key function that throws or returns no usable key rejects the call (InvalidArgumentError; the
 * workflow code can catch it; nothing is recorded), as does a limit that is not valid.
 */
function flowOfCall(
  cls: Type<object>,
  method: string,
  meta: ActivityMetadata | undefined,
  args: unknown[],
): RecordedActivityFlow | undefined {
  if (!meta) return undefined;
  const limits = activityLimitsOf(meta, `@Activity of ${cls.name}.${method}`, meta.name);
  return limits && recordedActivityFlow(limits, args, meta.name);
}

/**
 * A typed proxy of an `@Activities` class for workflow code. Calling a method schedules the
 * activity as a durable step; `options` override the `@Activity` options of every method.
 *
 * @example
 * private readonly bank = proxyActivities(BankActivities, { startToCloseTimeout: '10s' });
 * // in @WorkflowRun: const txId = await this.bank.withdraw(input);
 */
export function proxyActivities<T extends object>(cls: Type<T>, options: ActivityCallOptions = {}): ActivityProxy<T> {
  // The task queue: the call's, else the method's `@Activity`, else the class's `@Activities`, else the workflow's.
  const classTaskQueue = (Reflect.getMetadata(ACTIVITIES_METADATA, cls) as ActivitiesOptions | undefined)?.taskQueue;
  return new Proxy({} as ActivityProxy<T>, {
    get(_, prop) {
      if (prop === PROXY_SOURCE) return { cls, options };
      if (typeof prop !== 'string') return undefined;
      const meta = activityMetadataOf(cls, prop);
      return (...args: unknown[]) => {
        const merged: ActivityCallOptions = {
          ...options,
          taskQueue: options.taskQueue ?? meta?.taskQueue ?? classTaskQueue,
          priority: options.priority ?? meta?.priority,
        };
        return executeClassActivity(cls, prop, args, merged);
      };
    },
  });
}

/** The default of `localRetryThreshold`: backoffs up to a second are waited inside the task. */
const DEFAULT_LOCAL_RETRY_THRESHOLD_MS = 1000;

/**
 * Runs an activity by name as a local activity: the decorator-free form of a
 * `proxyLocalActivities` call.
 */
export async function executeLocalActivity<R = unknown>(
  activityType: string,
  args: unknown[],
  options: LocalActivityOptions = {},
): Promise<R> {
  const activation = currentActivation(`local activity '${activityType}'`);
  const input = activation.converter.encodeAll(
    args,
    `local activity '${activityType}' in workflow '${activation.info.workflowId}'`,
  );
  let recorded: RecordedActivityOptions;
  try {
    recorded = {
      ...recordedOptions(options, activation.info, `local activity '${activityType}'`),
      localRetryThresholdMs: optionalMs(options.localRetryThreshold) ?? DEFAULT_LOCAL_RETRY_THRESHOLD_MS,
    };
  } catch (err) {
    return refused(activation, err);
  }
  const compensation = compensationScope.getStore() === true;
  const nonCancellable = nonCancellableScope.getStore() === true;
  const firstScheduledAt = activation.now;
  for (let attempt = 1; ;) {
    const local = { attempt, firstScheduledAt };
    try {
      return await activation.schedule<R>((seq) => ({
        type: 'ActivityTaskScheduled',
        seq,
        activityType,
        input,
        options: recorded,
        local,
        ...(compensation ? { compensation } : {}),
        ...(nonCancellable ? { nonCancellable } : {}),
      }));
    } catch (err) {
      if (!(err instanceof LocalActivityBackoff)) throw err;
      // The backoff is longer than the task should wait: a durable timer, then the next attempts.
      await sleep(err.backoffMs);
      attempt = err.nextAttempt;
    }
  }
}

/**
 * A typed proxy of an `@Activities` class whose calls run as **local activities**: inside the
 * workflow task that makes them, on the worker that runs the workflow, with the result
 * recorded by the script that commits the task (no job, no queue hop). For short, idempotent
 * calls (a lookup, a computation, a quick write keyed by `activityContext().idempotencyKey`):
 * they run at least once, and again if the worker dies before the task commits. Retries back
 * off inside the task up to `localRetryThreshold`, then on a durable timer. Use
 * `proxyActivities` for slow calls, calls that must run on other workers, or calls whose
 * retries must not hold up the workflow task.
 *
 * @example
 * private readonly rates = proxyLocalActivities(FxActivities, { startToCloseTimeout: '2s' });
 * // in @WorkflowRun: const rate = await this.rates.quote('EUR', 'USD');
 */
export function proxyLocalActivities<T extends object>(
  cls: Type<T>,
  options: LocalActivityOptions = {},
): ActivityProxy<T> {
  return new Proxy({} as ActivityProxy<T>, {
    get(_, prop) {
      if (typeof prop !== 'string') return undefined;
      const meta = activityMetadataOf(cls, prop);
      const activityType = meta?.name ?? prop;
      return (...args: unknown[]) => {
        // A local activity runs inside the workflow task, with no queue to wait in: a limit could not hold.
        if (meta?.concurrency !== undefined || meta?.rateLimit !== undefined)
          return rejected(
            new InvalidOptionsError(
              `Activity '${activityType}' (${cls.name}.${prop}) has a ${meta.concurrency !== undefined ? 'concurrency' : 'rate'} limit, ` +
                'which a local activity cannot wait for: call it through proxyActivities, or remove the limit',
            ),
          );
        return executeLocalActivity(activityType, args, options);
      };
    },
  });
}

/**
 * Waits durably: a timer recorded in history and fired by a BullMQ delayed job, so the wait
 * survives restarts. `sleep('3 days')` costs nothing while it waits.
 */
export function sleep(duration: Duration): Promise<void> {
  const activation = currentActivation('sleep()');
  let durationMs: number;
  try {
    durationMs = toMs(duration);
  } catch (err) {
    return refused(activation, err);
  }
  return activation.schedule<void>((seq) => ({ type: 'TimerStarted', seq, durationMs }));
}

/**
 * Runs `fn` once and records its result; on replay the recorded value is returned and `fn`
 * is not called. For small non-deterministic values (a random id, a config read).
 */
export function sideEffect<T>(fn: () => T): Promise<T> {
  const activation = currentActivation('sideEffect()');
  const recorded = activation.peekRecorded();
  // Run fn before taking a sequence number: if it throws, no seq is used, on the first run or on replay.
  const value =
    recorded?.type === 'MarkerRecorded' ? recorded.value : activation.converter.encode(fn(), 'side effect result');
  return activation.schedule<T>((seq) => ({ type: 'MarkerRecorded', seq, name: 'sideEffect', value }), {
    immediate: (cmd) => activation.converter.decode<T>((cmd as { value: string }).value, 'side effect result'),
  });
}

/**
 * Sets search attributes of this workflow (`null` removes one): recorded in the history, indexed
 * at once so `client.list({ query })` finds the workflow by them, and visible in
 * `workflowInfo().searchAttributes`. Each name must be declared in `@Workflow({ searchAttributes })`
 * with a value of its type; otherwise the workflow task fails (retried, shown by `describe()`)
 * and nothing is recorded.
 *
 * @example
 * upsertSearchAttributes({ stage: 'approved', approvedAt: new Date() });
 */
export function upsertSearchAttributes(values: Record<string, SearchAttributeValue | null>): void {
  currentActivation('upsertSearchAttributes()').upsertSearchAttributes(values);
}

/** A deterministic random UUID v4 (the same on every replay). */
export function uuid4(): string {
  const activation = currentActivation('uuid4()');
  const hex = [...Array(32)].map(() => Math.floor(activation.random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** The running workflow's id, run id, type, task queue and start time. */
export function workflowInfo(): WorkflowInfo {
  return currentActivation('workflowInfo()').info;
}
