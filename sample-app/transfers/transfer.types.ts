import type { LedgerReceipt } from '../ledger/ledger.service.js';

/** Task queue of the transfer workflow and of the bank activities it calls. */
export const TRANSFERS_TASK_QUEUE = 'transfers';

/** Argument of {@link TransferWorkflow}. */
export interface TransferInput {
  transferId: string;
  from: string;
  to: string;
  amount: number;
  /** Make the deposit fail its first N attempts (a flaky bank). @default 0 */
  failDeposit?: number;
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
}
