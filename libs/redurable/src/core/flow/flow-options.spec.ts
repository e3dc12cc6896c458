import { describe, expect, test } from '@jest/globals';
import { InvalidArgumentError, InvalidOptionsError } from '../errors/library.errors.js';
import { checkConcurrency, checkRate, flowKeyOf, FlowLimitCatalog } from './flow-options.js';

const WHERE = '@Activity of PaymentActivities.charge';

describe('flow limit options', () => {
  test('a valid limit resolves its name (the type by default) and period', () => {
    const key = (o: { account: string }) => o.account;
    expect(checkConcurrency({ limit: 2, key }, WHERE, 'charge')).toEqual({ name: 'charge', limit: 2, key });
    expect(checkRate({ limit: 100, period: '1s', name: 'partner-api' }, WHERE, 'charge')).toEqual({
      name: 'partner-api',
      limit: 100,
      periodMs: 1000,
    });
  });

  test.each([
    [{ limit: 0 }, 'concurrency.limit must be an integer ≥ 1 (got 0)'],
    [{ limit: 1.5 }, 'concurrency.limit must be an integer ≥ 1 (got 1.5)'],
    [{ limit: '3' }, "concurrency.limit must be an integer ≥ 1 (got '3')"],
    [{ limit: 2, key: 'tenantId' }, "concurrency.key must be a function of the call's arguments"],
    [{ limit: 2, limt: 3 }, 'concurrency.limt is not an option (concurrency takes limit, key, name)'],
    [{ limit: 2, name: '' }, 'concurrency.name must be a non-empty string'],
    [5, 'concurrency must be an object such as { limit: 5 } (got 5)'],
  ])('concurrency %j is refused, naming the class, method and option', (value, message) => {
    expect(() => checkConcurrency(value, WHERE, 'charge')).toThrow(InvalidOptionsError);
    expect(() => checkConcurrency(value, WHERE, 'charge')).toThrow(`${WHERE}: ${message}`);
  });

  test.each([
    [{ limit: 10 }, 'rateLimit.period must be a duration above zero'],
    [{ limit: 10, period: 0 }, 'rateLimit.period must be a duration above zero'],
    [{ limit: 10, period: '1 fortnight' }, "(got '1 fortnight')"],
    [{ limit: 0, period: '1s' }, 'rateLimit.limit must be an integer ≥ 1 (got 0)'],
    [{ limit: 1, period: '1s', burst: 2 }, 'rateLimit.burst is not an option'],
  ])('rate limit %j is refused', (value, message) => {
    expect(() => checkRate(value, WHERE, 'charge')).toThrow(InvalidOptionsError);
    expect(() => checkRate(value, WHERE, 'charge')).toThrow(message);
  });

  test('one name declared twice must agree on its limit', () => {
    const catalog = new FlowLimitCatalog();
    catalog.declare('concurrency', { name: 'partner', limit: 2 }, '@Activity of A.x');
    catalog.declare('concurrency', { name: 'partner', limit: 2 }, '@Activity of A.y');
    catalog.declare('rateLimit', { name: 'partner', limit: 5, periodMs: 1000 }, '@Activity of A.y');
    expect(() => catalog.declare('concurrency', { name: 'partner', limit: 3 }, '@Activity of B.z')).toThrow(
      "@Activity of B.z: concurrency 'partner' is declared with limit 3, but @Activity of A.x declares the same name with limit 2",
    );
    expect(() =>
      catalog.declare('rateLimit', { name: 'partner', limit: 5, periodMs: 2000 }, '@Activity of B.z'),
    ).toThrow(InvalidOptionsError);
  });
});

describe('flow keys', () => {
  const limit = { name: 'charge', key: (o: { account?: unknown }) => o.account as string };

  test('the key function gives the key; no key function, one key for every call', () => {
    expect(flowKeyOf(limit, [{ account: 'acct-1' }], "Activity 'charge'")).toBe('acct-1');
    expect(flowKeyOf({ name: 'charge' }, [{ account: 'acct-1' }], "Activity 'charge'")).toBe('');
  });

  test.each([
    [{ account: 42 }, 'returned 42; it must return a non-empty string of at most 256 characters'],
    [{ account: '' }, "returned ''"],
    [{ account: 'x'.repeat(257) }, 'returned a string of 257 characters'],
    [{}, 'returned undefined'],
  ])('a key function returning %j is refused with a typed error', (arg, message) => {
    expect(() => flowKeyOf(limit, [arg], "Activity 'charge'")).toThrow(InvalidArgumentError);
    expect(() => flowKeyOf(limit, [arg], "Activity 'charge'")).toThrow(
      `Activity 'charge': the key function of limit 'charge' ${message}`,
    );
  });

  test('a key function that throws is refused with what it threw', () => {
    const throwing = { name: 'charge', key: () => JSON.parse('{') as string };
    expect(() => flowKeyOf(throwing, [], "Activity 'charge'")).toThrow(
      /^Activity 'charge': the key function of limit 'charge' threw: .*JSON.*; nothing was recorded$/,
    );
  });
});
