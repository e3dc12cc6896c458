import { ApplicationFailure, CancelledFailure, Query, Signal, Update, Workflow, WorkflowRun } from 'redurable';
import { Saga, allHandlersFinished, condition, nonCancellable, sleep } from 'redurable/workflow';
import type { Duration } from 'redurable';
import { BankActivities } from '../bank/bank.activities.js';
import {
  DEFAULT_APPROVAL_LIMIT,
  DEFAULT_APPROVAL_TIMEOUT,
  TRANSFERS_TASK_QUEUE,
  type TransferInput,
  type TransferProgress,
  type TransferResult,
  type TransferStage,
} from './transfer.types.js';

type Approval = NonNullable<TransferProgress['approval']>;

/**
 * Moves money between two accounts: withdraw, a human approval when the amount is above the
 * limit, a short durable timer, deposit. A saga holds the undo: `withdraw` is
 * `compensatedBy: 'refund'`, so the withdrawal is refunded, durably, when the deposit fails for
 * good (frozen account, bank down for all attempts), when the approval is rejected or does not
 * come in time, and when the transfer is cancelled before its deposit. The workflow then fails
 * saying why (or ends `canceled`). If the refund itself could not be done, it ends as
 * `compensation_failed` listing it.
 *
 * Signals `approve(by)` and `reject(by)` decide; the update `changeApprovalLimit(limit)` moves
 * the limit of this running transfer (raised above its amount, the approval is no longer
 * needed); the query `stage` says where the transfer is.
 *
 * The bank's activities are injected: the library gives the constructor a durable proxy of
 * `BankActivities` (each call a recorded step), not the provider itself.
 */
@Workflow({
  taskQueue: TRANSFERS_TASK_QUEUE,
  searchAttributes: { fromAccount: 'keyword', toAccount: 'keyword', amount: 'number' },
})
export class TransferWorkflow {
  private current: TransferStage = 'withdrawing';
  private approval?: Approval;
  private amount = 0;
  private approvalTimeout: Duration = DEFAULT_APPROVAL_TIMEOUT;

  constructor(private readonly bank: BankActivities) {}

  @WorkflowRun()
  async run(input: TransferInput): Promise<TransferResult> {
    const { transferId, from, to, amount } = input;
    this.amount = amount;
    const limit = input.approvalLimit ?? DEFAULT_APPROVAL_LIMIT;
    const timeout = input.approvalTimeout ?? DEFAULT_APPROVAL_TIMEOUT;
    this.approvalTimeout = timeout;
    if (amount > limit) this.approval = { limit, timeout, status: 'pending' };
    const saga = new Saga();
    const bank = saga.proxy(this.bank);

    let withdrawal: TransferResult['withdrawal'];
    try {
      // Shielded: a cancellation must not abandon a withdrawal that may go through, or the
      // money would be gone with no refund registered. The cancellation is seen right after.
      withdrawal = await nonCancellable(() => bank.withdraw({ from, amount, transferId }));
    } catch (err) {
      this.current = 'failed';
      throw ApplicationFailure.nonRetryable(
        `Transfer ${transferId} failed, no money moved: ${reason(err)}`,
        'TransferFailed',
      );
    }

    try {
      if (this.approvalPending()) {
        this.current = 'awaiting-approval';
        const decided = await condition(() => !this.approvalPending(), timeout);
        if (!decided) {
          this.approval!.status = 'expired';
          await this.refund(saga, 'expired');
          throw ApplicationFailure.nonRetryable(
            `Transfer ${transferId} was refunded to ${from}: not approved in time (amount ${amount} is above the approval limit ${this.approval!.limit}; waited ${timeout})`,
            'TransferNotApproved',
          );
        }
        if (this.approval!.status === 'rejected') {
          await this.refund(saga, 'rejected');
          throw ApplicationFailure.nonRetryable(
            `Transfer ${transferId} was refunded to ${from}: rejected by ${this.approval!.by}`,
            'TransferRejected',
          );
        }
      }
      this.current = 'withdrawn';
      await sleep('1s'); // a durable timer: survives restarts, visible in the history
    } catch (err) {
      if (err instanceof CancelledFailure) {
        await this.refund(saga, 'canceled'); // compensations run shielded from the cancellation
        throw err; // ends the workflow as `canceled`
      }
      throw err;
    }

    this.current = 'depositing';
    await condition(allHandlersFinished); // an update still being handled finishes before the deposit
    try {
      // Shielded too: once the deposit is asked for, it is seen through. A cancellation that
      // arrives now is too late: the transfer completes (or is refunded if the deposit fails).
      const deposit = await nonCancellable(() =>
        bank.deposit({ to, amount, transferId, failFirstAttempts: input.failDeposit ?? 0 }),
      );
      this.current = 'completed';
      return {
        status: 'completed',
        transferId,
        from,
        to,
        amount,
        withdrawal,
        deposit,
        ...(this.approval?.by ? { approvedBy: this.approval.by } : {}),
      };
    } catch (err) {
      await this.refund(saga, 'refunded'); // refund(from, amount), marked as a compensation in the history
      throw ApplicationFailure.nonRetryable(
        `Transfer ${transferId} was refunded to ${from}: deposit to ${to} failed: ${reason(err)}`,
        'TransferRefunded',
      );
    }
  }

