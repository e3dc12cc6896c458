import { toMs, type Duration } from '../duration.js';
import { InvalidArgumentError, InvalidDurationError } from '../errors/library.errors.js';

/**
 * The `debounce` option of `client.start`: the run starts `period` after the last start of its
 * workflow id, with that start's arguments, and at most `maxWait` after the first.
 */
export interface DebounceOptions {
  /** How long after the last start the run starts. More than 0. */
  period: Duration;
  /** The longest a run may be pushed back from its first start. At least `period`. @default no bound */
  maxWait?: Duration;
}

/** A checked `debounce` option, in milliseconds. */
export interface DebounceMs {
  periodMs: number;
  maxWaitMs?: number;
}

/**
 * Checks a `debounce` option; throws InvalidArgumentError naming `what`, the bad value and the
 * fix (an unknown field, a period of 0 or not a duration, a maxWait shorter than the period).
 */
export function checkDebounce(value: unknown, what: string): DebounceMs | undefined {
  if (value === undefined) return undefined;
  const bad = (why: string): never => {
    throw new InvalidArgumentError(
      `Invalid debounce ${safeJson(value)} of ${what}: ${why}. Use { period: '5s', maxWait?: '1m' }. Nothing was written`,
    );
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('not an object');
  const unknown = Object.keys(value).filter((k) => k !== 'period' && k !== 'maxWait');
  if (unknown.length > 0) bad(`unknown option ${unknown.map((k) => `'${k}'`).join(', ')}`);
  const { period, maxWait } = value as DebounceOptions;
  const periodMs = durationMs(period, 'period', bad);
  if (periodMs === undefined || periodMs < 1) return bad('period must be at least 1 ms');
  const maxWaitMs = durationMs(maxWait, 'maxWait', bad);
  if (maxWaitMs !== undefined && maxWaitMs < periodMs) bad('maxWait must be at least the period');
  // Whole milliseconds: start times are compared as integers (Redis' clock, job delays).
  return { periodMs: Math.ceil(periodMs), ...(maxWaitMs !== undefined ? { maxWaitMs: Math.ceil(maxWaitMs) } : {}) };
}

function durationMs(value: Duration | undefined, name: string, bad: (why: string) => never): number | undefined {
  if (value === undefined) return undefined;
  try {
    return toMs(value);
  } catch (err) {
    if (err instanceof InvalidDurationError) return bad(`${name} ${err.message.replace(/^Invalid duration /, '')}`);
    throw err;
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
