// What the money-transfer guide's blocks use from sample-app/: the ledger's API, its errors and the
// transfer's types (condensed from sample-app/ledger/ and sample-app/transfers/transfer.types.ts).
import { Injectable } from '@nestjs/common';
import {
  Activities,
  Activity,
  ApplicationFailure,
  Query,
  Signal,
  Workflow,
  WorkflowRun,
  activityContext,
  type Duration,
  type RetryPolicy,
} from 'redurable';
import { Saga, condition, nonCancellable, sleep } from 'redurable/workflow';

/** What a debit or a credit returns; `replayed` when the idempotency key was already applied. */
export interface LedgerReceipt {
  accountId: string;
  amount: number;
  balanceAfter: number;
  replayed: boolean;
}

/** Balances in Redis; each debit and credit is a Lua script, applied once per idempotency key. */
export declare class LedgerService {
  debit(id: string, amount: number, idempotencyKey: string): Promise<LedgerReceipt>;
  credit(
    id: string,
    amount: number,
    idempotencyKey: string,
    options?: { allowFrozen?: boolean },
  ): Promise<LedgerReceipt>;
}

export declare class InsufficientFundsError extends Error {}
export declare class AccountFrozenError extends Error {}

export interface WithdrawInput {
  from: string;
  amount: number;
  transferId: string;
}

export interface DepositInput {
  to: string;
  amount: number;
  transferId: string;
  failFirstAttempts?: number;
}

export interface TransferInput {
  transferId: string;
  from: string;
  to: string;
  amount: number;
  failDeposit?: number;
  approvalLimit: number;
  approvalTimeout: Duration;
}

export interface TransferResult {
  status: 'completed';
  transferId: string;
  withdrawal: LedgerReceipt;
  deposit: LedgerReceipt;
}

/** The innermost message of a failure chain (an ActivityFailure wraps the activity's own error). */
export function reason(err: unknown): string {
  let e = err as Error | undefined;
  while (e?.cause instanceof Error) e = e.cause;
  return e?.message ?? String(err);
}