  /** Approves a transfer above the limit (the first decision counts; ignored once it no longer matters). */
  @Signal()
  approve(by: string): void {
    this.decide('approved', by);
  }

  /** Rejects a transfer above the limit: it is refunded. */
  @Signal()
  reject(by: string): void {
    this.decide('rejected', by);
  }

  /**
   * Moves the approval limit of this transfer while it has not passed its approval: raised to
   * the amount or above, a pending approval is no longer needed (the transfer goes on); lowered
   * below the amount before the withdrawal is done, the transfer will wait for one. Refused
   * (nothing recorded) once the approval is decided or behind it. Returns where it now stands.
   */
  @Update({
    validator(this: TransferWorkflow, limit: number) {
      if (!Number.isInteger(limit) || limit <= 0)
        throw new Error(`the approval limit must be a positive whole amount (got ${limit})`);
      if (this.current !== 'withdrawing' && this.current !== 'awaiting-approval')
        throw new Error(`the transfer is ${this.current}: its approval limit can no longer change`);
      if (this.approval && this.approval.status !== 'pending')
        throw new Error(`the transfer was already ${this.approval.status}`);
    },
  })
  async changeApprovalLimit(limit: number): Promise<TransferProgress> {
    if (this.approval) {
      this.approval.limit = limit;
      if (this.amount <= limit) {
        this.approval.status = 'approved';
        this.approval.by = `approval limit raised to ${limit}`;
      }
    } else if (this.amount > limit) {
      this.approval = { limit, timeout: this.approvalTimeout, status: 'pending' };
    }
    return this.stage();
  }

  /** Where the transfer is, and its approval when it needs one. */
  @Query()
  stage(): TransferProgress {
    return { stage: this.current, ...(this.approval ? { approval: { ...this.approval } } : {}) };
  }

  /** Not a getter: TypeScript would keep a narrowed status across the awaits that change it. */
  private approvalPending(): boolean {
    return this.approval?.status === 'pending';
  }

  private decide(status: 'approved' | 'rejected', by: string): void {
    if (this.approval?.status !== 'pending') return;
    if (this.current !== 'withdrawing' && this.current !== 'awaiting-approval') return;
    this.approval.status = status;
    this.approval.by = String(by);
  }

  private async refund(saga: Saga, then: TransferStage): Promise<void> {
    this.current = 'refunding';
    try {
      await saga.compensate();
    } catch (err) {
      this.current = 'refund-failed';
      throw err;
    }
    this.current = then;
  }
}

/** The innermost message of a failure chain (an ActivityFailure wraps the activity's own error). */
function reason(err: unknown): string {
  let e = err as Error | undefined;
  while (e?.cause instanceof Error) e = e.cause;
  return e?.message ?? String(err);
}
