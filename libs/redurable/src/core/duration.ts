import ms from 'ms';
import { InvalidDurationError } from './errors/library.errors.js';

/** The units a duration string may use (any case), as `ms` reads them, from milliseconds to days. */
export type DurationUnit =
  | 'ms'
  | 'msec'
  | 'msecs'
  | 'millisecond'
  | 'milliseconds'
  | 's'
  | 'sec'
  | 'secs'
  | 'second'
  | 'seconds'
  | 'm'
  | 'min'
  | 'mins'
  | 'minute'
  | 'minutes'
  | 'h'
  | 'hr'
  | 'hrs'
  | 'hour'
  | 'hours'
  | 'd'
  | 'day'
  | 'days';

/**
 * A duration: milliseconds as a number, or a string such as `'500ms'`, `'30s'`, `'5m'`,
 * `'2h'`, `'3 days'` (a number, an optional space, a unit). A misspelled literal (`'3 weeks'`,
 * `'soon'`) does not compile; a bad value computed at run time is an {@link InvalidDurationError}.
 */
export type Duration =
  | number
  | `${number}`
  | `${number}${DurationUnit | Uppercase<DurationUnit> | Capitalize<DurationUnit>}`
  | `${number} ${DurationUnit | Uppercase<DurationUnit> | Capitalize<DurationUnit>}`;

const UNITS: ReadonlySet<string> = new Set<DurationUnit>([
  'ms',
  'msec',
  'msecs',
  'millisecond',
  'milliseconds',
  's',
  'sec',
  'secs',
  'second',
  'seconds',
  'm',
  'min',
  'mins',
  'minute',
  'minutes',
  'h',
  'hr',
  'hrs',
  'hour',
  'hours',
  'd',
  'day',
  'days',
]);

/**
 * Parses a {@link Duration} into milliseconds (strings with `ms`); throws an
 * InvalidDurationError naming the bad value: not a non-negative number, or a unit beyond days.
 */
export function toMs(duration: Duration): number {
  if (typeof duration === 'number') {
    if (!Number.isFinite(duration) || duration < 0) throw new InvalidDurationError(duration);
    return duration;
  }
  if (typeof duration !== 'string') throw new InvalidDurationError(duration);
  const unit = duration.replace(/^[\d.]+ ?/, '').toLowerCase();
  const value = unit === '' || UNITS.has(unit) ? ms(duration as ms.StringValue) : undefined;
  if (value === undefined || !Number.isFinite(value) || value < 0) throw new InvalidDurationError(duration);
  return Math.round(value);
}

/** Like {@link toMs} but passes `undefined` through. */
export function optionalMs(duration: Duration | undefined): number | undefined {
  return duration === undefined ? undefined : toMs(duration);
}
