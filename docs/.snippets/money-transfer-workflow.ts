// What the money-transfer guide's workflow block uses: the bank's activities (the class the guide
// shows just before it) and the transfer's types, condensed from sample-app/.
import { ApplicationFailure, Query, Signal, Workflow, WorkflowRun, type Duration } from 'redurable';
import { Saga, condition, nonCancellable, sleep } from 'redurable/workflow';

export interface LedgerReceipt {
  accountId: string;
  amount: number;
  balanceAfter: number;
  replayed: boolean;
}

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

/** sample-app/bank/bank.activities.ts: withdraw (compensatedBy: 'refund'), deposit, refund. */
export declare class BankActivities {
  withdraw(input: WithdrawInput): Promise<LedgerReceipt>;
  deposit(input: DepositInput): Promise<LedgerReceipt>;
  refund(input: WithdrawInput): Promise<LedgerReceipt>;
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
