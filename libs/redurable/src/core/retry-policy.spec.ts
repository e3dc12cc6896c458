import { describe, expect, test } from '@jest/globals';
import { toMs, type Duration } from './duration.js';
import { attemptsExhausted, mergeRetryPolicies, resolveRetryPolicy, retryDelayMs } from './retry-policy.js';

describe('retry policy', () => {
  test('delays grow by the coefficient and are capped by maximumInterval', () => {
    const p = resolveRetryPolicy({ initialInterval: '1s', backoffCoefficient: 3, maximumInterval: '20s' });
    expect([1, 2, 3, 4, 5].map((a) => retryDelayMs(p, a))).toEqual([1000, 3000, 9000, 20000, 20000]);
  });

  test('defaults: 1s initial, coefficient 2, max 100x initial, unlimited attempts', () => {
    const p = resolveRetryPolicy();
    expect(p).toEqual({
      initialIntervalMs: 1000,
      backoffCoefficient: 2,
      maximumIntervalMs: 100_000,
      maximumAttempts: 0,
      nonRetryableErrorTypes: [],
    });
    expect(attemptsExhausted(p, 1_000_000)).toBe(false);
  });

  test('maximumAttempts counts the first attempt', () => {
    const p = resolveRetryPolicy({ maximumAttempts: 3 });
    expect([1, 2, 3].map((a) => attemptsExhausted(p, a))).toEqual([false, false, true]);
  });

  test('later policies override earlier ones field by field', () => {
    expect(
      mergeRetryPolicies({ initialInterval: '1s', maximumAttempts: 5 }, undefined, { maximumAttempts: 2 }),
    ).toEqual({ initialInterval: '1s', maximumAttempts: 2 });
  });

  test('invalid values are rejected with a message naming the field', () => {
    expect(() => resolveRetryPolicy({ backoffCoefficient: 0.5 })).toThrow('backoffCoefficient must be >= 1');
    expect(() => resolveRetryPolicy({ maximumAttempts: -1 })).toThrow('maximumAttempts must be a whole number');
  });
});

describe('durations', () => {
  test('parse numbers and unit strings', () => {
    expect([toMs(250), toMs('250ms'), toMs('30s'), toMs('5m'), toMs('2h'), toMs('3 days'), toMs('1.5s')]).toEqual([
      250, 250, 30_000, 300_000, 7_200_000, 259_200_000, 1500,
    ]);
    expect(() => toMs('soon' as Duration)).toThrow("Invalid duration 'soon'");
    expect(() => toMs('3 weeks' as Duration)).toThrow("Invalid duration '3 weeks'");
    expect([toMs('1 Day'), toMs('2H'), toMs('500')]).toEqual([86_400_000, 7_200_000, 500]);
    expect(() => toMs(-1)).toThrow('Invalid duration -1');
  });
});
