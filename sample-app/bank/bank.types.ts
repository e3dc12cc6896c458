/** Input of `withdraw` and `refund`: money leaves (or returns to) `from`. */
export interface WithdrawInput {
  from: string;
  amount: number;
  transferId: string;
}

/** Input of `deposit`. `failFirstAttempts` simulates a flaky bank: that many attempts fail before one succeeds. */
export interface DepositInput {
  to: string;
  amount: number;
  transferId: string;
  failFirstAttempts?: number;
}
