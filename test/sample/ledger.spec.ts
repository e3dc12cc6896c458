import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { AccountFrozenError, InsufficientFundsError } from '../../sample-app/ledger/ledger.errors.js';
import { LedgerService } from '../../sample-app/ledger/ledger.service.js';
import { testRedisUrl } from '../support/test-app.js';

let redis: Redis;
let ledger: LedgerService;
const id = () => `l-${randomUUID().slice(0, 12)}`;

beforeAll(() => {
  redis = new Redis(testRedisUrl());
  ledger = new LedgerService(redis);
});

afterAll(async () => {
  await redis.quit();
});

describe('LedgerService', () => {
  test('a debit or credit retried with the same idempotency key moves money once', async () => {
    const a = id();
    await ledger.open(a, 100);
    const first = await ledger.debit(a, 30, 'op-1');
    const again = await ledger.debit(a, 30, 'op-1');
    expect(first).toEqual({ accountId: a, amount: 30, balanceAfter: 70, replayed: false });
    expect(again).toEqual({ accountId: a, amount: 30, balanceAfter: 70, replayed: true });
    await Promise.all([1, 2, 3].map(() => ledger.credit(a, 5, 'op-2')));
    expect((await ledger.get(a)).balance).toBe(75);
  });

  test('a debit larger than the balance fails with InsufficientFundsError and changes nothing', async () => {
    const a = id();
    await ledger.open(a, 10);
    await expect(ledger.debit(a, 11, 'op-x')).rejects.toBeInstanceOf(InsufficientFundsError);
    expect((await ledger.get(a)).balance).toBe(10);
    // the refused key was not consumed: a later attempt with the same key can still succeed
    await ledger.credit(a, 5, 'top-up');
    expect((await ledger.debit(a, 11, 'op-x')).balanceAfter).toBe(4);
  });

  test('a frozen account refuses credits, except refunds', async () => {
    const a = id();
    await ledger.open(a, 0);
    await ledger.setFrozen(a, true);
    await expect(ledger.credit(a, 5, 'dep')).rejects.toBeInstanceOf(AccountFrozenError);
    expect((await ledger.credit(a, 5, 'refund', { allowFrozen: true })).balanceAfter).toBe(5);
  });
});
