import {
  checkConcurrency,
  checkRate,
  flowKeyOf,
  type CheckedConcurrency,
  type CheckedRate,
  type ConcurrencyLimit,
  type RateLimit,
  type RecordedConcurrency,
  type RecordedRate,
} from './flow-options.js';

/** An activity's limits, checked (see {@link activityLimitsOf}). */
export interface ActivityLimits {
  concurrency?: CheckedConcurrency;
  rate?: CheckedRate;
}

/**
 * The limits recorded with an activity's scheduling (ActivityTaskScheduled's options): the key
 * computed in workflow code from the call's arguments, so every reader (the worker, describe(),
 * a replay) uses the same one.
 */
export interface RecordedActivityFlow {
  concurrency?: RecordedConcurrency;
  rate?: RecordedRate;
}

/**
 * Checks an `@Activity`'s `concurrency` and `rateLimit` (undefined when it has neither); throws an
 * InvalidOptionsError naming `where` (`@Activity of Class.method`) and every bad field.
 */
export function activityLimitsOf(
  options: { concurrency?: ConcurrencyLimit; rateLimit?: RateLimit },
  where: string,
  activityType: string,
): ActivityLimits | undefined {
  if (options.concurrency === undefined && options.rateLimit === undefined) return undefined;
  return {
    ...(options.concurrency !== undefined
      ? { concurrency: checkConcurrency(options.concurrency, where, activityType) }
      : {}),
    ...(options.rateLimit !== undefined ? { rate: checkRate(options.rateLimit, where, activityType) } : {}),
  };
}

/**
 * What one call records of its activity's limits: each limit's name, the call's key and the
 * limit. Throws flowKeyOf's InvalidArgumentError when a key function throws or returns no
 * usable key.
 */
export function recordedActivityFlow(
  limits: ActivityLimits,
  args: unknown[],
  activityType: string,
): RecordedActivityFlow {
  const what = `Activity '${activityType}'`;
  const flow: RecordedActivityFlow = {};
  if (limits.concurrency) {
    const { name, limit } = limits.concurrency;
    flow.concurrency = { name, key: flowKeyOf(limits.concurrency, args, what), limit };
  }
  if (limits.rate) {
    const { name, limit, periodMs } = limits.rate;
    flow.rate = { name, key: flowKeyOf(limits.rate, args, what), limit, periodMs };
  }
  return flow;
}
