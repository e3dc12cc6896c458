import { Injectable } from '@nestjs/common';
import { Activities, Activity, ApplicationFailure, activityContext, type RetryPolicy } from 'redurable';
import { AccountFrozenError, AccountNotFoundError, InsufficientFundsError } from '../ledger/ledger.errors.js';
import { LedgerService, type LedgerReceipt } from '../ledger/ledger.service.js';
import type { DepositInput, WithdrawInput } from './bank.types.js';

/** Retries of every bank call: 200ms, 400ms, 800ms, 1.6s, then the call fails for good. */
export const BANK_RETRY: RetryPolicy = { initialInterval: '200ms', backoffCoefficient: 2, maximumAttempts: 5 };

/**
 * The bank as seen from workflows. Each method is an activity: a BullMQ job, retried per
 * {@link BANK_RETRY}, and idempotent through `activityContext().idempotencyKey`, so a retried
 * attempt never moves money twice. Business refusals are non-retryable failures.
 */
@Injectable()
@Activities()
export class BankActivities {
  constructor(private readonly ledger: LedgerService) {}

  /** Takes the money from the source account. Fails for good with `InsufficientFunds`. Undone by `refund`. */
  @Activity({ retry: BANK_RETRY, startToCloseTimeout: '10s', compensatedBy: 'refund' })
  async withdraw(input: WithdrawInput): Promise<LedgerReceipt> {
    return asFailure(() => this.ledger.debit(input.from, input.amount, activityContext().idempotencyKey));
  }

  /** Puts the money in the destination account. Fails for good with `AccountFrozen`. */
  @Activity({ retry: BANK_RETRY, startToCloseTimeout: '10s' })
  async deposit(input: DepositInput): Promise<LedgerReceipt> {
    const { attempt, idempotencyKey } = activityContext();
    if (attempt <= (input.failFirstAttempts ?? 0)) {
      throw ApplicationFailure.retryable(
        `the bank of account ${input.to} is unavailable (simulated outage, attempt ${attempt})`,
        'BankUnavailable',
      );
    }
    return asFailure(() => this.ledger.credit(input.to, input.amount, idempotencyKey));
  }

  /** Gives a withdrawal back to the source account (allowed even when that account is frozen); retried until it succeeds. */
  @Activity({ retry: { ...BANK_RETRY, maximumAttempts: 0 }, startToCloseTimeout: '10s' })
  async refund(input: WithdrawInput): Promise<LedgerReceipt> {
    return asFailure(() =>
      this.ledger.credit(input.from, input.amount, activityContext().idempotencyKey, { allowFrozen: true }),
    );
  }
}

/** Turns the ledger's business errors into non-retryable failures; anything else is retried. */
async function asFailure<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof InsufficientFundsError) throw ApplicationFailure.nonRetryable(err.message, 'InsufficientFunds');
    if (err instanceof AccountFrozenError) throw ApplicationFailure.nonRetryable(err.message, 'AccountFrozen');
    if (err instanceof AccountNotFoundError) throw ApplicationFailure.nonRetryable(err.message, 'AccountNotFound');
    throw err;
  }
}
