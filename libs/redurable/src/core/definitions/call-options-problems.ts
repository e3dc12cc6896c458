import { toMs, type Duration } from '../duration.js';
import { taskQueueNameProblem } from '../task-queue-name.js';

/** How a value is shown in a message: as JSON (a string quoted), or `String()` when JSON has no text for it. */
export const shown = (value: unknown): string => JSON.stringify(value) ?? String(value);

/** Why `value`, given at `path`, is not a duration; undefined when it is one (or absent). */
export function durationProblem(value: unknown, path: string): string | undefined {
  if (value === undefined) return undefined;
  try {
    toMs(value as Duration);
    return undefined;
  } catch {
    return `${path} must be milliseconds or a duration like '30s' (got ${shown(value)})`;
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function unknownKeys(value: Record<string, unknown>, known: readonly string[], path: string): string[] {
  const unknown = Object.keys(value).filter((k) => !known.includes(k));
  return unknown.length ? [`${path} has unknown option(s): ${unknown.join(', ')}`] : [];
}

const RETRY_FIELDS = [
  'initialInterval',
  'backoffCoefficient',
  'maximumInterval',
  'maximumAttempts',
  'nonRetryableErrorTypes',
] as const;
const CALL_FIELDS = [
  'taskQueue',
  'retry',
  'startToCloseTimeout',
  'scheduleToCloseTimeout',
  'heartbeatTimeout',
  'eager',
] as const;

/** What is wrong with a retry policy given at `path` (`activityDefaults.retry`), one message per problem. */
export function retryPolicyProblems(value: unknown, path: string): string[] {
  if (value === undefined) return [];
  if (!isRecord(value)) return [`${path} must be a retry policy object (got ${shown(value)})`];
  const { initialInterval, backoffCoefficient, maximumInterval, maximumAttempts, nonRetryableErrorTypes } = value;
  const problems = [
    durationProblem(initialInterval, `${path}.initialInterval`),
    backoffCoefficient === undefined || (typeof backoffCoefficient === 'number' && backoffCoefficient >= 1)
      ? undefined
      : `${path}.backoffCoefficient must be a number of at least 1 (got ${shown(backoffCoefficient)})`,
    durationProblem(maximumInterval, `${path}.maximumInterval`),
    maximumAttempts === undefined || (Number.isInteger(maximumAttempts) && (maximumAttempts as number) >= 0)
      ? undefined
      : `${path}.maximumAttempts must be a whole number of at least 0, 0 meaning unlimited (got ${shown(maximumAttempts)})`,
    nonRetryableErrorTypes === undefined ||
    (Array.isArray(nonRetryableErrorTypes) && nonRetryableErrorTypes.every((t) => typeof t === 'string'))
      ? undefined
      : `${path}.nonRetryableErrorTypes must be an array of error type names (got ${shown(nonRetryableErrorTypes)})`,
  ];
  return [...problems.filter((p) => p !== undefined), ...unknownKeys(value, RETRY_FIELDS, path)];
}

/**
 * What is wrong with activity call options given at `path` (the module's `activityDefaults`):
 * one message per problem, each naming the option's path and the value, so a bad duration is
 * refused at boot instead of failing every activity at run time.
 */
export function activityCallOptionsProblems(value: unknown, path: string): string[] {
  if (value === undefined) return [];
  if (!isRecord(value)) return [`${path} must be an object of activity options (got ${shown(value)})`];
  const problems = [
    value.taskQueue === undefined ? undefined : taskQueueNameProblem(value.taskQueue, `${path}.taskQueue`),
    durationProblem(value.startToCloseTimeout, `${path}.startToCloseTimeout`),
    durationProblem(value.scheduleToCloseTimeout, `${path}.scheduleToCloseTimeout`),
    durationProblem(value.heartbeatTimeout, `${path}.heartbeatTimeout`),
    value.eager === undefined || typeof value.eager === 'boolean'
      ? undefined
      : `${path}.eager must be true or false (got ${shown(value.eager)})`,
  ];
  return [
    ...problems.filter((p) => p !== undefined),
    ...unknownKeys(value, CALL_FIELDS, path),
    ...retryPolicyProblems(value.retry, `${path}.retry`),
  ];
}
