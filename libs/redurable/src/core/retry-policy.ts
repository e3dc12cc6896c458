import { toMs, type Duration } from './duration.js';

/**
 * How an activity is retried. Delays grow as `initialInterval * backoffCoefficient^(attempt-1)`,
 * capped at `maximumInterval`.
 */
export interface RetryPolicy {
  /** Delay before the first retry. @default '1s' */
  initialInterval?: Duration;
  /** Growth factor of the delay between retries. @default 2 */
  backoffCoefficient?: number;
  /** Upper bound of the delay. @default 100 × initialInterval */
  maximumInterval?: Duration;
  /** Total attempts including the first; 0 means unlimited. @default 0 */
  maximumAttempts?: number;
  /** Error types (ApplicationFailure `type`, or the error's class name) that are never retried. @default [] */
  nonRetryableErrorTypes?: string[];
}

/** A retry policy with every field resolved to numbers. */
export interface ResolvedRetryPolicy {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  maximumAttempts: number;
  nonRetryableErrorTypes: string[];
}

/** Later policies override earlier ones field by field. */
export function mergeRetryPolicies(...policies: (RetryPolicy | undefined)[]): RetryPolicy {
  const out: RetryPolicy = {};
  for (const p of policies) {
    if (!p) continue;
    for (const [k, v] of Object.entries(p)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

export function resolveRetryPolicy(policy: RetryPolicy = {}): ResolvedRetryPolicy {
  const initialIntervalMs = toMs(policy.initialInterval ?? '1s');
  const backoffCoefficient = policy.backoffCoefficient ?? 2;
  if (!(backoffCoefficient >= 1))
    throw new TypeError(`Invalid retry policy: backoffCoefficient must be >= 1, got ${backoffCoefficient}`);
  const maximumAttempts = policy.maximumAttempts ?? 0;
  if (!Number.isInteger(maximumAttempts) || maximumAttempts < 0) {
    throw new TypeError(
      `Invalid retry policy: maximumAttempts must be a whole number >= 0 (0 = unlimited), got ${maximumAttempts}`,
    );
  }
  return {
    initialIntervalMs,
    backoffCoefficient,
    maximumIntervalMs: policy.maximumInterval === undefined ? initialIntervalMs * 100 : toMs(policy.maximumInterval),
    maximumAttempts,
    nonRetryableErrorTypes: policy.nonRetryableErrorTypes ?? [],
  };
}

/** Delay before the attempt that follows `attempt` (attempt counts from 1). */
export function retryDelayMs(policy: ResolvedRetryPolicy, attempt: number): number {
  const delay = policy.initialIntervalMs * Math.pow(policy.backoffCoefficient, Math.max(0, attempt - 1));
  return Math.min(Math.round(delay), policy.maximumIntervalMs);
}

/** Whether attempt number `attempt` used up the policy's attempts. */
export function attemptsExhausted(policy: ResolvedRetryPolicy, attempt: number): boolean {
  return policy.maximumAttempts > 0 && attempt >= policy.maximumAttempts;
}
