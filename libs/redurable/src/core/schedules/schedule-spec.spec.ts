import { describe, expect, test } from '@jest/globals';
import { InvalidScheduleError } from '../errors/schedule.errors.js';
import { checkSpec, fireTimesIn, nextFireTimes } from './schedule-spec.js';

const at = (iso: string) => Date.parse(iso);
const isos = (times: number[]) => times.map((t) => new Date(t).toISOString());

describe('schedule spec math', () => {
  test('a 6-field cron fires on its seconds; fire times are after the cursor and up to now, both ends exact', () => {
    const spec = checkSpec('s', { cron: '*/20 * * * * *' });
    expect(isos(fireTimesIn(spec, at('2030-01-01T00:00:00Z'), at('2030-01-01T00:01:00Z'), 100).times)).toEqual([
      '2030-01-01T00:00:20.000Z',
      '2030-01-01T00:00:40.000Z',
      '2030-01-01T00:01:00.000Z',
    ]);
  });

  test('a cron in a time zone follows its daylight saving time', () => {
    const spec = checkSpec('s', { cron: '0 9 * * *', timezone: 'Europe/Paris' });
    expect(isos(nextFireTimes(spec, at('2026-03-28T00:00:00Z'), 2))).toEqual([
      '2026-03-28T08:00:00.000Z',
      '2026-03-29T07:00:00.000Z',
    ]);
  });

  test('intervals are multiples since the epoch, within startAt and endAt', () => {
    const spec = checkSpec('s', {
      every: '15m',
      startAt: new Date('2030-01-01T00:10:00Z'),
      endAt: new Date('2030-01-01T01:00:00Z'),
    });
    expect(isos(fireTimesIn(spec, 0, at('2030-01-01T05:00:00Z'), 100).times)).toEqual([
      '2030-01-01T00:15:00.000Z',
      '2030-01-01T00:30:00.000Z',
      '2030-01-01T00:45:00.000Z',
      '2030-01-01T01:00:00.000Z',
    ]);
    expect(nextFireTimes(spec, at('2030-01-01T01:00:00Z'), 3)).toEqual([]);
  });

  test('after a long gap only the latest `max` fire times are returned, and `more` says older ones were left out', () => {
    const spec = checkSpec('s', { every: '1s' });
    const { times, more } = fireTimesIn(spec, at('2030-01-01T00:00:00Z'), at('2030-01-01T01:00:00Z'), 3);
    expect([isos(times), more]).toEqual([
      ['2030-01-01T00:59:58.000Z', '2030-01-01T00:59:59.000Z', '2030-01-01T01:00:00.000Z'],
      true,
    ]);
  });

  test('a cron that never fires is refused', () => {
    expect(() => checkSpec('s', { cron: '0 0 31 2 *' })).toThrow(InvalidScheduleError);
  });
});
