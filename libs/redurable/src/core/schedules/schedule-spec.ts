import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { toMs, type Duration } from '../duration.js';
import { InvalidDurationError } from '../errors/library.errors.js';
import { InvalidScheduleError } from '../errors/schedule.errors.js';
import type { ScheduleSpec } from './schedule-options.js';

/** A spec as stored: times in ms, the interval in ms. */
export interface StoredSpec {
  cron?: string;
  timezone?: string;
  everyMs?: number;
  startAt?: number;
  endAt?: number;
}

/** The shortest interval: a schedule is not a busy loop. */
const MIN_EVERY_MS = 1000;
const FIELDS_5 = ['minute', 'hour', 'day of month', 'month', 'day of week'];
const FIELDS_6 = ['second', ...FIELDS_5];

/** Checks a spec (throws InvalidScheduleError naming the problem) and returns its stored form. */
export function checkSpec(scheduleId: string, spec: ScheduleSpec | undefined): StoredSpec {
  const bad = (problem: string) => new InvalidScheduleError(scheduleId, problem);
  if (!spec || typeof spec !== 'object') throw bad('spec is missing: give { cron } or { every }');
  const startAt = dateMs(spec.startAt, 'startAt', bad);
  const endAt = dateMs(spec.endAt, 'endAt', bad);
  if (startAt !== undefined && endAt !== undefined && endAt <= startAt) {
    throw bad(`endAt (${new Date(endAt).toISOString()}) is not after startAt (${new Date(startAt).toISOString()})`);
  }
  const hasCron = spec.cron !== undefined;
  const hasEvery = spec.every !== undefined;
  if (hasCron === hasEvery) throw bad('give exactly one of spec.cron and spec.every');
  if (hasEvery) {
    let everyMs: number;
    try {
      everyMs = toMs(spec.every as Duration);
    } catch (err) {
      if (err instanceof InvalidDurationError) throw bad(`spec.every: ${err.message}`);
      throw err;
    }
    if (everyMs < MIN_EVERY_MS) throw bad(`spec.every is ${everyMs} ms: use at least 1 second`);
    return { everyMs, startAt, endAt };
  }
  const timezone = spec.timezone;
  if (timezone !== undefined) checkTimezone(timezone, bad);
  checkCron(String(spec.cron), bad);
  return { cron: String(spec.cron).trim(), timezone, startAt, endAt };
}

function dateMs(value: unknown, name: string, bad: (p: string) => Error): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : NaN;
  if (!Number.isFinite(ms)) throw bad(`spec.${name} is not a valid Date`);
  return ms;
}

function checkTimezone(timezone: string, bad: (p: string) => Error): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw bad(`unknown time zone '${timezone}': use an IANA name such as 'Europe/Paris' or 'UTC'`);
  }
}

/** A cron with the wrong field count, or a bad field: the message names the field. */
function checkCron(cron: string, bad: (p: string) => Error): void {
  const fields = cron.trim().split(/\s+/);
  if (cron.trim().startsWith('@')) {
    try {
      CronExpressionParser.parse(cron.trim());
      return;
    } catch (err) {
      throw bad(`cron '${cron}': ${(err as Error).message}`);
    }
  }
  if (fields.length !== 5 && fields.length !== 6) {
    throw bad(
      `cron '${cron}' has ${fields.length} fields: use 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)`,
    );
  }
  const names = fields.length === 6 ? FIELDS_6 : FIELDS_5;
  // Each field alone (the others '*') finds the one at fault; then the whole, for combinations.
  fields.forEach((field, i) => {
    const probe = fields.map((f, j) => (j === i ? f : '*')).join(' ');
    try {
      CronExpressionParser.parse(probe);
    } catch (err) {
      throw bad(`cron '${cron}': the ${names[i]} field '${field}' is invalid (${(err as Error).message})`);
    }
  });
  try {
    CronExpressionParser.parse(cron).next();
  } catch (err) {
    throw bad(`cron '${cron}' never fires (${(err as Error).message})`);
  }
}

function parse(spec: StoredSpec, at: number): CronExpression {
  return CronExpressionParser.parse(spec.cron!, { currentDate: new Date(at), tz: spec.timezone });
}

/**
 * Fire times `t` of the spec with `after < t <= upTo`, ascending, at most the `max` latest;
 * `more` tells that older ones were left out.
 */
export function fireTimesIn(
  spec: StoredSpec,
  after: number,
  upTo: number,
  max: number,
): { times: number[]; more: boolean } {
  const lo = Math.max(after, (spec.startAt ?? -Infinity) - 1);
  const hi = Math.min(upTo, spec.endAt ?? Infinity);
  const times: number[] = [];
  if (hi <= lo) return { times, more: false };
  if (spec.everyMs !== undefined) {
    const every = spec.everyMs;
    for (let t = Math.floor(hi / every) * every; t > lo; t -= every) {
      if (times.length === max) return { times: times.reverse(), more: true };
      times.push(t);
    }
    return { times: times.reverse(), more: false };
  }
  const cron = parse(spec, hi + 1); // prev() is strictly before its start: +1 keeps `hi` itself
  for (;;) {
    let t: number;
    try {
      t = cron.prev().getTime();
    } catch {
      break; // out of the expression's range
    }
    if (t <= lo) break;
    if (times.length === max) return { times: times.reverse(), more: true };
    times.push(t);
  }
  return { times: times.reverse(), more: false };
}

/** The next `n` fire times strictly after `after`. */
export function nextFireTimes(spec: StoredSpec, after: number, n: number): number[] {
  const out: number[] = [];
  let from = Math.max(after, (spec.startAt ?? -Infinity) - 1);
  if (spec.everyMs !== undefined) {
    for (let t = Math.floor(from / spec.everyMs) * spec.everyMs + spec.everyMs; out.length < n; t += spec.everyMs) {
      if (spec.endAt !== undefined && t > spec.endAt) break;
      out.push(t);
    }
    return out;
  }
  const cron = parse(spec, from);
  while (out.length < n) {
    try {
      from = cron.next().getTime();
    } catch {
      break;
    }
    if (spec.endAt !== undefined && from > spec.endAt) break;
    out.push(from);
  }
  return out;
}

/** The spec as the public API shows it. */
export function publicSpec(spec: StoredSpec): {
  cron?: string;
  timezone?: string;
  everyMs?: number;
  startAt?: Date;
  endAt?: Date;
} {
  return {
    ...(spec.cron !== undefined ? { cron: spec.cron } : {}),
    ...(spec.timezone !== undefined ? { timezone: spec.timezone } : {}),
    ...(spec.everyMs !== undefined ? { everyMs: spec.everyMs } : {}),
    ...(spec.startAt !== undefined ? { startAt: new Date(spec.startAt) } : {}),
    ...(spec.endAt !== undefined ? { endAt: new Date(spec.endAt) } : {}),
  };
}
