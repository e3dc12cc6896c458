import type { Duration } from 'redurable';
import type { LedgerReceipt } from '../ledger/ledger.service.js';

/** Task queue of the transfer workflow and of the bank activities it calls. */
export const TRANSFERS_TASK_QUEUE = 'transfers';

/** Amounts above this need a human approval, unless the input says otherwise. */
export const DEFAULT_APPROVAL_LIMIT = 10_000;

/** How long a transfer waits for its approval before it is refunded, unless the input says otherwise. */
export const DEFAULT_APPROVAL_TIMEOUT: Duration = '1 day';

/** Argument of {@link TransferWorkflow}. */
export interface TransferInput {
  transferId: string;
  from: string;
  to: string;
  amount: number;
  /** Make the deposit fail its first N attempts (a flaky bank). @default 0 */
  failDeposit?: number;
  /** Amounts above it wait for `approve` (or `reject`) after the withdrawal. @default DEFAULT_APPROVAL_LIMIT */
  approvalLimit?: number;
  /** How long to wait for that decision before refunding. @default DEFAULT_APPROVAL_TIMEOUT */
  approvalTimeout?: Duration;
}

/** What a completed transfer returns. */
export interface TransferResult {
  status: 'completed';
  transferId: string;
  from: string;
  to: string;
  amount: number;
  withdrawal: LedgerReceipt;
  deposit: LedgerReceipt;
  /** Who approved it, for an amount above the approval limit. */
  approvedBy?: string;
}

/**
 * Where a transfer is. Running: `withdrawing`, `awaiting-approval` (amount above the limit),
 * `withdrawn` (the durable timer before the deposit), `depositing`, `refunding`. Final:
 * `completed`; `failed` (the withdrawal was refused: no money moved); `refunded` (the deposit
 * failed); `rejected`, `expired` (nobody approved in time), `canceled`: all three refunded;
 * `refund-failed` (the refund itself failed: the workflow ends `compensation_failed`).
 */
export type TransferStage =
  | 'withdrawing'
  | 'awaiting-approval'
  | 'withdrawn'
  | 'depositing'
  | 'refunding'
  | 'completed'
  | 'failed'
  | 'refunded'
  | 'rejected'
  | 'expired'
  | 'canceled'
  | 'refund-failed';

/** What the `stage` query answers. */
export interface TransferProgress {
  stage: TransferStage;
  /** Present when the amount is above the approval limit. */
  approval?: {
    limit: number;
    timeout: Duration;
    status: 'pending' | 'approved' | 'rejected' | 'expired';
    /** Who approved or rejected. */
    by?: string;
  };
}
