/** A duration: milliseconds as a number, or a string such as `'500ms'`, `'30s'`, `'5m'`, `'2h'`, `'3 days'`. */
export type Duration = number | string;

const UNITS: Record<string, number> = {
  ms: 1, millisecond: 1, milliseconds: 1,
  s: 1000, sec: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
};

/** Parses a {@link Duration} into milliseconds; throws a TypeError naming the bad value. */
export function toMs(duration: Duration): number {
  if (typeof duration === 'number') {
    if (!Number.isFinite(duration) || duration < 0) throw new TypeError(`Invalid duration ${duration}: expected a non-negative number of milliseconds`);
    return duration;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(duration);
  const unit = match ? UNITS[(match[2] || 'ms').toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new TypeError(`Invalid duration '${duration}': use milliseconds or a string like '500ms', '30s', '5m', '2h', '3 days'`);
  }
  return Math.round(Number(match[1]) * unit);
}

/** Like {@link toMs} but passes `undefined` through. */
export function optionalMs(duration: Duration | undefined): number | undefined {
  return duration === undefined ? undefined : toMs(duration);
}
